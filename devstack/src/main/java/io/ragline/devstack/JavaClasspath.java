package io.ragline.devstack;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * The class path of this JVM as real entries, so a child JVM can be started with it. A
 * manifest-only jar (as Maven Surefire and Failsafe use) is expanded to the entries it names.
 */
public final class JavaClasspath {
    private JavaClasspath() {}

    public static String current() {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            List<String> expanded = manifestClassPath(Path.of(entry));
            if (expanded.isEmpty()) {
                entries.add(entry);
            } else {
                entries.addAll(expanded);
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static List<String> manifestClassPath(Path jar) {
        if (!jar.toString().endsWith(".jar") || !jar.toFile().isFile()) {
            return List.of();
        }
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            String classPath =
                    manifest == null ? null : manifest.getMainAttributes().getValue("Class-Path");
            if (classPath == null || classPath.isBlank()) {
                return List.of();
            }
            List<String> entries = new ArrayList<>();
            for (String ref : classPath.trim().split("\\s+")) {
                URI uri = ref.contains(":")
                        ? URI.create(ref)
                        : jar.getParent().toUri().resolve(ref);
                entries.add(Path.of(uri).toString());
            }
            // A jar that is only a manifest stands for its entries; a real jar stays too.
            if (file.stream().anyMatch(e -> e.getName().endsWith(".class"))) {
                entries.add(0, jar.toString());
            }
            return entries;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read manifest of " + jar, e);
        }
    }
}
