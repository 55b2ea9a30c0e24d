package org.blksnap.itest.snapshot;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.api.SnapshotId;
import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.SysResult;

/**
 * Run by {@link SnapshotErrorsIT} in a child JVM without CAP_SYS_ADMIN:
 * issues every snapshot command once and prints "what errno" lines, plus
 * the effective capability mask so the test can prove the drop.
 */
public final class NoAdminSnapshotProbe {
    private NoAdminSnapshotProbe() {
    }

    public static void main(String[] args) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapEff:")) {
                System.out.println("capeff " + line.substring(7).strip());
            }
        }
        Path device = Path.of(args[0]);
        SnapshotId id = SnapshotId.parse(args[1]);
        try (RawSnapshot raw = new RawSnapshot()) {
            report("create", raw.create(1L << 20, "/tmp"));
            report("take", raw.take(id));
            report("destroy", raw.destroy(id));
            MemorySegment c = raw.collect(0, 0);
            report("collect", raw.ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_COLLECT, c));
            report("wait_event", raw.waitEvent(id, 10));
            report("snapshot_add", raw.add(device, id));
            MemorySegment info = raw.arena.allocate(Abi.BLKSNAP_SNAPSHOTINFO);
            report("snapshot_info", raw.ctl(device, Abi.CTL_SNAPSHOTINFO, (int) info.byteSize(), info.address()));
        }
    }

    private static void report(String what, SysResult r) {
        System.out.println(what + " " + (r.ok() ? "ok" : Integer.toString(r.errno())));
    }
}
