package org.blksnap.itest.verify.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.WithoutSysAdmin;
import org.junit.jupiter.api.Test;

/**
 * The privilege matrix: every ioctl of the table, on the control device and
 * on an attached and an unattached block device, from a process without
 * CAP_SYS_ADMIN gets EPERM and changes nothing (snapshots, images, CBT
 * state, debugfs listings compared before and after); the control device
 * and snapshot images are closed to other users, by mode and in fact.
 */
class PrivilegeIT {
    private static final int NOBODY = 65534;

    @Test
    void everyIoctlWithoutSysAdminIsRefusedAndChangesNothing() throws Exception {
        Path dir = Files.createTempDirectory("blksnap-priv");
        try (LoopDevice target = LoopDevice.create(32L << 20); LoopDevice other = LoopDevice.create(16L << 20);
                BlkSnap blksnap = BlkSnap.open(); Filter f = Filter.open(target.device())) {
            f.attach();
            SnapshotId id = blksnap.createSnapshot(DiffStorage.directory(dir), 1L << 15);
            try {
                f.snapshotAdd(id);
                blksnap.take(id);
                Path image = f.snapshotInfo().imagePath().orElseThrow();
                String before = state(blksnap, f, other.device());

                WithoutSysAdmin.Report r = WithoutSysAdmin.run(NoAdminMatrixProbe.class, target.path(),
                        other.path(), id.toString(), dir.toString());
                int rows = 0;
                for (String device : List.of(target.path(), other.path())) {
                    for (FuzzTable.Row row : FuzzTable.rows()) {
                        String key = NoAdminMatrixProbe.key(row, device);
                        assertEquals("EPERM", r.get(key), key + " without CAP_SYS_ADMIN\n" + r.output());
                        rows++;
                    }
                }
                assertEquals(2 * FuzzTable.rows().size(), rows);
                assertEquals(before, state(blksnap, f, other.device()), "state changed by the unprivileged probe");

                assertClosedToOthers(Path.of(BlkSnap.CONTROL_DEVICE), "c");
                assertClosedToOthers(image, "b");
            } finally {
                blksnap.destroy(id);
                f.detach();
            }
        } finally {
            Shell.run("rm", "-rf", dir.toString());
        }
    }

    /** Everything an ioctl could change, as text. */
    private static String state(BlkSnap blksnap, Filter f, Path other) throws IOException {
        try (Filter o = Filter.open(other)) {
            return String.join("\n", "snapshots " + blksnap.collect(), "info " + f.snapshotInfo(),
                    "cbt " + f.cbtInfo(), "map " + Arrays.hashCode(f.readCbtMap()),
                    "other attached " + o.isAttached(),
                    ModuleState.debugfs("trackers"),
                    ModuleState.debugfs("snapshots"));
        }
    }

    /** Root-owned, no permission bits for others, and a non-root user cannot open it. */
    private static void assertClosedToOthers(Path node, String type) throws IOException {
        String stat = Shell.sh("stat", "-c", "%F %a %u", node.toString());
        String[] w = stat.split(" ");
        assertTrue(w[0].startsWith(type.equals("c") ? "character" : "block"), node + ": " + stat);
        int mode = Integer.parseInt(w[w.length - 2], 8);
        assertEquals("0", w[w.length - 1], node + " must belong to root: " + stat);
        assertEquals(0, mode & 07, node + " mode " + Integer.toOctalString(mode) + " opens it to other users");
        if (type.equals("c")) {
            assertEquals(0600, mode, node + " mode");
        }
        assertTrue(Files.exists(node, LinkOption.NOFOLLOW_LINKS));
        Shell.Result open = Shell.run("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups", "--",
                "dd", "if=" + node, "of=/dev/null", "bs=512", "count=1", "status=none");
        assertFalse(open.ok(), "user nobody opened " + node);
        assertTrue(open.output().contains("Permission denied"), node + ": " + open.output());
    }
}
