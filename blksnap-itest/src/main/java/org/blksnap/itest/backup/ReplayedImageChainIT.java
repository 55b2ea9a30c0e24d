package org.blksnap.itest.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import org.blksnap.api.DiffStorage;
import org.blksnap.api.Session;
import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.BlkSnapSource;
import org.blksnap.backup.engine.DeviceResult;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Repository;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.verify.Evidence;
import org.blksnap.itest.verify.Stamp;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A backup chain through snapshot images that were written to, as a journal
 * replay on mount writes them (upstream blksnap allows it): a full backup
 * of a replayed image, device writes, an incremental of a replayed image,
 * more device writes, a plain incremental by {@code blksnap backup create};
 * each backup restored by {@code blksnap backup restore} must be, block for
 * block, what its image held when it was read. Every 4 KiB block is
 * stamped (offset, sequence number, who wrote it), so a wrong block names
 * the write it came from.
 *
 * <p>Each kind of write lands in chunks of its own, so no other write
 * makes the incremental read them by accident: a block written only in an
 * image must be read by the backup of that image (the CBT read map marks
 * it) and read again from the device by the next incremental (the write
 * map marks it); without both marks the chain restores stale or replayed
 * data there and no command reports an error.
 */
class ReplayedImageChainIT {
    private static final long MIB = 1L << 20;
    private static final int BLOCK = Stamp.BLOCK;
    private static final int CHUNK = Repository.DEFAULT_CHUNK_SIZE;
    private static final long DEVICE = 32 * MIB;
    private static final int BLOCKS = (int) (DEVICE / BLOCK);
    private static final int PER_CHUNK = CHUNK / BLOCK;
    private static final long TAG = 0x5245504c4159L; // "REPLAY"
    private static final int DEVICE_WRITER = 0;
    private static final int IMAGE_WRITER = 1;
    /** Blocks stamped in each chunk a write touches: its first, one inside, its last. */
    private static final int[] IN_CHUNK = {0, 17, PER_CHUNK - 1};

    /** Chunks each write touches; none shares a chunk with another kind except where said. */
    private static final int[] W2 = range(0, 8);
    private static final int[] R1 = concat(range(8, 16), range(0, 2)); // chunks 0-1 also written by W2
    private static final int[] R2 = concat(range(16, 24), range(2, 4)); // chunks 2-3 also written by W2
    private static final int[] W3 = range(24, 32);

    @Test
    void aChainThroughReplayedImagesRestoresEachBackupAsItsImageWas() throws Exception {
        Path repoDir = Files.createTempDirectory("chain-repo");
        Path restored = Files.createTempDirectory("chain-restored");
        try (LoopDevice src = LoopDevice.create(DEVICE)) {
            Path device = src.device();
            Stamp[] onDevice = new Stamp[BLOCKS];
            long seq = 1;
            write(device, onDevice, IntStream.range(0, BLOCKS).toArray(), seq++, DEVICE_WRITER);

            // 1: full backup of an image that was written after the take.
            Saved full = backupOfAWrittenImage(repoDir, device, onDevice, blocks(R1), seq++, "full");

            // 2: the device changes, the next image is written too, incremental.
            write(device, onDevice, blocks(W2), seq++, DEVICE_WRITER);
            Saved second = backupOfAWrittenImage(repoDir, device, onDevice, blocks(R2), seq++, "incremental");

            // 3: the device changes again; a plain incremental by the command.
            write(device, onDevice, blocks(W3), seq, DEVICE_WRITER);
            Stamp[] atThird = onDevice.clone();
            JsonNode third = Blksnap.run("backup", "create", "--device", device.toString(), "--repo",
                    repoDir.toString(), "--storage", "/tmp", "--limit", "64M", "--json").ok().json();
            Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
            JsonNode thirdDev = third.get("devices").get(0);
            assertEquals("incremental", thirdDev.get("mode").asText(), thirdDev.get("reason").asText());

            List<String> wrong = new ArrayList<>();
            wrong.addAll(restoreAndCompare(repoDir, full.id(), restored, full.image()));
            wrong.addAll(restoreAndCompare(repoDir, second.id(), restored, second.image()));
            wrong.addAll(restoreAndCompare(repoDir, third.get("backup").asText(), restored, atThird));
            assertEquals(List.of(), wrong.subList(0, Math.min(wrong.size(), 24)),
                    wrong.size() + " blocks of the restored chain are not what the images held");

            JsonNode verify = Blksnap.run("backup", "verify", "--repo", repoDir.toString(), "--read-data", "--json")
                    .ok().json();
            assertTrue(verify.get("ok").asBoolean(), verify.toString());
            assertEquals(3, verify.get("backups").asInt());
        } finally {
            Shell.run("rm", "-rf", repoDir.toString(), restored.toString());
        }
        assertEquals(List.of(), Snapshots.list(), "a backup left a snapshot behind");
    }

    /** A backup and what its image held when it was read. */
    private record Saved(String id, Stamp[] image) {
    }

    /**
     * Takes a snapshot, writes stamps to the image (the original must not
     * change), backs the image up with the engine.
     */
    private static Saved backupOfAWrittenImage(Path repoDir, Path device, Stamp[] onDevice, int[] imageBlocks,
            long seq, String mode) throws IOException {
        Stamp[] image = onDevice.clone();
        BackupResult r;
        try (Session s = session(device)) {
            write(s.images().get(0).image(), image, imageBlocks, seq, IMAGE_WRITER);
            r = engineBackup(repoDir, s);
        }
        assertEquals(mode, only(r).mode(), only(r).reason());
        assertContent("the original after the image writes", device, onDevice);
        return new Saved(r.backupId(), image);
    }

    private static Session session(Path device) throws IOException {
        Session s = Session.builder().device(device).storage(DiffStorage.directory(Path.of("/tmp")))
                .limit(64 * MIB).open();
        Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
        return s;
    }

    /** The engine on a snapshot already taken and written to: what a program replaying a journal does. */
    private static BackupResult engineBackup(Path repoDir, Session session) throws IOException {
        try (Repository repo = Repository.openOrCreate(new LocalDirectoryStore(repoDir),
                Repository.DEFAULT_CHUNK_SIZE); BlkSnapSource source = BlkSnapSource.of(session)) {
            return new BackupEngine(repo, BackupEngine.Options.defaults(), ProgressListener.NONE).run(source);
        }
    }

    private static DeviceResult only(BackupResult r) {
        assertEquals(1, r.devices().size());
        return r.devices().get(0);
    }

    private static List<String> restoreAndCompare(Path repoDir, String backup, Path dir, Stamp[] expected)
            throws IOException {
        Path file = dir.resolve(backup + ".img");
        Blksnap.run("backup", "restore", backup, "--repo", repoDir.toString(), "--to", file.toString()).ok();
        try {
            return compare("backup " + backup, file, expected);
        } finally {
            Files.delete(file);
        }
    }

    private static void assertContent(String what, Path path, Stamp[] expected) throws IOException {
        List<String> wrong = compare(what, path, expected);
        assertEquals(List.of(), wrong.subList(0, Math.min(wrong.size(), 24)), wrong.size() + " blocks wrong");
    }

    /** Every block of {@code path} against the stamp it must hold; one line per wrong block. */
    private static List<String> compare(String what, Path path, Stamp[] expected) throws IOException {
        List<String> wrong = new ArrayList<>();
        ByteBuffer buf = ByteBuffer.allocate(CHUNK);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            for (int b = 0; b < BLOCKS; b += PER_CHUNK) {
                buf.clear();
                while (buf.hasRemaining() && ch.read(buf, (long) b * BLOCK + buf.position()) > 0) {
                    // read the whole chunk
                }
                for (int i = 0; i < PER_CHUNK; i++) {
                    Stamp.Content found = Stamp.decode(buf.slice(i * BLOCK, BLOCK));
                    Stamp want = expected[b + i];
                    if (!(found instanceof Stamp.Stamped(Stamp got) && got.equals(want))) {
                        wrong.add(what + ": block " + (b + i) + " (chunk " + (b + i) / PER_CHUNK + "): expected "
                                + describe(want) + ", found " + found.describe());
                    }
                }
            }
        }
        Evidence.add(Evidence.Tally.BLOCKS_VERIFIED, BLOCKS);
        Evidence.add(Evidence.Tally.BYTES_COMPARED, DEVICE);
        return wrong;
    }

    private static String describe(Stamp s) {
        return (s.writer() == IMAGE_WRITER ? "image write" : "device write") + " seq " + s.seq();
    }

    /** Writes a stamp to each block, durably, and records it in the model. */
    private static void write(Path path, Stamp[] model, int[] blocks, long seq, int writer) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(BLOCK);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            for (int b : blocks) {
                Stamp s = new Stamp(TAG, (long) b * BLOCK, seq, writer);
                buf.clear();
                s.encode(buf);
                buf.flip();
                while (buf.hasRemaining()) {
                    ch.write(buf, (long) b * BLOCK + buf.position());
                }
                model[b] = s;
            }
            ch.force(true);
        }
    }

    private static int[] blocks(int[] chunks) {
        return IntStream.of(chunks).flatMap(c -> IntStream.of(IN_CHUNK).map(i -> c * PER_CHUNK + i)).toArray();
    }

    private static int[] range(int from, int to) {
        return IntStream.range(from, to).toArray();
    }

    private static int[] concat(int[] a, int[] b) {
        return IntStream.concat(IntStream.of(a), IntStream.of(b)).toArray();
    }
}
