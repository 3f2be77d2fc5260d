package io.ragline.training;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A labelled corpus of real documents read at run time: the distribution's package descriptions
 * ({@code apt-cache dumpavail}) labelled by their {@code Section}. For each section asked for,
 * {@code perSection} packages spread evenly over the alphabet, deterministic for a given archive.
 */
record PackageCorpus(List<Package> packages) {
    record Package(String name, String section, String description) {}

    static PackageCorpus read(List<String> sections, int perSection) throws Exception {
        Process p = new ProcessBuilder("apt-cache", "dumpavail")
                .redirectErrorStream(false)
                .start();
        Map<String, TreeMap<String, String>> bySection = new LinkedHashMap<>();
        sections.forEach(s -> bySection.put(s, new TreeMap<>()));
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String name = null;
            String section = null;
            String description = null;
            for (String line = in.readLine(); ; line = in.readLine()) {
                if (line == null || line.isEmpty()) {
                    if (name != null && section != null && description != null && bySection.containsKey(section)) {
                        bySection.get(section).putIfAbsent(name, description);
                    }
                    name = section = description = null;
                    if (line == null) {
                        break;
                    }
                } else if (line.startsWith("Package: ")) {
                    name = line.substring(9).strip();
                } else if (line.startsWith("Section: ")) {
                    section = line.substring(9).strip();
                } else if (line.startsWith("Description: ")) {
                    description = line.substring(13).strip();
                }
            }
        }
        p.waitFor();
        List<Package> out = new ArrayList<>();
        for (Map.Entry<String, TreeMap<String, String>> e : bySection.entrySet()) {
            List<Map.Entry<String, String>> all = new ArrayList<>(e.getValue().entrySet());
            if (all.size() < perSection) {
                throw new IllegalStateException("section " + e.getKey() + " has only " + all.size() + " packages");
            }
            double step = (double) all.size() / perSection;
            for (int i = 0; i < perSection; i++) {
                Map.Entry<String, String> pkg = all.get((int) (i * step));
                out.add(new Package(pkg.getKey(), e.getKey(), pkg.getValue()));
            }
        }
        out.sort(Comparator.comparing(Package::name));
        return new PackageCorpus(out);
    }
}
