package org.blksnap.cli;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Prints a result as {@code key=value} lines (the upstream tool's format,
 * easy to grep) or, with {@code --json}, as one JSON object per line.
 * Jackson is loaded only when JSON is asked for, to keep start-up quick.
 */
public final class Output {
    private final PrintWriter out;
    private final boolean json;

    public Output(PrintWriter out, boolean json) {
        this.out = out;
        this.json = json;
    }

    /** @return an ordered map to fill */
    public static Map<String, Object> record() {
        return new LinkedHashMap<>();
    }

    public void print(Map<String, ?> fields) {
        if (json) {
            out.println(Json.write(fields));
        } else {
            requireSnakeCase(fields);
            fields.forEach((k, v) -> out.println(k + "=" + text(v)));
        }
        out.flush();
    }

    /** A list under one key: JSON {"key":[...]}, text one key=value line per element. */
    public void printList(String key, List<?> values) {
        if (json) {
            out.println(Json.write(Map.of(key, values)));
        } else {
            for (Object v : values) {
                if (v instanceof Map<?, ?> m) {
                    StringBuilder line = new StringBuilder();
                    m.forEach((k, x) -> line.append(line.isEmpty() ? "" : " ").append(k).append('=').append(text(x)));
                    out.println(line);
                } else {
                    out.println(key + "=" + text(v));
                }
            }
        }
        out.flush();
    }

    /**
     * The one shape of a failure on standard output with --json:
     * {@code {"error":{"command":...,"message":...,"exit_status":N,"errno":"EBUSY"|null}}}.
     *
     * @param command    the command's full name, e.g. "blksnap backup list"
     * @param message    the same one line as on standard error
     * @param exitStatus the exit status
     * @param errno      the symbolic errno, or null
     * @return the JSON line
     */
    public static String error(String command, String message, int exitStatus, String errno) {
        Map<String, Object> e = record();
        e.put("command", command);
        e.put("message", message);
        e.put("exit_status", exitStatus);
        e.put("errno", errno);
        return Json.write(Map.of("error", e));
    }

    private static String text(Object v) {
        return String.valueOf(v);
    }

    private static final java.util.regex.Pattern SNAKE_CASE = java.util.regex.Pattern.compile("[a-z][a-z0-9_]*");

    /**
     * Every key of every printed object is snake_case: scripts must not have
     * to guess. A key that is not is a bug of the command, found by its tests.
     */
    static void requireSnakeCase(Object value) {
        if (value instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                if (!SNAKE_CASE.matcher(String.valueOf(k)).matches()) {
                    throw new IllegalStateException("output key '" + k + "' is not snake_case");
                }
                requireSnakeCase(v);
            });
        } else if (value instanceof Iterable<?> list) {
            list.forEach(Output::requireSnakeCase);
        }
    }

    /** Holder so ObjectMapper is created on first use only. */
    static final class Json {
        // Records, if any is printed, get snake_case names like the maps.
        private static final ObjectMapper MAPPER = new ObjectMapper()
                .setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);

        private Json() {
        }

        static String write(Object value) {
            requireSnakeCase(value);
            try {
                return MAPPER.writeValueAsString(value);
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
