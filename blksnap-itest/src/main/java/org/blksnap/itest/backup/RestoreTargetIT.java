package org.blksnap.itest.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Restores to block devices: opened exclusively, so a device that is
 * mounted or held by another program is refused and left as it was;
 * reached through a symbolic link and verified (read back with O_DIRECT).
 */
class RestoreTargetIT {
    private static final long MIB = 1L << 20;
    private static final long DEVICE = 16 * MIB;

    private Path repo;

    @BeforeEach
    void repo() throws IOException {
        repo = Files.createTempDirectory("restore-repo");
    }

    @AfterEach
    void clean() throws IOException {
        Shell.run("rm", "-rf", repo.toString());
    }

    // Restore targets, not encryption, are under test here (BackupIT and
    // the host tests cover encrypted repositories).
    private void backup(LoopDevice src) throws IOException {
        LiveFs.write(src.file(), (int) (12 * MIB), 11);
        Blksnap.run("backup", "create", "--device", src.path(), "--repo", repo.toString(), "--storage", "/tmp",
                "--limit", "16M", "--quiet", "--encryption", "none").ok();
    }

    private static byte[] head(Path device, int n) throws IOException {
        try (var in = Files.newInputStream(device)) {
            return in.readNBytes(n);
        }
    }

    @Test
    void aDeviceAnotherProgramHoldsExclusivelyIsRefusedAndUntouched() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE); LoopDevice target = LoopDevice.create(DEVICE)) {
            backup(src);
            byte[] before = head(target.device(), (int) DEVICE);
            SysResult held = Linux.open(target.path(), Linux.O_RDONLY | Linux.O_EXCL | Linux.O_CLOEXEC);
            assertTrue(held.ok(), held::toString);
            try {
                Blksnap.Result r = Blksnap.run("backup", "restore", "latest", "--repo", repo.toString(), "--to",
                        target.path());
                assertEquals(6, r.status(), r.err());
                assertEquals(1, r.errLines(), r.err());
                assertTrue(r.err().contains(target.path() + " is in use"), r.err());
            } finally {
                Linux.close(held.intValue());
            }
            assertArrayEquals(before, head(target.device(), (int) DEVICE), "the held device was not written");
        }
    }

    @Test
    void aMountedDeviceIsRefused() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE); LoopDevice target = LoopDevice.create(DEVICE)) {
            backup(src);
            Shell.sh("mkfs.ext4", "-q", target.path());
            Path mnt = Files.createTempDirectory("restore-mnt");
            Shell.sh("mount", target.path(), mnt.toString());
            try {
                Blksnap.Result r = Blksnap.run("backup", "restore", "latest", "--repo", repo.toString(), "--to",
                        target.path());
                assertEquals(1, r.errLines(), r.err());
                assertTrue(r.status() != 0 && r.err().contains("mounted"), r.err());
            } finally {
                Shell.sh("umount", mnt.toString());
                Files.delete(mnt);
            }
            assertEquals(0, Shell.run("e2fsck", "-fn", target.path()).status(), "the filesystem is intact");
        }
    }

    @Test
    void aLinkToADeviceIsRestoredThroughAndVerifiedWithODirect() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE); LoopDevice target = LoopDevice.create(DEVICE)) {
            backup(src);
            Path link = Files.createTempDirectory("by-id").resolve("stable-name");
            Files.createSymbolicLink(link, target.device());
            try {
                Blksnap.run("backup", "restore", "latest", "--repo", repo.toString(), "--to", link.toString(),
                        "--verify").ok();
                assertTrue(Files.isSymbolicLink(link), "the link is still a link");
                byte[] written = Files.readAllBytes(src.file());
                assertArrayEquals(written, head(target.device(), written.length));
            } finally {
                Files.delete(link);
                Files.delete(link.getParent());
            }
        }
    }

    /**
     * A restore writes whole 4 KiB blocks with O_DIRECT and what is left of
     * a device whose size is no multiple of them through its page cache:
     * every byte to the last sector must arrive, nothing beyond the image.
     */
    @Test
    void aDeviceWhoseSizeIsNoWholeBlockIsRestoredToItsLastSector() throws Exception {
        long size = DEVICE + 512;
        try (LoopDevice src = LoopDevice.create(size); LoopDevice target = LoopDevice.create(size)) {
            byte[] content = new byte[(int) size];
            new java.util.Random(23).nextBytes(content);
            fill(src.device(), content);
            byte[] ones = new byte[(int) size];
            java.util.Arrays.fill(ones, (byte) 0xff);
            fill(target.device(), ones);
            Blksnap.run("backup", "create", "--device", src.path(), "--repo", repo.toString(), "--storage", "/tmp",
                    "--limit", "16M", "--quiet", "--encryption", "none").ok();
            Blksnap.run("backup", "restore", "latest", "--repo", repo.toString(), "--to", target.path(),
                    "--verify").ok();
            assertArrayEquals(content, head(target.device(), (int) size), "every byte, the last sector's too");
        }
    }

    private static void fill(Path device, byte[] content) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(device,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(content);
            while (b.hasRemaining()) {
                ch.write(b, b.position());
            }
            ch.force(true);
        }
    }
}
