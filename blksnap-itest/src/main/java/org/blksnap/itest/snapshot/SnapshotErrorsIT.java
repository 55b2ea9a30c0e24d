package org.blksnap.itest.snapshot;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.blksnap.itest.support.WithoutSysAdmin;
import org.blksnap.itest.support.Shell;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.SnapshotInfo;
import org.blksnap.api.Uuid;
import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.SysResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The documented errno of every way a snapshot command can be refused
 * (see module/snapshot.c). Each case also checks that nothing changed.
 */
class SnapshotErrorsIT {
    private static final DiffStorage TMP = DiffStorage.directory(Path.of("/tmp"));

    private Rig rig;
    private RawSnapshot raw;

    @BeforeEach
    void setUp() throws Exception {
        rig = new Rig();
        raw = new RawSnapshot();
    }

    @AfterEach
    void tearDown() throws Exception {
        raw.close();
        rig.close();
    }

    private static void assertErrno(int errno, SysResult r, String what) {
        assertFalse(r.ok(), what + " must fail");
        assertEquals(errno, r.errno(), what + ": " + Errno.name(r.errno()));
    }

    private Path attachedLoop() throws Exception {
        Path loop = rig.loop(32L << 20);
        rig.attach(loop);
        return loop;
    }

    /** As upstream: ESRCH for an unknown id, except DESTROY's ENODEV. */
    @Test
    void unknownIdIsEsrchAndEnodevForDestroy() throws Exception {
        SnapshotId nobody = new SnapshotId(Uuid.random());
        assertErrno(Errno.ENODEV, raw.destroy(nobody), "destroy");
        assertErrno(Errno.ESRCH, raw.take(nobody), "take");
        assertErrno(Errno.ESRCH, raw.waitEvent(nobody, 10), "wait_event");
        assertErrno(Errno.ESRCH, raw.add(attachedLoop(), nobody), "snapshot_add");
    }

    @Test
    void takeTwiceIsEalreadyAndAddAfterTakeIsEbusy() throws Exception {
        Path a = attachedLoop();
        Path b = attachedLoop();
        SnapshotId id = rig.create(TMP, 1L << 20);
        assertTrue(raw.add(a, id).ok());
        assertTrue(raw.take(id).ok());
        assertErrno(Errno.EALREADY, raw.take(id), "second take");
        assertErrno(Errno.EBUSY, raw.add(b, id), "add after take");
        // As upstream: a device in no snapshot answers zeros, not an error.
        MemorySegment info = raw.arena.allocate(Abi.BLKSNAP_SNAPSHOTINFO);
        info.fill((byte) 0xaa);
        SysResult r = raw.ctl(b, Abi.CTL_SNAPSHOTINFO, (int) info.byteSize(), info.address());
        assertTrue(r.ok(), "info of a device in no snapshot: " + r);
        for (long i = 0; i < info.byteSize(); i++) {
            assertEquals(0, info.get(JAVA_BYTE, i), "byte " + i + " of the info of a device in no snapshot");
        }
        assertFalse(Rig.info(a).image().isEmpty());
    }

    @Test
    void aDeviceBelongsToOneSnapshot() throws Exception {
        Path a = attachedLoop();
        SnapshotId first = rig.create(TMP, 1L << 20);
        SnapshotId second = rig.blksnap().createSnapshot(TMP, 1L << 20);
        try {
            assertTrue(raw.add(a, first).ok());
            assertErrno(Errno.EALREADY, raw.add(a, first), "add twice");
            assertErrno(Errno.EBUSY, raw.add(a, second), "add to a second snapshot");
            SnapshotInfo before = Rig.info(a);
            assertEquals(new SnapshotInfo(0, ""), before, "not taken yet: no error, no image");
            try (Filter f = Filter.open(a)) {
                assertErrno(Errno.EBUSY, org.blksnap.api.sys.Linux.ioctl(f.fd(), Ioctl.BLKFILTER_DETACH,
                        detach()), "detach while in a snapshot");
            }
        } finally {
            rig.blksnap().destroy(second);
        }
    }

    private MemorySegment detach() {
        MemorySegment d = raw.arena.allocate(Abi.BLKFILTER_DETACH);
        byte[] name = Abi.FILTER_NAME.getBytes();
        MemorySegment.copy(name, 0, d, JAVA_BYTE, 0, name.length);
        return d;
    }

    /*
     * A file on the device's own filesystem is admitted since issue 16 (it
     * is pinned and written with bios: SingleDiskIT); a block device cannot
     * be, its writes would be copied on write into itself.
     */
    @Test
    void theDeviceThatIsTheBlockDeviceStorageIsEperm() throws Exception {
        Path loop = rig.loop(64L << 20);
        rig.attach(loop);
        SnapshotId id = rig.create(DiffStorage.blockDevice(loop), (64L << 20) >> 9);
        assertErrno(Errno.EPERM, raw.add(loop, id), "add the storage's own device");
    }

    @Test
    void takeWithoutDevicesIsEnodev() throws Exception {
        SnapshotId id = rig.create(TMP, 1L << 20);
        assertErrno(Errno.ENODEV, raw.take(id), "take of an empty snapshot");
    }

    @Test
    void noEventInTimeIsEnoent() throws Exception {
        SnapshotId id = rig.create(TMP, 1L << 20);
        assertErrno(Errno.ENOENT, raw.waitEvent(id, 50), "wait_event");
    }

    @Test
    void collectWithTooLittleRoomIsEnodataAndFillsWhatFits() throws Exception {
        SnapshotId a = rig.create(TMP, 1L << 20);
        SnapshotId b = rig.blksnap().createSnapshot(TMP, 1L << 20);
        try {
            MemorySegment ids = raw.arena.allocate(Abi.BLKSNAP_UUID, 1);
            ids.fill((byte) 0x5a);
            MemorySegment c = raw.collect(1, ids.address());
            assertErrno(Errno.ENODATA, raw.ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_COLLECT, c), "collect");
            // As upstream: count is the number written, the array holds that many ids.
            assertEquals(1, c.get(JAVA_INT, 0), "count says how many were written");
            assertTrue(rig.blksnap().collect().contains(new SnapshotId(Uuid.read(ids, 0))), "an id was written");
            assertTrue(rig.blksnap().collect().containsAll(List.of(a, b)));
        } finally {
            rig.blksnap().destroy(b);
        }
    }

    @Test
    void badPointersAreEfault() throws Exception {
        long bad = RawSnapshot.BAD_POINTER;
        assertErrno(Errno.EFAULT, raw.ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_CREATE, bad), "create arg");
        assertErrno(Errno.EFAULT, raw.ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_CREATE, raw.create(1L << 20, bad)),
                "create filename");
        assertErrno(Errno.EFAULT, raw.ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_DESTROY, bad), "destroy arg");
        assertErrno(Errno.EFAULT, raw.ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_TAKE, bad), "take arg");
        assertErrno(Errno.EFAULT, raw.ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_COLLECT, bad), "collect arg");
        assertErrno(Errno.EFAULT, raw.ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT, bad), "wait_event arg");
        SnapshotId id = rig.create(TMP, 1L << 20);
        assertErrno(Errno.EFAULT, raw.ioctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_COLLECT, raw.collect(16, bad)),
                "collect ids");
        Path loop = attachedLoop();
        assertErrno(Errno.EFAULT, raw.ctl(loop, Abi.CTL_SNAPSHOTADD, 16, bad), "snapshot_add opt");
        assertTrue(raw.add(loop, id).ok(), "a good add after the bad one");
        assertErrno(Errno.EFAULT, raw.ctl(loop, Abi.CTL_SNAPSHOTINFO, 36, bad), "snapshot_info opt");
        assertEquals(1, rig.blksnap().collect().size(), "no snapshot made by a failed create");
    }

    @Test
    void badStoragePathsAreRefused() throws Exception {
        assertErrno(Errno.ENAMETOOLONG, raw.create(1L << 20, "/tmp/" + "x".repeat(5000)), "path > PATH_MAX");
        assertErrno(Errno.EINVAL, raw.create(1L << 20, ""), "empty path");
        assertErrno(Errno.ENOENT, raw.create(1L << 20, "/tmp/no/such/file"), "missing file");
        Path file = Files.createTempFile("snap-store", ".bin");
        Path fifo = file.resolveSibling(file.getFileName() + ".fifo");
        try {
            assertErrno(Errno.EINVAL, raw.create(0, file.toString()), "limit 0 on a file");
            Shell.sh("mkfifo", fifo.toString());
            assertErrno(Errno.EINVAL, raw.create(1L << 20, fifo.toString()), "a FIFO");
            assertErrno(Errno.EINVAL, raw.create(1L << 20, "/dev/null"), "a character device");
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(fifo);
        }
        assertEquals(0, rig.blksnap().collect().size(), "nothing was created");
    }

    /** As upstream: optlen below the struct's size is EINVAL, above it is accepted. */
    @Test
    void optlenBelowTheStructIsEinvalAboveIsAccepted() throws Exception {
        Path loop = attachedLoop();
        SnapshotId id = rig.create(TMP, 1L << 20);
        MemorySegment buf = raw.arena.allocate(64);
        id.uuid().write(buf, 0);
        for (int len : new int[] {0, 15}) {
            assertErrno(Errno.EINVAL, raw.ctl(loop, Abi.CTL_SNAPSHOTADD, len, buf.address()), "add optlen " + len);
        }
        SysResult add = raw.ctl(loop, Abi.CTL_SNAPSHOTADD, 64, buf.address());
        assertTrue(add.ok(), "add optlen 64: " + add);
        for (int len : new int[] {0, 35}) {
            assertErrno(Errno.EINVAL, raw.ctl(loop, Abi.CTL_SNAPSHOTINFO, len, buf.address()),
                    "info optlen " + len);
        }
        buf.fill((byte) 0xaa);
        SysResult info = raw.ctl(loop, Abi.CTL_SNAPSHOTINFO, 64, buf.address());
        assertTrue(info.ok(), "info optlen 64: " + info);
        assertEquals(0, buf.get(JAVA_INT, Abi.offset(Abi.BLKSNAP_SNAPSHOTINFO, "error_code")), "error_code");
        long size = Abi.BLKSNAP_SNAPSHOTINFO.byteSize();
        assertEquals((byte) 0xaa, buf.get(JAVA_BYTE, size), "the byte past the struct");
        assertErrno(Errno.EALREADY, raw.add(loop, id), "the add with optlen 64 added the device");
    }

    @Test
    void withoutCapSysAdminEverythingIsEperm() throws Exception {
        Path loop = attachedLoop();
        SnapshotId id = rig.create(TMP, 1L << 20);
        WithoutSysAdmin.Report r = WithoutSysAdmin.run(NoAdminSnapshotProbe.class, loop.toString(), id.toString());
        for (String what : List.of("create", "destroy", "take", "collect", "wait_event", "snapshot_add",
                "snapshot_info")) {
            assertEquals(Integer.toString(Errno.EPERM), r.get(what), what + " in: " + r.output());
        }
        assertTrue(rig.blksnap().collect().contains(id), "the refused destroy destroyed nothing");
    }
}
