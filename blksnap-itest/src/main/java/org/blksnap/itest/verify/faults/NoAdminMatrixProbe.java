package org.blksnap.itest.verify.faults;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/**
 * Run by {@link PrivilegeIT} in a child JVM without CAP_SYS_ADMIN: sends
 * every row of the fuzzer's table, with fuzzed arguments that often name
 * the live snapshot, to the control device and to both given block devices,
 * and prints one line per row and device: the row, then the errnos seen.
 * Arguments: attached device, unattached device, live snapshot id, storage
 * directory.
 */
public final class NoAdminMatrixProbe {
    private static final int TRIES = 25;

    private NoAdminMatrixProbe() {
    }

    public static void main(String[] args) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("CapEff:")) {
                System.out.println("capeff " + line.substring(7).strip());
            }
        }
        SnapshotId id = SnapshotId.parse(args[2]);
        int control = open(BlkSnap.CONTROL_DEVICE);
        for (String device : List.of(args[0], args[1])) {
            int block = open(device);
            try (FuzzContext ctx = new FuzzContext(device.hashCode(), List.of(args[3], device), 1024, 65536)) {
                ctx.live.add(id);
                for (FuzzTable.Row row : FuzzTable.rows()) {
                    TreeSet<String> seen = new TreeSet<>();
                    for (int i = 0; i < TRIES; i++) {
                        long arg = ctx.outer(row.size());
                        if (ctx.mapped(arg, row.size())) {
                            row.filler().fill(ctx, ctx.at(arg, row.size()), new StringBuilder());
                        }
                        int fd = row.door() == FuzzTable.Door.CONTROL ? control : block;
                        SysResult r = Linux.ioctl(fd, row.request().next(ctx.rng), arg);
                        seen.add(r.ok() ? "ok" : Errno.name(r.errno()));
                    }
                    System.out.println(key(row, device) + " " + String.join(",", seen));
                }
            } finally {
                Linux.close(block);
            }
        }
        Linux.close(control);
    }

    /** The line key of a row sent through a device, without spaces. */
    static String key(FuzzTable.Row row, String device) {
        return (row.name() + "@" + device).replace(' ', '_');
    }

    private static int open(String path) {
        SysResult r = Linux.open(path, Linux.O_RDWR | Linux.O_CLOEXEC);
        if (!r.ok()) {
            System.out.println("open-" + path + " " + Errno.name(r.errno()));
            System.exit(2);
        }
        return r.intValue();
    }
}
