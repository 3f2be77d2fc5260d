package io.ragline.ingest.webhook;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/** Request headers for verifier tests: case-insensitive names, as HTTP has them. */
final class Headers {
    private Headers() {}

    static Function<String, String> of(String... namesAndValues) {
        Map<String, String> map = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return map::get;
    }
}
