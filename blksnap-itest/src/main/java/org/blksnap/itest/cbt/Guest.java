package org.blksnap.itest.cbt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.blksnap.itest.support.Shell;
import org.blksnap.api.DeviceNumber;
import org.blksnap.api.Filter;

/** Commands and kernel files of the guest that the CBT tests need. */
final class Guest {
    static final Path DEBUGFS = Path.of("/sys/kernel/debug/blksnap");
    static final Path VDA = Path.of("/dev/vda");

    private Guest() {
    }

    static DeviceNumber deviceNumber(Path device) throws IOException {
        try (Filter f = Filter.open(device)) {
            return f.deviceNumber();
        }
    }

    /**
     * Switches the CBT maps of a device as a snapshot take does, through the
     * module's root-only debugfs knob.
     */
    static void cbtSwitch(Path device) throws IOException {
        Files.writeString(DEBUGFS.resolve("cbt_switch"), deviceNumber(device).toString());
    }

    /** Lines of the debugfs listing of attached filters. */
    static List<String> trackers() throws IOException {
        return Files.readAllLines(DEBUGFS.resolve("trackers"));
    }

    /** True if the debugfs listing shows a filter on the device. */
    static boolean listed(DeviceNumber dev) throws IOException {
        String key = " " + dev + " ";
        return trackers().stream().anyMatch(l -> l.contains(key));
    }

    /** The kernel log lines after a mark, so a test sees only its own. */
    static List<String> kernelLogSince(String mark) throws IOException {
        List<String> lines = new ArrayList<>(List.of(Shell.sh("dmesg").split("\n")));
        int at = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(mark)) {
                at = i;
            }
        }
        return lines.subList(at + 1, lines.size());
    }

    static void kernelLogMark(String mark) throws IOException {
        Files.writeString(Path.of("/dev/kmsg"), mark + "\n");
    }

    /** Lines that vm/run would count as a kernel failure. */
    static List<String> kernelFailures(List<String> log) {
        return log.stream()
                .filter(l -> l.contains("WARNING") || l.contains("BUG") || l.contains("Oops")
                        || l.contains("general protection") || l.contains("lockup")
                        || l.contains("hung task") || l.contains("blocked for more than"))
                .toList();
    }

    static boolean moduleLoaded() {
        return Files.isDirectory(Path.of("/sys/module/blksnap"));
    }

    /** Loads the module under test again if a test removed it. */
    static void ensureModuleLoaded() throws IOException {
        if (moduleLoaded()) {
            return;
        }
        String ko = System.getenv("BLKSNAP_KO");
        if (ko == null || ko.isEmpty()) {
            throw new IOException("BLKSNAP_KO is not set: cannot reload blksnap.ko");
        }
        Shell.sh("insmod", ko);
    }
}
