package org.blksnap.api;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Facts about device nodes, read with the JDK's "unix" attribute view. */
final class Devices {
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;

    private Devices() {
    }

    static boolean isBlockDevice(Path path) {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode");
            return (mode & S_IFMT) == S_IFBLK;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** @return the device number (major, minor) of a device node */
    static DeviceNumber deviceNumber(Path path) throws IOException {
        Map<String, Object> attrs = Files.readAttributes(path, "unix:rdev");
        long rdev = (Long) attrs.get("rdev");
        return DeviceNumber.decode(rdev);
    }
}
