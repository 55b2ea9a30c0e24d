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

    private static String text(Object v) {
        return String.valueOf(v);
    }

    /** Holder so ObjectMapper is created on first use only. */
    static final class Json {
        private static final ObjectMapper MAPPER = new ObjectMapper();

        private Json() {
        }

        static String write(Object value) {
            try {
                return MAPPER.writeValueAsString(value);
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
