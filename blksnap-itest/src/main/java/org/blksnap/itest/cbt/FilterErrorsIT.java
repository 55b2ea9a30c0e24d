package org.blksnap.itest.cbt;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

import org.blksnap.itest.support.WithoutSysAdmin;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.api.BlkSnap;
import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The error table of the filter ioctls (module/README.md), case by case. */
class FilterErrorsIT {
    private static final long MIB = 1L << 20;
    private static final int CBTINFO_SIZE = (int) Abi.BLKSNAP_CBTINFO.byteSize();
    private static final byte[] NAME = RawFilter.name(Abi.FILTER_NAME);

    private LoopDevice loop;
    private RawFilter raw;

    @BeforeEach
    void setUp() throws IOException {
        loop = LoopDevice.create(32 * MIB);
        raw = new RawFilter(loop.device());
    }

    @AfterEach
    void tearDown() throws IOException {
        try {
            raw.close();
            Cbt.detachQuietly(loop.device());
        } finally {
            loop.close();
        }
    }

    /** @param errno the expected errno, or 0 for a success that returns 0 */
    private static void assertErrno(int errno, SysResult r, String what) {
        assertEquals(errno == 0 ? "success 0" : Errno.name(errno),
                r.ok() ? "success " + r.value() : Errno.name(r.errno()), what);
    }

    private void attach() {
        SysResult r = raw.attach();
        assertTrue(r.ok(), "attach: " + r);
    }

    private MemorySegment filled(long size) {
        MemorySegment s = raw.arena.allocate(size);
        s.fill((byte) 0xaa);
        return s;
    }

    @Test
    void withoutCapSysAdminEverythingIsEperm() throws IOException {
        attach();
        WithoutSysAdmin.Report r = WithoutSysAdmin.run(NoAdminProbe.class, loop.device().toString());
        String eperm = Integer.toString(Errno.EPERM);
        for (String what : List.of("attach", "detach", "cbtinfo", "cbtmap", "cbtdirty", "version")) {
            assertEquals(eperm, r.get(what), what + " in: " + r.output());
        }
        assertTrue(Cbt.info(loop.device()).blockCount() > 0, "the refused detach must not have detached");
    }

    @Test
    void badPointersAreEfault() {
        assertErrno(Errno.EFAULT, Linux.ioctl(raw.fd, Ioctl.BLKFILTER_ATTACH, RawFilter.BAD_POINTER), "attach");
        attach();
        assertErrno(Errno.EFAULT, Linux.ioctl(raw.fd, Ioctl.BLKFILTER_DETACH, RawFilter.BAD_POINTER), "detach");
        assertErrno(Errno.EFAULT, Linux.ioctl(raw.fd, Ioctl.BLKFILTER_CTL, RawFilter.BAD_POINTER), "ctl");
        assertErrno(Errno.EFAULT, raw.ctl(Abi.CTL_CBTINFO, CBTINFO_SIZE, RawFilter.BAD_POINTER), "cbtinfo opt");
        assertErrno(Errno.EFAULT, raw.ctl(Abi.CTL_CBTMAP, 16, RawFilter.BAD_POINTER), "cbtmap opt");
        assertErrno(Errno.EFAULT, raw.cbtMap(0, 64, RawFilter.BAD_POINTER), "cbtmap buffer");
        assertErrno(Errno.EFAULT, raw.ctl(Abi.CTL_CBTDIRTY, 16, RawFilter.BAD_POINTER), "cbtdirty opt");
        assertErrno(Errno.EFAULT, raw.cbtDirty(1, RawFilter.BAD_POINTER), "cbtdirty ranges");
    }

    /** As upstream's blk-filter.c and tracker.c: blksnap ignores attach options. */
    @Test
    void attachOptionsAreIgnored() {
        MemorySegment opt = filled(64);
        SysResult r = raw.attach(NAME, opt.address(), 64);
        assertTrue(r.ok(), "attach with options: " + r);
        assertTrue(raw.detach().ok(), "detach");
        r = raw.attach(NAME, RawFilter.BAD_POINTER, 1);
        assertTrue(r.ok(), "attach with an option pointer nobody reads: " + r);
    }

    /** As upstream: optlen is the caller's buffer size, at least the struct's. */
    @Test
    void optlenBelowTheStructIsEinvalAboveIsAccepted() {
        attach();
        MemorySegment buf = filled(64);
        for (int len : new int[] {0, CBTINFO_SIZE - 1}) {
            assertErrno(Errno.EINVAL, raw.ctl(Abi.CTL_CBTINFO, len, buf.address()), "cbtinfo optlen " + len);
        }
        for (int len : new int[] {0, 15}) {
            assertErrno(Errno.EINVAL, raw.ctl(Abi.CTL_CBTMAP, len, buf.address()), "cbtmap optlen " + len);
            assertErrno(Errno.EINVAL, raw.ctl(Abi.CTL_CBTDIRTY, len, buf.address()), "cbtdirty optlen " + len);
        }
        for (int len : new int[] {CBTINFO_SIZE + 1, 64}) {
            buf.fill((byte) 0xaa);
            SysResult r = raw.ctl(Abi.CTL_CBTINFO, len, buf.address());
            assertTrue(r.ok(), "cbtinfo optlen " + len + ": " + r);
            assertEquals(32 * MIB, buf.get(JAVA_LONG, Abi.offset(Abi.BLKSNAP_CBTINFO, "device_capacity")),
                    "cbtinfo optlen " + len);
        }
        MemorySegment out = filled(16);
        MemorySegment map = filled(64);
        map.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_CBTMAP, "offset"), 0);
        map.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_CBTMAP, "length"), 16);
        map.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_CBTMAP, "buffer"), out.address());
        assertErrno(0, raw.ctl(Abi.CTL_CBTMAP, 64, map.address()), "cbtmap optlen 64");
        MemorySegment dirty = filled(64);
        dirty.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_CBTDIRTY, "count"), 0);
        assertErrno(0, raw.ctl(Abi.CTL_CBTDIRTY, 64, dirty.address()), "cbtdirty optlen 64");
    }

    @Test
    void unknownFilterNameIsEnoentThenEinvalOnceAttached() {
        byte[] unterminated = new byte[Abi.BLKFILTER_NAME_LENGTH];
        Arrays.fill(unterminated, (byte) 'b');
        List<byte[]> names = List.of(RawFilter.name("blksnapx"), RawFilter.name(""), RawFilter.name("BLKSNAP"),
                RawFilter.name("blksna"), unterminated);
        for (byte[] name : names) {
            assertErrno(Errno.ENOENT, raw.attach(name, 0, 0), "attach " + new String(name));
        }
        attach();
        MemorySegment info = filled(CBTINFO_SIZE);
        for (byte[] name : names) {
            // Upstream: another filter's name, while ours is attached, is EINVAL.
            assertErrno(Errno.EINVAL, raw.detach(name), "detach " + new String(name));
            assertErrno(Errno.EINVAL, raw.ctl(name, Abi.CTL_CBTINFO, CBTINFO_SIZE, info.address()),
                    "ctl " + new String(name));
        }
    }

    @Test
    void attachTwiceIsEalready() {
        attach();
        assertErrno(Errno.EALREADY, raw.attach(), "second attach");
    }

    @Test
    void notAttachedIsEnoent() {
        MemorySegment info = filled(CBTINFO_SIZE);
        assertErrno(Errno.ENOENT, raw.detach(), "detach");
        assertErrno(Errno.ENOENT, raw.ctl(Abi.CTL_CBTINFO, CBTINFO_SIZE, info.address()), "cbtinfo");
        assertErrno(Errno.ENOENT, raw.cbtMap(0, 16, info.address()), "cbtmap");
        attach();
        assertTrue(raw.detach().ok());
        assertErrno(Errno.ENOENT, raw.detach(), "detach after detach");
    }

    @Test
    void unknownCommandIsEnotty() {
        attach();
        MemorySegment buf = filled(64);
        for (int cmd : new int[] {5, 6, 255, 0x7fffffff, 0x80000000}) {
            assertErrno(Errno.ENOTTY, raw.ctl(cmd, 16, buf.address()), "cmd " + Integer.toUnsignedString(cmd));
        }
    }

    /**
     * As upstream: CBTMAP copies its whole window and returns 0, or, when
     * offset + length passes the end of the map, copies nothing: ENODATA.
     */
    @Test
    void cbtMapWindowsInsideAndPastTheEnd() {
        attach();
        int count = 32 * (int) MIB / 65536;
        assertTrue(count >= 256, "test expects a map of at least 256 blocks");
        MemorySegment buf = filled(256);
        assertErrno(0, raw.cbtMap(0, 256, buf.address()), "a window inside the map");
        for (int i = 0; i < 256; i++) {
            // No take yet: the map reads as zeros.
            assertEquals(0, buf.get(JAVA_BYTE, i), "byte " + i + " of the window");
        }

        buf.fill((byte) 0xaa);
        assertErrno(0, raw.cbtMap(count - 10, 10, buf.address()), "the last 10 bytes");
        for (int i = 0; i < 256; i++) {
            assertEquals(i < 10 ? 0 : (byte) 0xaa, buf.get(JAVA_BYTE, i), "byte " + i + " after the last 10");
        }

        buf.fill((byte) 0xaa);
        assertErrno(Errno.ENODATA, raw.cbtMap(count - 10, 256, buf.address()), "a window past the end");
        assertErrno(Errno.ENODATA, raw.cbtMap(count, 256, buf.address()), "a window at the end");
        assertErrno(Errno.ENODATA, raw.cbtMap(count + 1, 256, buf.address()), "offset past the end");
        assertErrno(Errno.ENODATA, raw.cbtMap(-1, 256, buf.address()), "offset 0xffffffff");
        for (int i = 0; i < 256; i++) {
            assertEquals((byte) 0xaa, buf.get(JAVA_BYTE, i), "byte " + i + " written by a refused window");
        }
        assertErrno(0, raw.cbtMap(count, 0, buf.address()), "an empty window at the end");
        assertErrno(0, raw.cbtMap(0, 0, buf.address()), "an empty window");
    }

    @Test
    void cbtDirtyLimits() {
        attach();
        MemorySegment range = raw.arena.allocate(Abi.BLKSNAP_SECTORS);
        range.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_SECTORS, "offset"), 32 * MIB / 512);
        range.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_SECTORS, "count"), 1);
        assertErrno(Errno.EINVAL, raw.cbtDirty(1, range.address()), "range past the end");
        assertErrno(Errno.EINVAL, raw.cbtDirty(1_048_577, range.address()), "too many ranges");
        assertTrue(raw.cbtDirty(0, RawFilter.BAD_POINTER).ok(), "count 0 touches no memory");
    }

    /**
     * Padding of results is zeroed, nothing past the struct is written in a
     * larger buffer, and, as upstream, optlen is never written back.
     */
    @Test
    void resultsCarryNoStaleBytes() {
        attach();
        int len = CBTINFO_SIZE + 8;
        MemorySegment info = filled(len);
        MemorySegment ctl = raw.ctlStruct(NAME, Abi.CTL_CBTINFO, len, info.address());
        SysResult r = raw.ctl(ctl);
        assertErrno(0, r, "cbtinfo");
        long pad = Abi.offset(Abi.BLKSNAP_CBTINFO, "changes_number") + 1;
        for (long i = pad; i < CBTINFO_SIZE; i++) {
            assertEquals(0, info.get(JAVA_BYTE, i), "padding byte " + i);
        }
        for (long i = CBTINFO_SIZE; i < len; i++) {
            assertEquals((byte) 0xaa, info.get(JAVA_BYTE, i), "byte " + i + " past the struct");
        }
        assertEquals(32 * MIB, info.get(JAVA_LONG, 0));
        assertEquals(len, ctl.get(JAVA_INT, Abi.offset(Abi.BLKFILTER_CTL, "optlen")), "optlen after the call");
    }

    @Test
    void controlDeviceUnknownCommandsAreEnotty() throws IOException {
        try (BlkSnap blksnap = BlkSnap.open()) {
            MemorySegment buf = filled(64);
            long[] requests = {
                Ioctl.ior(Ioctl.BLKSNAP_TYPE, 99, 8),
                Ioctl.ior('X', 0, 8),
                Ioctl.iow(Ioctl.BLKSNAP_TYPE, 0, 8),
            };
            for (long request : requests) {
                assertErrno(Errno.ENOTTY, Linux.ioctl(blksnap.fd(), request, buf), Long.toHexString(request));
            }
        }
    }
}
