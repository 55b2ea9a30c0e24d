package org.blksnap.itest.cbt;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/**
 * BLKFILTER_* ioctls built by hand, so tests can send what no well-behaved
 * client would: wrong names, sizes and pointers.  Results are raw.
 */
final class RawFilter implements AutoCloseable {
    /** An address no process maps: the kernel must answer EFAULT. */
    static final long BAD_POINTER = 8;

    final Arena arena = Arena.ofConfined();
    final int fd;

    RawFilter(Path device) throws IOException {
        SysResult r = Linux.open(device.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC);
        if (!r.ok()) {
            throw new IOException("open " + device + ": " + r);
        }
        fd = r.intValue();
    }

    static byte[] name(String name) {
        return name.getBytes(StandardCharsets.US_ASCII);
    }

    private MemorySegment named(java.lang.foreign.StructLayout layout, byte[] name) {
        MemorySegment s = arena.allocate(layout);
        MemorySegment.copy(name, 0, s, JAVA_BYTE, 0, Math.min(name.length, Abi.BLKFILTER_NAME_LENGTH));
        return s;
    }

    SysResult attach(byte[] name, long opt, int optlen) {
        MemorySegment a = named(Abi.BLKFILTER_ATTACH, name);
        a.set(JAVA_LONG, Abi.offset(Abi.BLKFILTER_ATTACH, "opt"), opt);
        a.set(JAVA_INT, Abi.offset(Abi.BLKFILTER_ATTACH, "optlen"), optlen);
        return Linux.ioctl(fd, Ioctl.BLKFILTER_ATTACH, a);
    }

    SysResult attach() {
        return attach(name(Abi.FILTER_NAME), 0, 0);
    }

    SysResult detach(byte[] name) {
        return Linux.ioctl(fd, Ioctl.BLKFILTER_DETACH, named(Abi.BLKFILTER_DETACH, name));
    }

    SysResult detach() {
        return detach(name(Abi.FILTER_NAME));
    }

    /** The ctl struct itself, for tests that read back optlen. */
    MemorySegment ctlStruct(byte[] name, int cmd, int optlen, long opt) {
        MemorySegment c = named(Abi.BLKFILTER_CTL, name);
        c.set(JAVA_INT, Abi.offset(Abi.BLKFILTER_CTL, "cmd"), cmd);
        c.set(JAVA_INT, Abi.offset(Abi.BLKFILTER_CTL, "optlen"), optlen);
        c.set(JAVA_LONG, Abi.offset(Abi.BLKFILTER_CTL, "opt"), opt);
        return c;
    }

    SysResult ctl(MemorySegment ctl) {
        return Linux.ioctl(fd, Ioctl.BLKFILTER_CTL, ctl);
    }

    SysResult ctl(byte[] name, int cmd, int optlen, long opt) {
        return ctl(ctlStruct(name, cmd, optlen, opt));
    }

    SysResult ctl(int cmd, int optlen, long opt) {
        return ctl(name(Abi.FILTER_NAME), cmd, optlen, opt);
    }

    SysResult cbtMap(int offset, int length, long buffer) {
        MemorySegment m = arena.allocate(Abi.BLKSNAP_CBTMAP);
        m.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_CBTMAP, "offset"), offset);
        m.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_CBTMAP, "length"), length);
        m.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_CBTMAP, "buffer"), buffer);
        return ctl(Abi.CTL_CBTMAP, (int) Abi.BLKSNAP_CBTMAP.byteSize(), m.address());
    }

    SysResult cbtDirty(int count, long ranges) {
        MemorySegment d = arena.allocate(Abi.BLKSNAP_CBTDIRTY);
        d.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_CBTDIRTY, "count"), count);
        d.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_CBTDIRTY, "dirty_sectors"), ranges);
        return ctl(Abi.CTL_CBTDIRTY, (int) Abi.BLKSNAP_CBTDIRTY.byteSize(), d.address());
    }

    @Override
    public void close() {
        Linux.close(fd);
        arena.close();
    }
}
