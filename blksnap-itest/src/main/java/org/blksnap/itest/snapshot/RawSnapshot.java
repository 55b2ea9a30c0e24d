package org.blksnap.itest.snapshot;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/**
 * Snapshot ioctls built by hand, so that tests can send what no
 * well-behaved client would: unknown ids, bad pointers, wrong sizes.
 */
final class RawSnapshot implements AutoCloseable {
    /** An address no process maps: the kernel must answer EFAULT. */
    static final long BAD_POINTER = 8;

    final Arena arena = Arena.ofConfined();
    private final int control;

    RawSnapshot() throws IOException {
        SysResult r = Linux.open(BlkSnap.CONTROL_DEVICE, Linux.O_RDWR | Linux.O_CLOEXEC);
        if (!r.ok()) {
            throw new IOException("open control: " + r);
        }
        control = r.intValue();
    }

    SysResult ioctl(long request, MemorySegment arg) {
        return Linux.ioctl(control, request, arg);
    }

    SysResult ioctl(long request, long arg) {
        return Linux.ioctl(control, request, arg);
    }

    MemorySegment uuid(SnapshotId id) {
        MemorySegment u = arena.allocate(Abi.BLKSNAP_UUID);
        id.uuid().write(u, 0);
        return u;
    }

    MemorySegment create(long limit, long filename) {
        MemorySegment c = arena.allocate(Abi.BLKSNAP_SNAPSHOT_CREATE);
        c.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_SNAPSHOT_CREATE, "diff_storage_limit_sect"), limit);
        c.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_SNAPSHOT_CREATE, "diff_storage_filename"), filename);
        return c;
    }

    long string(String s) {
        return arena.allocateFrom(s, StandardCharsets.UTF_8).address();
    }

    SysResult create(long limit, String path) {
        return ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_CREATE, create(limit, string(path)));
    }

    SysResult destroy(SnapshotId id) {
        return ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_DESTROY, uuid(id));
    }

    SysResult take(SnapshotId id) {
        return ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_TAKE, uuid(id));
    }

    MemorySegment event(SnapshotId id, int timeoutMs) {
        MemorySegment e = arena.allocate(Abi.BLKSNAP_SNAPSHOT_EVENT);
        id.uuid().write(e, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "id"));
        e.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "timeout_ms"), timeoutMs);
        return e;
    }

    SysResult waitEvent(SnapshotId id, int timeoutMs) {
        return ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT, event(id, timeoutMs));
    }

    MemorySegment collect(int count, long ids) {
        MemorySegment c = arena.allocate(Abi.BLKSNAP_SNAPSHOT_COLLECT);
        c.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_SNAPSHOT_COLLECT, "count"), count);
        c.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_SNAPSHOT_COLLECT, "ids"), ids);
        return c;
    }

    /** BLKFILTER_CTL of the blksnap filter on a device, raw. */
    SysResult ctl(Path device, int cmd, int optlen, long opt) throws IOException {
        SysResult open = Linux.open(device.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC);
        if (!open.ok()) {
            throw new IOException("open " + device + ": " + open);
        }
        try {
            MemorySegment c = arena.allocate(Abi.BLKFILTER_CTL);
            byte[] name = Abi.FILTER_NAME.getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(name, 0, c, JAVA_BYTE, 0, name.length);
            c.set(JAVA_INT, Abi.offset(Abi.BLKFILTER_CTL, "cmd"), cmd);
            c.set(JAVA_INT, Abi.offset(Abi.BLKFILTER_CTL, "optlen"), optlen);
            c.set(JAVA_LONG, Abi.offset(Abi.BLKFILTER_CTL, "opt"), opt);
            return Linux.ioctl(open.intValue(), Ioctl.BLKFILTER_CTL, c);
        } finally {
            Linux.close(open.intValue());
        }
    }

    SysResult add(Path device, SnapshotId id) throws IOException {
        MemorySegment a = arena.allocate(Abi.BLKSNAP_SNAPSHOTADD);
        id.uuid().write(a, 0);
        return ctl(device, Abi.CTL_SNAPSHOTADD, (int) a.byteSize(), a.address());
    }

    @Override
    public void close() {
        Linux.close(control);
        arena.close();
    }
}
