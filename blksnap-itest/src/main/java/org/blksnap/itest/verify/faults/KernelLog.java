package org.blksnap.itest.verify.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.blksnap.itest.support.Shell;

/**
 * The guest kernel log of one test: a mark written to /dev/kmsg at the
 * start, and the lines after it that vm/run would count as a failure.
 */
final class KernelLog {
    private static final List<String> FAILURES = List.of("WARNING", "BUG", "Oops", "general protection",
            "lockup", "hung task", "blocked for more than");
    private final String mark;

    private KernelLog(String mark) {
        this.mark = mark;
    }

    static KernelLog mark(String test) throws IOException {
        String mark = "blksnap-itest: " + test + " " + System.nanoTime();
        Files.writeString(Path.of("/dev/kmsg"), mark + "\n");
        return new KernelLog(mark);
    }

    /** Lines since the mark that name a kernel failure; the test asserts this is empty. */
    List<String> failures() throws IOException {
        List<String> lines = Arrays.asList(Shell.sh("dmesg").split("\n"));
        int at = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(mark)) {
                at = i;
            }
        }
        return lines.subList(at + 1, lines.size()).stream()
                .filter(l -> FAILURES.stream().anyMatch(l::contains)).toList();
    }
}
