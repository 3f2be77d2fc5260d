package io.ragline.ingest.routing;

import java.util.regex.Pattern;

/**
 * A glob over a source or an event type: {@code *} matches any run of characters (also none, also
 * {@code .} and {@code /}), {@code ?} exactly one, anything else itself (case-sensitive).
 */
record Glob(String text, Pattern pattern) {
    static final Glob ANY = of("*");

    static Glob of(String text) {
        StringBuilder regex = new StringBuilder();
        StringBuilder literal = new StringBuilder();
        for (char ch : text.toCharArray()) {
            if (ch == '*' || ch == '?') {
                if (!literal.isEmpty()) {
                    regex.append(Pattern.quote(literal.toString()));
                    literal.setLength(0);
                }
                regex.append(ch == '*' ? ".*" : ".");
            } else {
                literal.append(ch);
            }
        }
        if (!literal.isEmpty()) {
            regex.append(Pattern.quote(literal.toString()));
        }
        return new Glob(text, Pattern.compile(regex.toString(), Pattern.DOTALL));
    }

    boolean matches(String value) {
        return pattern.matcher(value).matches();
    }

    @Override
    public String toString() {
        return text;
    }
}
