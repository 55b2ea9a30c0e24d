package org.blksnap.itest.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.api.Filter;

/** The module's debugfs knob that switches CBT maps as a take does (no snapshot needed). */
final class Debugfs {
    private static final Path CBT_SWITCH = Path.of("/sys/kernel/debug/blksnap/cbt_switch");

    private Debugfs() {
    }

    static void cbtSwitch(Path device) throws IOException {
        try (Filter f = Filter.open(device)) {
            Files.writeString(CBT_SWITCH, f.deviceNumber().toString());
        }
    }
}
