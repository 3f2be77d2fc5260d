package io.ragline.distribution;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read as Docker reads the instructions Ragline's uses: comment lines (also between
 * continued lines), lines continued with a trailing backslash, {@code --flag=value} options of an
 * instruction, exec form (a JSON array of strings) versus shell form, {@code KEY=value} pairs with
 * double quotes, and stages ({@code FROM image [AS name]}). Variables are not substituted.
 */
record Dockerfile(List<Dockerfile.Stage> stages) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern FLAG = Pattern.compile("^--([a-z-]+)=(\\S*)\\s*");
    private static final Pattern PAIR = Pattern.compile("([A-Za-z0-9_.-]+)=(\"(?:[^\"\\\\]|\\\\.)*\"|\\S*)\\s*");

    record Stage(String base, String name, List<Instruction> instructions) {
        List<Instruction> all(String keyword) {
            return instructions.stream()
                    .filter(i -> i.keyword().equals(keyword))
                    .toList();
        }

        /** The last one: Docker applies only the last ENTRYPOINT, CMD, USER, HEALTHCHECK. */
        Optional<Instruction> last(String keyword) {
            List<Instruction> all = all(keyword);
            return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
        }
    }

    /** One instruction: its keyword in capitals, its flags, the rest of its text, its first line. */
    record Instruction(String keyword, Map<String, String> flags, String arguments, int line) {
        /** The JSON array of the exec form; empty for the shell form. */
        Optional<List<String>> exec() {
            return exec(arguments);
        }

        static Optional<List<String>> exec(String text) {
            if (!text.startsWith("[")) {
                return Optional.empty();
            }
            try {
                JsonNode array = JSON.readTree(text);
                List<String> words = new ArrayList<>();
                for (JsonNode word : array) {
                    if (!word.isTextual()) {
                        return Optional.empty();
                    }
                    words.add(word.asText());
                }
                return array.isArray() ? Optional.of(words) : Optional.empty();
            } catch (JsonProcessingException e) {
                return Optional.empty(); // Docker runs an invalid array in shell form
            }
        }

        /** {@code KEY=value} pairs (LABEL, ENV, ARG), double quotes removed. */
        Map<String, String> pairs() {
            Map<String, String> pairs = new LinkedHashMap<>();
            Matcher m = PAIR.matcher(arguments);
            int at = 0;
            while (at < arguments.length() && m.find(at) && m.start() == at) {
                String value = m.group(2);
                if (value.startsWith("\"")) {
                    value = value.substring(1, value.length() - 1).replaceAll("\\\\(.)", "$1");
                }
                pairs.put(m.group(1), value);
                at = m.end();
            }
            if (at != arguments.length()) {
                throw new IllegalArgumentException(
                        "line " + line + ": not KEY=value pairs from '" + arguments.substring(at) + "'");
            }
            return pairs;
        }

        /** HEALTHCHECK's command: the exec form after {@code CMD}. */
        Optional<List<String>> healthcheckExec() {
            return arguments.startsWith("CMD ") ? exec(arguments.substring(4).strip()) : Optional.empty();
        }
    }

    Stage finalStage() {
        return stages.get(stages.size() - 1);
    }

    Optional<Stage> stage(String name) {
        return stages.stream().filter(s -> name.equals(s.name())).findFirst();
    }

    static Dockerfile parse(String text) {
        List<Stage> stages = new ArrayList<>();
        List<Instruction> current = null;
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue; // parser directives (# syntax=) are comments to us
            }
            int first = i + 1;
            StringBuilder logical = new StringBuilder();
            while (line.endsWith("\\")) {
                logical.append(line, 0, line.length() - 1).append(' ');
                do {
                    i++;
                    line = i < lines.length ? lines[i].strip() : "";
                } while (i < lines.length && line.startsWith("#")); // comments inside a continuation
            }
            logical.append(line);
            Instruction instruction = instruction(logical.toString().strip(), first);
            if (instruction.keyword().equals("FROM")) {
                String[] words = instruction.arguments().split("\\s+");
                boolean named = words.length == 3 && words[1].equalsIgnoreCase("AS");
                if (words.length != 1 && !named) {
                    throw new IllegalArgumentException(
                            "line " + first + ": FROM image [AS name], not '" + instruction.arguments() + "'");
                }
                current = new ArrayList<>();
                stages.add(new Stage(words[0], named ? words[2] : null, current));
            } else if (current != null) {
                current.add(instruction);
            } else if (!instruction.keyword().equals("ARG")) {
                throw new IllegalArgumentException("line " + first + ": " + instruction.keyword() + " before FROM");
            }
        }
        return new Dockerfile(List.copyOf(stages));
    }

    private static Instruction instruction(String text, int line) {
        String[] split = text.split("\\s+", 2);
        String keyword = split[0].toUpperCase(Locale.ROOT);
        String rest = split.length > 1 ? split[1] : "";
        Map<String, String> flags = new LinkedHashMap<>();
        Matcher flag = FLAG.matcher(rest);
        while (flag.find()) {
            flags.put(flag.group(1), flag.group(2));
            rest = rest.substring(flag.end());
            flag = FLAG.matcher(rest);
        }
        return new Instruction(keyword, flags, rest.strip(), line);
    }
}
