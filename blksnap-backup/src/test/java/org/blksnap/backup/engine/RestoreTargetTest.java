package org.blksnap.backup.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import org.blksnap.backup.BackupException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a restore may write to: every kind of path a user may type by mistake. */
class RestoreTargetTest {
    @TempDir
    Path dir;

    private static String refused(Path given, boolean force) {
        BackupException e = assertThrows(BackupException.class, () -> RestoreTarget.of(given, force));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().startsWith(given.toString()) || e.getMessage().startsWith("cannot create " + given),
                e.getMessage());
        return e.getMessage();
    }

    private static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000;
    }

    @Test
    void devNullIsRefusedAndStaysACharacterDevice() throws IOException {
        Path devNull = Path.of("/dev/null");
        assertEquals(0020000, mode(devNull));
        for (boolean force : new boolean[] {false, true}) {
            assertTrue(refused(devNull, force).contains("is a character device"));
        }
        assertEquals(0020000, mode(devNull));
    }

    @Test
    void aMissingNameUnderDevIsRefusedAndNotCreated() {
        Path typo = Path.of("/dev/sdz-blksnap-test");
        String m = refused(typo, true);
        assertTrue(m.contains("under /dev only an existing block device"), m);
        assertFalse(Files.exists(typo, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aFileUnderDevShmIsRefused() throws IOException {
        Path shm = Path.of("/dev/shm");
        if (!Files.isDirectory(shm)) {
            throw new IllegalStateException("this test needs /dev/shm");
        }
        Path file = shm.resolve("blksnap-restore-test-" + ProcessHandle.current().pid());
        assertTrue(refused(file, true).contains("under /dev"));
        assertFalse(Files.exists(file, LinkOption.NOFOLLOW_LINKS));
        Files.writeString(file, "mine");
        try {
            assertTrue(refused(file, true).contains("under /dev"));
            assertEquals("mine", Files.readString(file));
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void aFifoIsRefused() throws Exception {
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        assertTrue(refused(fifo, true).contains("is a FIFO"));
        assertEquals(0010000, mode(fifo));
    }

    @Test
    void aDirectoryIsRefused() throws IOException {
        Path d = Files.createDirectory(dir.resolve("d"));
        assertTrue(refused(d, true).contains("is a directory"));
    }

    @Test
    void symbolicLinksToAnythingButABlockDeviceAreRefused() throws IOException {
        Path file = Files.writeString(dir.resolve("file"), "mine");
        Path toFile = Files.createSymbolicLink(dir.resolve("to-file"), file);
        Path toDir = Files.createSymbolicLink(dir.resolve("to-dir"), dir);
        Path toNull = Files.createSymbolicLink(dir.resolve("to-null"), Path.of("/dev/null"));
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nothing"));
        assertTrue(refused(toFile, true).contains("is a symbolic link to a regular file"));
        assertTrue(refused(toDir, true).contains("is a symbolic link to a directory"));
        assertTrue(refused(toNull, true).contains("is a symbolic link to a character device"));
        assertTrue(refused(dangling, true).contains("is a symbolic link to nothing"));
        assertEquals("mine", Files.readString(file));
        assertEquals(0120000, mode(toFile));
        Files.delete(toNull);
    }

    @Test
    void anExistingFileNeedsForce() throws IOException {
        Path file = Files.writeString(dir.resolve("old.img"), "mine");
        assertTrue(refused(file, false).contains("exists: give --force to replace it"));
        assertEquals("mine", Files.readString(file));
        RestoreTarget.File t = assertInstanceOf(RestoreTarget.File.class, RestoreTarget.of(file, true));
        assertTrue(t.replaces());
    }

    @Test
    void aNewFileInAnExistingDirectoryIsAccepted() throws IOException {
        Path file = dir.resolve("new.img");
        RestoreTarget.File t = assertInstanceOf(RestoreTarget.File.class, RestoreTarget.of(file, false));
        assertFalse(t.replaces());
        assertEquals(file, t.given());
        assertFalse(Files.exists(file));
    }

    @Test
    void aBadDirectoryIsNamedAsGiven() throws IOException {
        Path missing = dir.resolve("no/such/dir/x.img");
        assertEquals("cannot create " + missing + ": " + dir.resolve("no/such/dir") + " does not exist",
                refused(missing, true));
        Path file = Files.writeString(dir.resolve("plain"), "mine");
        Path under = file.resolve("x.img");
        assertEquals("cannot create " + under + ": " + file + " is not a directory", refused(under, true));
        Path relative = Path.of("blksnap-no-such-dir-" + ProcessHandle.current().pid(), "x.img");
        assertEquals("cannot create " + relative + ": " + relative.getParent() + " does not exist",
                refused(relative, true));
    }

    @Test
    void aBlockDeviceIsATarget() throws IOException {
        Path loop = Path.of("/dev/loop0");
        if (mode(loop) != 0060000) {
            throw new IllegalStateException("this test needs /dev/loop0");
        }
        // Only classified, never opened: the host's loop devices are not ours.
        RestoreTarget.BlockDevice t = assertInstanceOf(RestoreTarget.BlockDevice.class, RestoreTarget.of(loop, false));
        assertEquals(loop, t.device());
        Path link = Files.createSymbolicLink(dir.resolve("by-id-like"), loop);
        RestoreTarget.BlockDevice viaLink = assertInstanceOf(RestoreTarget.BlockDevice.class,
                RestoreTarget.of(link, false));
        assertEquals(loop, viaLink.device());
        assertEquals(link, viaLink.given());
        Files.delete(link);
    }

    @Test
    void readBackUsesODirectAndHandlesAnUnalignedEnd() throws IOException {
        byte[] data = new byte[3 * 4096 + 100];
        new java.util.Random(3).nextBytes(data);
        Path file = Files.write(dir.resolve("data"), data);
        try (DirectReader r = DirectReader.open(file, file, 2 * 4096)) {
            byte[] got = new byte[2 * 4096];
            r.readFully(got, 2 * 4096, 0);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 0, 2 * 4096), got);
            r.readFully(got, 4096 + 100, 2 * 4096);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 2 * 4096, data.length),
                    java.util.Arrays.copyOf(got, 4096 + 100));
            BackupException e = assertThrows(BackupException.class, () -> r.readFully(new byte[8192], 4096 + 101,
                    2 * 4096));
            assertTrue(e.getMessage().contains("ends at byte " + data.length), e.getMessage());
            assertTrue(openFlagsOfReaders(file).stream().allMatch(f -> (f & 040000) != 0),
                    "every descriptor open on the file has O_DIRECT");
            assertFalse(openFlagsOfReaders(file).isEmpty());
        }
    }

    /** The open flags of this process's descriptors on {@code file}, from /proc/self/fdinfo. */
    private static java.util.List<Integer> openFlagsOfReaders(Path file) throws IOException {
        java.util.List<Integer> flags = new java.util.ArrayList<>();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                Path to;
                try {
                    to = Files.readSymbolicLink(fd);
                } catch (IOException e) {
                    continue;
                }
                if (to.equals(file)) {
                    for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo").resolve(fd.getFileName()))) {
                        if (line.startsWith("flags:")) {
                            flags.add(Integer.parseInt(line.substring(6).strip(), 8));
                        }
                    }
                }
            }
        }
        return flags;
    }
}
