package io.ragline.console.api;

/** A client's value inside a message: quoted and cut short, so an answer cannot be made huge by it. */
final class Quote {
    private static final int MAX = 80;

    private Quote() {}

    static String of(String value) {
        String shown = value.length() <= MAX ? value : value.substring(0, MAX) + "...";
        return '"' + shown.replace("\"", "\\\"") + '"';
    }
}
