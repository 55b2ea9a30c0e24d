package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a real NBD client; a missing client fails the test (scripts/setup-host installs them). */
final class Tool {
    private Tool() {
    }

    record Result(int exit, String out, String err) {
    }

    static Result run(String... command) throws IOException, InterruptedException {
        Path exe = Path.of("/usr/bin", command[0]);
        assertTrue(Files.isExecutable(exe), exe + " is missing: scripts/setup-host installs libnbd-bin and qemu-utils");
        List<String> cmd = new ArrayList<>(List.of(command));
        cmd.set(0, exe.toString());
        Path out = Files.createTempFile("nbd-tool", ".out");
        Path err = Files.createTempFile("nbd-tool", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                fail(String.join(" ", cmd) + " did not finish in 120 s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs and requires exit 0. */
    static String ok(String... command) throws IOException, InterruptedException {
        Result r = run(command);
        if (r.exit() != 0) {
            fail(String.join(" ", command) + " exited " + r.exit() + ": " + r.err() + r.out());
        }
        return r.out();
    }
}
