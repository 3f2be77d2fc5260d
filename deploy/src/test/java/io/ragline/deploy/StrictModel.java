package io.ragline.deploy;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collection;
import java.util.Map;

/**
 * fabric8's model classes take any field they do not know into {@code additionalProperties}
 * instead of refusing it: a misspelt {@code readinesProbe} would parse. This walks the parsed
 * object graph and fails on the first non-empty {@code additionalProperties}, naming its path.
 */
final class StrictModel {
    private static final String MODEL_PACKAGE = "io.fabric8.kubernetes.api.model";

    private StrictModel() {}

    static void requireKnownFields(Object object, String path) {
        if (object == null) {
            return;
        }
        if (object instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                requireKnownFields(item, path + "[" + i++ + "]");
            }
            return;
        }
        if (object instanceof Map<?, ?> map) {
            map.forEach((k, v) -> requireKnownFields(v, path + "." + k));
            return;
        }
        if (!object.getClass().getName().startsWith(MODEL_PACKAGE)) {
            return; // a String, a number, a boolean
        }
        for (Class<?> c = object.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                Object value = read(f, object);
                if (f.getName().equals("additionalProperties")) {
                    if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                        throw new AssertionError(
                                path + " has fields the Kubernetes model does not know: " + extra.keySet());
                    }
                } else {
                    requireKnownFields(value, path + "." + f.getName());
                }
            }
        }
    }

    private static Object read(Field f, Object object) {
        try {
            f.setAccessible(true);
            return f.get(object);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read " + f, e);
        }
    }
}
