package org.blksnap.itest.cbt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/**
 * Run by {@link FilterErrorsIT} in a child JVM started without
 * CAP_SYS_ADMIN: issues every ioctl once and prints "what errno" lines,
 * plus the effective capability mask so the test can prove the drop.
 */
public final class NoAdminProbe {
    private NoAdminProbe() {
    }

    public static void main(String[] args) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapEff:")) {
                System.out.println("capeff " + line.substring(7).strip());
            }
        }
        try (RawFilter f = new RawFilter(Path.of(args[0])); Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(Abi.BLKSNAP_CBTINFO);
            report("attach", f.attach());
            report("detach", f.detach());
            report("cbtinfo", f.ctl(Abi.CTL_CBTINFO, (int) info.byteSize(), info.address()));
            MemorySegment buf = arena.allocate(64);
            report("cbtmap", f.cbtMap(0, 64, buf.address()));
            MemorySegment range = arena.allocate(Abi.BLKSNAP_SECTORS);
            range.set(java.lang.foreign.ValueLayout.JAVA_LONG, 8, 1);
            report("cbtdirty", f.cbtDirty(1, range.address()));
        }
        SysResult open = Linux.open(BlkSnap.CONTROL_DEVICE, Linux.O_RDONLY | Linux.O_CLOEXEC);
        if (!open.ok()) {
            System.out.println("control-open " + open.errno());
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(Abi.BLKSNAP_VERSION);
            report("version", Linux.ioctl(open.intValue(), Ioctl.IOCTL_BLKSNAP_VERSION, v));
        } finally {
            Linux.close(open.intValue());
        }
    }

    private static void report(String what, SysResult r) {
        System.out.println(what + " " + (r.ok() ? "ok" : Integer.toString(r.errno())));
    }
}
