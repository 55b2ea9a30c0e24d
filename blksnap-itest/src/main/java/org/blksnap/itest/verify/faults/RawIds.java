package org.blksnap.itest.verify.faults;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import org.blksnap.api.SnapshotId;
import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/**
 * Well-formed raw snapshot calls that report the errno instead of throwing,
 * for threads that race each other (each call has its own memory).
 */
final class RawIds {
    SysResult destroy(int control, SnapshotId id) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment u = arena.allocate(Abi.BLKSNAP_UUID);
            id.uuid().write(u, 0);
            return Linux.ioctl(control, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_DESTROY, u);
        }
    }

    SysResult waitEvent(int control, SnapshotId id, int timeoutMs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment e = arena.allocate(Abi.BLKSNAP_SNAPSHOT_EVENT);
            id.uuid().write(e, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "id"));
            e.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "timeout_ms"), timeoutMs);
            return Linux.ioctl(control, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT, e);
        }
    }
}
