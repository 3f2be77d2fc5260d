package io.ragline.benchmarks.corpus;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The man-page corpus: this machine's manual pages rendered as plain text, the way the issue 17
 * research measured it ({@code MANWIDTH=80 man -P cat PAGE | col -bx}, in the C.UTF-8 locale).
 * The page list is pinned, so the same machine gives the same corpus: the {@value #PAGE_COUNT}
 * pages come to about 500,000 characters. Document id and title are the page name.
 *
 * <p>Only a benchmark run needs {@code man}; tests build their corpora otherwise.
 */
public final class ManPages {
    /** The pinned pages, in the order they are taken: the first {@code n} make a smaller corpus. */
    public static final List<String> PAGES = List.of(
            "CA.pl",
            "[",
            "add-apt-repository",
            "addr2line",
            "amdgpu_plugin",
            "apropos",
            "apt-add-repository",
            "apt-transport-http",
            "apt-transport-https",
            "apt-transport-mirror",
            "apt",
            "asn1parse",
            "b2sum",
            "base64",
            "basename",
            "basenc",
            "bugpoint-14",
            "bugpoint",
            "bzless",
            "bzmore",
            "c++filt",
            "c_rehash",
            "ca",
            "callgrind_annotate",
            "callgrind_control",
            "captoinfo",
            "cat",
            "cg_annotate",
            "chage",
            "chcon",
            "chfn",
            "chgrp",
            "chmod",
            "choom",
            "chown",
            "chrt",
            "ciphers",
            "cksum",
            "clear",
            "clusterdb",
            "cmp",
            "cms",
            "col",
            "column",
            "comm",
            "compel",
            "corelist",
            "cp",
            "createdb",
            "createuser",
            "crl",
            "crl2pkcs7",
            "csplit",
            "cut",
            "date",
            "dbus-monitor",
            "dbus-run-session",
            "dbus-send",
            "dbus-update-activation-environment",
            "dbus-uuidgen",
            "dd",
            "deb-systemd-helper",
            "debconf-apt-progress",
            "df",
            "diff",
            "dirname",
            "du",
            "echo",
            "env",
            "expr",
            "fmt",
            "free",
            "groupadd",
            "head",
            "hostname",
            "iconv",
            "id",
            "info",
            "install",
            "join",
            "kill",
            "last",
            "ln",
            "locale",
            "ls",
            "md5sum",
            "mkdir",
            "mkfs",
            "mktemp",
            "mv",
            "nice",
            "nl",
            "nohup",
            "od",
            "passwd",
            "paste",
            "printf",
            "readlink",
            "realpath",
            "rm",
            "seq",
            "sha256sum",
            "shuf",
            "sort",
            "split",
            "stat",
            "strings",
            "su",
            "sync",
            "tail",
            "tee",
            "test",
            "timeout",
            "touch",
            "tr",
            "uname",
            "uniq",
            "w",
            "wc",
            "who");

    public static final int PAGE_COUNT = 120;

    /** What {@code man} and {@code col} run with: fixed width and locale, no user options. */
    private static final Map<String, String> RENDERING = Map.of("MANWIDTH", "80", "LC_ALL", "C.UTF-8");

    private ManPages() {}

    /** Every pinned page. */
    public static List<CorpusDocument> build() throws IOException, InterruptedException {
        return build(PAGE_COUNT);
    }

    /**
     * The first {@code count} pinned pages, rendered. Fails once, naming every page this machine
     * does not have (or {@code man} itself if it is missing).
     */
    public static List<CorpusDocument> build(int count) throws IOException, InterruptedException {
        if (count < 1 || count > PAGES.size()) {
            throw new IllegalArgumentException("the man-page corpus has 1 to " + PAGES.size() + " pages, not " + count);
        }
        return build(PAGES.subList(0, count));
    }

    static List<CorpusDocument> build(List<String> pages) throws IOException, InterruptedException {
        List<CorpusDocument> out = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String page : pages) {
            String text = render(page);
            if (text == null) {
                missing.add(page);
            } else {
                out.add(new CorpusDocument(page, page, text));
            }
        }
        if (!missing.isEmpty()) {
            throw new IOException("the man-page corpus needs these pages, which `man` does not find on this machine: "
                    + String.join(", ", missing) + " (install their packages, or give the benchmark a corpus file)");
        }
        return out;
    }

    /** {@code MANWIDTH=80 man -P cat PAGE | col -bx}, or null when man has no such page. */
    private static String render(String page) throws IOException, InterruptedException {
        return render(List.of(page));
    }

    /**
     * {@code MANWIDTH=80 man -P cat WHICH... | col -bx} ({@code WHICH}: a page, or a section and a
     * page), or null when man has no such page.
     */
    static String render(List<String> which) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("man", "-P", "cat"));
        command.addAll(which);
        ProcessBuilder man = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        ProcessBuilder col = new ProcessBuilder("col", "-bx").redirectError(ProcessBuilder.Redirect.DISCARD);
        for (ProcessBuilder pb : List.of(man, col)) {
            pb.environment().remove("MANOPT");
            pb.environment().remove("MAN_KEEP_FORMATTING");
            pb.environment().putAll(RENDERING);
        }
        List<Process> pipeline;
        try {
            pipeline = ProcessBuilder.startPipeline(List.of(man, col));
        } catch (IOException e) {
            throw new IOException("the man-page corpus needs `man` and `col` on the PATH: " + e.getMessage(), e);
        }
        CompletableFuture<String> text =
                CompletableFuture.supplyAsync(() -> readAll(pipeline.get(1).getInputStream()));
        int manExit = pipeline.get(0).waitFor();
        int colExit = pipeline.get(1).waitFor();
        String rendered = text.join();
        if (manExit != 0 || colExit != 0 || rendered.isBlank()) {
            return null;
        }
        return rendered;
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
