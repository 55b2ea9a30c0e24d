package org.blksnap.nbd;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The exports a server offers, by name. The empty name, which clients send
 * when the user gives none, means the only export when there is exactly one.
 *
 * @param byName exports by name, in listing order
 */
public record Exports(Map<String, Export> byName) {
    /** Copies the map, keeping its order, and checks the names. */
    public Exports {
        for (String name : byName.keySet()) {
            if (name.isEmpty() || name.length() > 256 || name.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("bad export name '" + name + "'");
            }
        }
        byName = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(byName));
    }

    /** @return the names, in listing order */
    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /**
     * @param name as the client sent it
     * @return the export, if there is one by that name
     */
    public Optional<Export> find(String name) {
        if (name.isEmpty() && byName.size() == 1) {
            return Optional.of(byName.values().iterator().next());
        }
        return Optional.ofNullable(byName.get(name));
    }
}
