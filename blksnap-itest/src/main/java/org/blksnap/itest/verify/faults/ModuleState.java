package org.blksnap.itest.verify.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.itest.support.Shell;

/** The module as a whole: parameters, debugfs, unload and reload. */
final class ModuleState {
    static final Path PARAMETERS = Path.of("/sys/module/blksnap/parameters");
    static final Path DEBUGFS = Path.of("/sys/kernel/debug/blksnap");

    private ModuleState() {
    }

    static String parameter(String name) throws IOException {
        return Files.readString(PARAMETERS.resolve(name)).strip();
    }

    static void parameter(String name, String value) throws IOException {
        Files.writeString(PARAMETERS.resolve(name), value);
    }

    /** A debugfs listing, e.g. "trackers" or "snapshots". */
    static String debugfs(String file) throws IOException {
        return Files.readString(DEBUGFS.resolve(file));
    }

    static boolean loaded() {
        return Files.isDirectory(Path.of("/sys/module/blksnap"));
    }

    /** Loads blksnap.ko again (vm/run says where it is) if a test unloaded it. */
    static void ensureLoaded() throws IOException {
        if (loaded()) {
            return;
        }
        String ko = System.getenv("BLKSNAP_KO");
        if (ko == null || ko.isEmpty()) {
            throw new IOException("BLKSNAP_KO is not set: cannot load blksnap.ko again");
        }
        Shell.sh("insmod", ko);
    }
}
