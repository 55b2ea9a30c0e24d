package org.blksnap.itest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import org.blksnap.itest.support.LoopDevice;

/** bin/blksnap as users run it: a process of its own, as root and not. */
class LauncherIT {
    private static final List<String> NOBODY = List.of("setpriv", "--reuid=65534", "--regid=65534",
            "--clear-groups", "--inh-caps=-all", "--bounding-set=-all");
    private static final List<String> ROOT_WITHOUT_CAPS = List.of("setpriv", "--inh-caps=-all",
            "--bounding-set=-all");

    private static Shell.Result as(List<String> prefix, String... args) throws IOException {
        // A class-data archive of their own would cost these one-off runs a
        // dump at exit, slow under TCG.
        List<String> cmd = new ArrayList<>(List.of("env", "BLKSNAP_CDS=0"));
        cmd.addAll(prefix);
        cmd.add(Shell.LAUNCHER.toString());
        cmd.addAll(List.of(args));
        return Shell.run(cmd);
    }

    @Test
    void launcherRunsTheCommand() throws IOException {
        String sysfs = Files.readString(Path.of("/sys/module/blksnap/version")).strip();
        Shell.Result r = Shell.launcher("version").ok();
        assertEquals(sysfs + "\n", r.out());
        assertEquals("", r.err());
    }

    @Test
    void nonRootGetsThePermissionMessage() throws IOException {
        Shell.Result r = as(NOBODY, "version");
        assertEquals(4, r.status(), r::toString);
        assertEquals("blksnap version: permission denied: run as root\n", r.err());
    }

    @Test
    void rootWithoutCapabilitiesGetsThePermissionMessage() throws IOException {
        // uid 0 may open the control device, but every ioctl needs CAP_SYS_ADMIN.
        Shell.Result r = as(ROOT_WITHOUT_CAPS, "version");
        assertEquals(4, r.status(), r::toString);
        assertEquals("blksnap version: permission denied: run as root\n", r.err());
        try (LoopDevice loop = LoopDevice.create(16L << 20)) {
            Shell.Result a = as(ROOT_WITHOUT_CAPS, "attach", "--device", loop.path());
            assertEquals(4, a.status(), a::toString);
            assertEquals("blksnap attach: permission denied: run as root\n", a.err());
        }
    }

    @Test
    void missingModuleSaysModprobe() throws IOException {
        // The control device is what the command looks for; hiding it from a
        // private mount namespace needs no rmmod that would disturb other tests.
        Shell.Result r = Shell.run(List.of("unshare", "--mount", "sh", "-c",
                "mount -t tmpfs none /dev && exec " + Shell.LAUNCHER + " version"));
        assertEquals(3, r.status(), r::toString);
        assertEquals("blksnap version: blksnap module not loaded: modprobe blksnap\n", r.err());
    }
}
