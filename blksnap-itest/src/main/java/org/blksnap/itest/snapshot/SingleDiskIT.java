package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.blksnap.api.BlkSnapException;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.sys.Errno;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A machine with one disk: the difference storage is a file on the very
 * filesystem being snapshotted (issue 16). The module pins the file and
 * writes its sectors with bios, so the filesystem never changes under its
 * own snapshot.
 */
class SingleDiskIT {
    private static final Path DISK = GuestOs.VDB;
    private static final long STORE_BYTES = 192L << 20;
    private static final Duration FSCK_TIMEOUT = Duration.ofMinutes(10);

    /** The file's extents as the filesystem reports them (FIEMAP, through filefrag). */
    private static String extents(Path file) throws IOException {
        return Shell.sh("filefrag", "-v", "-b4096", file.toString());
    }

    private static void assertFsckClean(String fs, Path device) throws IOException {
        Shell.Result r = fs.equals("xfs") ? Shell.run(FSCK_TIMEOUT, "xfs_repair", "-n", device.toString())
                : Shell.run(FSCK_TIMEOUT, "e2fsck", "-fn", device.toString());
        assertEquals(0, r.status(), "fsck of " + device + ":\n" + r.output());
    }

    private static void writeFiles(Path dir, int count, int mib, long seed) throws IOException {
        for (int i = 0; i < count; i++) {
            Data.writeFile(dir.resolve("file" + i), mib << 20, seed + i);
        }
    }

    private static boolean allZeros(Path file) throws IOException {
        String zeros = Shell.sh("sh", "-c", "head -c " + Files.size(file) + " /dev/zero | md5sum | cut -d' ' -f1");
        return Shell.sh("sh", "-c", "md5sum < '" + file + "' | cut -d' ' -f1").equals(zeros);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ext4", "xfs"})
    void theFilesystemHoldingTheStorageIsSnapshottedWhileWritten(String fs) throws Exception {
        Path store;
        String before;
        try (Rig rig = new Rig()) {
            GuestOs.mkfs(fs, DISK);
            Path live = rig.mount(DISK, fs);
            writeFiles(live, 6, 8, 100);
            store = live.resolve("blksnap.store");
            Shell.sh("fallocate", "-l", Long.toString(STORE_BYTES), store.toString());
            Shell.sh("sync");
            before = extents(store);
            Map<String, String> atTake = Data.md5Tree(live);

            Path image = rig.snapshot(DiffStorage.file(store), STORE_BYTES >> 9, DISK).get(0);

            // Written while the snapshot lives: overwrites, new files, deletes.
            for (int i = 0; i < 6; i++) {
                Data.overwrite(live.resolve("file" + i), 1 << 20, 3 << 20, 200 + i);
            }
            writeFiles(Files.createDirectories(live.resolve("more")), 4, 6, 300);
            Files.delete(live.resolve("file5"));
            Data.writeFile(live.resolve("new"), 24 << 20, 400);
            Shell.sh("sync");
            assertNotEquals(atTake, Data.md5Tree(live), "the live filesystem must have changed");

            // The pin: nobody changes the storage file while the snapshot lives.
            assertFalse(Shell.run("truncate", "-s", "0", store.toString()).ok(), "truncate of the storage");
            assertFalse(Shell.run("mv", store.toString(), live.resolve("moved").toString()).ok(),
                    "rename of the storage");
            assertFalse(Shell.run("rm", "-f", store.toString()).ok(), "unlink of the storage");
            assertFalse(Shell.run("dd", "if=/dev/zero", "of=" + store, "bs=4k", "count=1", "conv=notrunc",
                    "status=none").ok(), "write to the storage");
            assertFalse(Shell.run("fallocate", "-p", "-o", "0", "-l", "1M", store.toString()).ok(),
                    "punching a hole in the storage");
            assertTrue(Files.exists(store));

            assertEquals(0, Rig.info(DISK).errorCode(), "the snapshot is intact");
            Path mounted = rig.mountImage(image, fs);
            assertEquals(atTake, Data.md5Tree(mounted), "the image shows every file as at the take, the storage"
                    + " file included (zeros)");
            Shell.sh("umount", mounted.toString());
            // After the mount: xfs_repair -n refuses a log not replayed yet (a frozen xfs may leave one).
            assertFsckClean(fs, image);

            rig.blksnap().destroy(rig.id());
            assertEquals(before, extents(store), "the storage file's extents are those of before the take");
            assertTrue(allZeros(store), "the filesystem still reads the storage file as it was: zeros");
            Shell.sh("truncate", "-s", "0", store.toString());
        }
        assertFsckClean(fs, DISK);
    }

    @Test
    void overflowOfThePreallocatedFileCorruptsOnlyTheSnapshot() throws Exception {
        try (Rig rig = new Rig()) {
            GuestOs.mkfs("ext4", DISK);
            Path live = rig.mount(DISK, "ext4");
            Path store = live.resolve("small.store");
            // 4 MiB: 16 chunks of 256 KiB.
            Shell.sh("fallocate", "-l", Long.toString(4L << 20), store.toString());
            String before = extents(store);
            Path image = rig.snapshot(DiffStorage.file(store), 8192, DISK).get(0);

            writeFiles(live, 4, 16, 500);
            Shell.sh("sync");
            Map<String, String> written = Data.md5Tree(live);

            assertEquals(-Errno.ENOSPC, Rig.info(DISK).errorCode(), "the full storage corrupted the snapshot");
            Predicate<SnapshotEvent> noSpace = e -> e instanceof SnapshotEvent.NoSpace;
            Predicate<SnapshotEvent> corrupted = e -> e instanceof SnapshotEvent.Corrupted c
                    && c.errno() == Errno.ENOSPC;
            List<SnapshotEvent> events = Snapshots.eventsUntil(rig.blksnap(), rig.id(), List.of(noSpace, corrupted));
            assertTrue(events.stream().anyMatch(noSpace), "no_space event in " + events);
            assertThrows(IOException.class, () -> Data.md5Range(image, 0, 1 << 20), "image I/O must fail");

            rig.blksnap().destroy(rig.id());
            assertEquals(before, extents(store), "the storage did not grow");
            Shell.sh("umount", live.toString());
            assertFsckClean("ext4", DISK);
            Shell.sh("mount", "-t", "ext4", DISK.toString(), live.toString());
            Shell.sh("sh", "-c", "echo 3 > /proc/sys/vm/drop_caches");
            assertEquals(written, Data.md5Tree(live), "every write after the take reached the filesystem");
        }
    }

    /** An upstream caller passes an empty file: the add allocates it up to the limit. */
    @Test
    void anEmptyFileIsAllocatedUpToTheLimitAtTheAdd() throws Exception {
        try (Rig rig = new Rig()) {
            GuestOs.mkfs("xfs", DISK);
            Path live = rig.mount(DISK, "xfs");
            Path store = live.resolve("empty.store");
            Files.createFile(store);
            rig.attach(DISK);
            SnapshotId id = rig.create(DiffStorage.file(store), 1L << 16);
            try (Filter f = Filter.open(DISK)) {
                f.snapshotAdd(id);
            }
            assertEquals(32L << 20, Files.size(store), "allocated to the limit before the take");
            rig.blksnap().take(id);
            Data.writeFile(live.resolve("after"), 8 << 20, 600);
            Shell.sh("sync");
            assertEquals(0, Rig.info(DISK).errorCode());
        }
    }

    private static int addErrno(Rig rig, SnapshotId id) throws IOException {
        try (Filter f = Filter.open(DISK)) {
            f.snapshotAdd(id);
            return 0;
        } catch (BlkSnapException e) {
            return e.errno();
        }
    }

    @Test
    void aReflinkedFileIsRefusedWithEopnotsupp() throws Exception {
        try (Rig rig = new Rig()) {
            GuestOs.mkfs("xfs", DISK);
            Path live = rig.mount(DISK, "xfs");
            Path original = live.resolve("original");
            Shell.sh("dd", "if=/dev/urandom", "of=" + original, "bs=1M", "count=32", "status=none");
            Path store = live.resolve("clone.store");
            Shell.sh("cp", "--reflink=always", original.toString(), store.toString());
            rig.attach(DISK);
            SnapshotId id = rig.create(DiffStorage.file(store), 1L << 16);
            assertEquals(Errno.EOPNOTSUPP, addErrno(rig, id), "shared extents move on the next write");
        }
    }

    @Test
    void aFileSomeoneElseWritesIsRefusedWithEtxtbsy() throws Exception {
        try (Rig rig = new Rig()) {
            GuestOs.mkfs("ext4", DISK);
            Path live = rig.mount(DISK, "ext4");
            Path store = live.resolve("busy.store");
            Shell.sh("fallocate", "-l", Long.toString(32L << 20), store.toString());
            rig.attach(DISK);
            SnapshotId id = rig.create(DiffStorage.file(store), 1L << 16);
            Process writer = new ProcessBuilder("sh", "-c", "exec 3>>'" + store + "'; exec sleep 600").start();
            try {
                Thread.sleep(500);
                assertEquals(Errno.ETXTBSY, addErrno(rig, id), "another process holds the file open for writing");
            } finally {
                writer.destroyForcibly().waitFor();
            }
            assertEquals(0, addErrno(rig, id), "admitted once the writer is gone");
        }
    }
}
