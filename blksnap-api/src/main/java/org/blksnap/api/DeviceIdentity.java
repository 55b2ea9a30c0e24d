package org.blksnap.api;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A name for a block device that survives a reboot, unlike its path
 * ({@code /dev/sdb} may be another disk after the next boot). Taken from
 * the links udev makes under {@code /dev/disk/by-*}, else from
 * {@code blkid}, in this order of preference: the WWN (the disk's own
 * world-wide name), another {@code by-id} name (bus, model and serial, or a
 * device-mapper uuid), the partition UUID, the filesystem UUID. Only if
 * none exists is the path itself the identity. The path the user gave stays
 * as the label.
 *
 * @param kind  where the identity comes from
 * @param value the identity within its kind, e.g. {@code 0x5000c500a1b2c3d4}
 * @param label the path the user gave, for people
 */
public record DeviceIdentity(Kind kind, String value, Path label) {
    /** The kinds of identity, most stable first. */
    public enum Kind {
        /** World-wide name of the disk (by-id/wwn-*). */
        WWN("wwn"),
        /** Another by-id name: bus, model and serial; dm or md uuid. */
        BY_ID("id"),
        /** Partition UUID of the partition table. */
        PARTUUID("partuuid"),
        /** UUID of the filesystem on it. */
        UUID("uuid"),
        /** Nothing stable is known: the path. */
        PATH("path");

        private final String prefix;

        Kind(String prefix) {
            this.prefix = prefix;
        }
    }

    /** Where udev puts its links. */
    public static final Path DISK_DIR = Path.of("/dev/disk");

    /** Validates the fields. */
    public DeviceIdentity {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(label, "label");
    }

    /** @return the identity as one string, e.g. {@code wwn:0x5000c500a1b2c3d4} or {@code path:/dev/vdb} */
    public String id() {
        return kind.prefix + ":" + value;
    }

    /**
     * @param device a block device
     * @return its identity
     * @throws IOException if the device or the links cannot be read
     */
    public static DeviceIdentity of(Path device) throws IOException {
        return of(device, DISK_DIR, DeviceIdentity::blkid);
    }

    /** What blkid says of a device: its {@code KEY=value} lines. */
    @FunctionalInterface
    interface Probe {
        Map<String, String> probe(Path device) throws IOException;
    }

    static DeviceIdentity of(Path device, Path diskDir, Probe probe) throws IOException {
        Path real = device.toRealPath();
        List<String> ids = linksTo(real, diskDir.resolve("by-id"));
        for (String id : ids) {
            if (id.startsWith("wwn-")) {
                return new DeviceIdentity(Kind.WWN, id.substring(4), device);
            }
        }
        for (String id : ids) {
            // dm-name-* is a name anyone may reuse, not an identity.
            if (!id.startsWith("dm-name-")) {
                return new DeviceIdentity(Kind.BY_ID, id, device);
            }
        }
        Optional<String> partuuid = linksTo(real, diskDir.resolve("by-partuuid")).stream().findFirst();
        if (partuuid.isPresent()) {
            return new DeviceIdentity(Kind.PARTUUID, partuuid.get(), device);
        }
        Optional<String> uuid = linksTo(real, diskDir.resolve("by-uuid")).stream().findFirst();
        if (uuid.isPresent()) {
            return new DeviceIdentity(Kind.UUID, uuid.get(), device);
        }
        // No udev (a minimal system, a container): ask blkid directly.
        Map<String, String> tags = probe.probe(real);
        if (tags.containsKey("PARTUUID")) {
            return new DeviceIdentity(Kind.PARTUUID, tags.get("PARTUUID"), device);
        }
        if (tags.containsKey("UUID")) {
            return new DeviceIdentity(Kind.UUID, tags.get("UUID"), device);
        }
        return new DeviceIdentity(Kind.PATH, real.toString(), device);
    }

    /** @return the names of the links in {@code dir} that resolve to {@code real}, sorted */
    private static List<String> linksTo(Path real, Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return names;
        }
        try (var links = Files.list(dir)) {
            for (Path link : (Iterable<Path>) links::iterator) {
                try {
                    if (link.toRealPath().equals(real)) {
                        names.add(link.getFileName().toString());
                    }
                } catch (IOException dangling) {
                    // A link to a device that went away names nothing.
                }
            }
        }
        names.sort(null);
        return names;
    }

    /** {@code blkid -o export DEVICE}; nothing if blkid is missing or knows nothing. */
    static Map<String, String> blkid(Path device) throws IOException {
        Map<String, String> tags = new LinkedHashMap<>();
        Process p;
        try {
            p = new ProcessBuilder("blkid", "-o", "export", device.toString()).redirectErrorStream(true).start();
        } catch (IOException notInstalled) {
            return tags;
        }
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (p.waitFor() != 0) {
                return tags;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking blkid about " + device, e);
        }
        return parseExport(out);
    }

    static Map<String, String> parseExport(String out) {
        Map<String, String> tags = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                tags.put(line.substring(0, eq), line.substring(eq + 1).strip());
            }
        }
        return tags;
    }
}
