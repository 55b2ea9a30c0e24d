package org.blksnap.itest.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;

import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.api.SnapshotId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

/** The snapshot commands against the real module, on loop devices with storage in /tmp (tmpfs). */
class SnapshotCommandsIT {
    private static final long MIB = 1L << 20;

    /** Whatever a failed test left behind must not break the next one. */
    @AfterEach
    void destroyLeftovers() throws IOException {
        Snapshots.destroyAll();
    }

    private static List<String> ids() {
        return Shell.blksnap("snapshot_collect").ok().out().lines().map(l -> l.substring("id=".length())).toList();
    }

    static byte[] fill(Path device, long bytes, long seed) throws IOException {
        byte[] data = new byte[(int) bytes];
        new Random(seed).nextBytes(data);
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), 0);
            ch.force(true);
        }
        return data;
    }

    static byte[] read(Path device, long bytes) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) bytes);
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
            while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) {
                // keep reading
            }
        }
        return buf.array();
    }

    @Test
    void lowLevelLifeCycle() throws IOException {
        try (LoopDevice loop = LoopDevice.create(32 * MIB)) {
            byte[] before = fill(loop.device(), 8 * MIB, 1);
            String id = Shell.blksnap("snapshot_create", "--device", loop.path(), "--file", "/tmp", "--limit", "64M")
                    .ok().out().strip();
            SnapshotId.parse(id);
            assertTrue(ids().contains(id), ids()::toString);
            JsonNode all = Json.parse(Shell.blksnap("snapshot_collect", "--json").ok().out());
            assertTrue(all.get("snapshots").toString().contains(id), all::toString);

            Shell.Result info = Shell.blksnap("snapshot_info", "-d", loop.path()).ok();
            assertEquals("0", info.value("error_code"));
            assertEquals("", info.value("image"));

            Shell.blksnap("snapshot_take", "--id", id).ok();
            String image = Shell.blksnap("snapshot_info", "-d", loop.path(), "--field", "image").ok().out().strip();
            assertTrue(image.startsWith("/dev/blksnap-"), image);
            assertTrue(Files.exists(Path.of(image)), image);
            JsonNode ij = Json.parse(Shell.blksnap("snapshot_info", "-d", loop.path(), "-j").ok().out());
            assertEquals(image, ij.get("image").asText());
            assertEquals(0, ij.get("error_code").asInt());

            fill(loop.device(), 8 * MIB, 2);
            assertArrayEquals(before, read(Path.of(image), 8 * MIB), "image must keep the content at take");

            assertEquals("result=timeout\n", Shell.blksnap("snapshot_waitevent", "-i", id, "-t", "100").ok().out());
            assertEquals("timeout", Json.parse(Shell.blksnap("snapshot_waitevent", "-i", id, "-t", "0", "-j").ok()
                    .out()).get("result").asText());

            Shell.Result again = Shell.blksnap("snapshot_take", "-i", id);
            assertEquals(6, again.status(), again::toString);
            assertEquals("blksnap snapshot_take: snapshot " + id + " already taken\n", again.err());

            Shell.Result status = Shell.blksnap("status").ok();
            assertTrue(status.out().lines().anyMatch(l -> l.startsWith(loop.path() + " ") && l.contains(image)),
                    status.out());

            Shell.blksnap("snapshot_destroy", "--id", id).ok();
            assertFalse(ids().contains(id));
            assertFalse(Files.exists(Path.of(image)), image + " must vanish with the snapshot");
            Shell.Result gone = Shell.blksnap("snapshot_destroy", "-i", id);
            assertEquals(5, gone.status(), gone::toString);
            assertTrue(gone.err().contains("snapshot " + id + " not found"), gone.err());
        }
    }

    @Test
    void addErrors() throws IOException {
        try (LoopDevice loop = LoopDevice.create(16 * MIB); LoopDevice other = LoopDevice.create(16 * MIB)) {
            String unknown = "00000000-0000-0000-0000-00000000abcd";
            Shell.Result r = Shell.blksnap("snapshot_add", "-i", unknown, "-d", loop.path());
            assertEquals(5, r.status(), r::toString);
            assertEquals("blksnap snapshot_add: snapshot " + unknown + " not found\n", r.err());

            String a = Shell.blksnap("snapshot_create", "-d", loop.path(), "-f", "/tmp", "-l", "16M").ok().out().strip();
            String b = Shell.blksnap("snapshot_create", "-f", "/tmp", "-l", "16M").ok().out().strip();
            Shell.Result busy = Shell.blksnap("snapshot_add", "-i", b, "-d", loop.path());
            assertEquals(6, busy.status(), busy::toString);
            assertTrue(busy.err().contains("device already in a snapshot"), busy.err());

            Shell.Result empty = Shell.blksnap("snapshot_take", "-i", b);
            assertEquals(6, empty.status(), empty::toString);
            assertTrue(empty.err().contains("has no devices"), empty.err());

            Shell.Result detach = Shell.blksnap("detach", "-d", loop.path());
            assertEquals(6, detach.status(), detach::toString);
            assertTrue(detach.err().contains("destroy the snapshot first"), detach.err());

            Shell.blksnap("snapshot_add", "-i", b, "-d", other.path()).ok();
            Shell.blksnap("snapshot_destroy", "-i", a).ok();
            Shell.blksnap("snapshot_destroy", "-i", b).ok();
        }
    }

    @Test
    void snapshotRunsCommandWithImagesAndDestroys(@TempDir Path tmp) throws IOException {
        try (LoopDevice a = LoopDevice.create(16 * MIB); LoopDevice b = LoopDevice.create(16 * MIB)) {
            byte[] da = fill(a.device(), 4 * MIB, 3);
            byte[] db = fill(b.device(), 4 * MIB, 4);
            Path report = tmp.resolve("report");
            Path copyA = tmp.resolve("a.img");
            Path copyB = tmp.resolve("b.img");
            String script = "echo \"$BLKSNAP_IMAGE_COUNT $BLKSNAP_DEVICE_0 $BLKSNAP_DEVICE_1 $BLKSNAP_SNAPSHOT_ID\" > "
                    + report + " && echo \"$BLKSNAP_IMAGES\" >> " + report
                    // Overwrite the originals while the snapshot exists: the copies must not see it.
                    + " && dd if=/dev/zero of=$BLKSNAP_DEVICE_0 bs=1M count=4 conv=fsync status=none"
                    + " && dd if=/dev/zero of=$BLKSNAP_DEVICE_1 bs=1M count=4 conv=fsync status=none"
                    + " && dd if=$BLKSNAP_IMAGE_0 of=" + copyA + " bs=1M count=4 status=none"
                    + " && dd if=$BLKSNAP_IMAGE_1 of=" + copyB + " bs=1M count=4 status=none";
            Shell.Result r = Shell.blksnap("snapshot", "--device", a.path(), "--device", b.path(), "--storage", "/tmp",
                    "--limit", "64M", "--", "sh", "-c", script);
            assertEquals(0, r.status(), r::toString);
            List<String> lines = Files.readAllLines(report);
            String[] first = lines.get(0).split(" ");
            assertEquals("2", first[0]);
            assertEquals(a.path(), first[1]);
            assertEquals(b.path(), first[2]);
            String[] images = lines.get(1).split(" ");
            assertEquals(2, images.length);
            assertTrue(r.err().contains("snapshot " + first[3] + " taken: " + a.path() + " -> " + images[0]), r.err());
            assertTrue(r.err().contains("snapshot " + first[3] + " destroyed"), r.err());
            assertArrayEquals(da, Files.readAllBytes(copyA));
            assertArrayEquals(db, Files.readAllBytes(copyB));
            assertTrue(ids().isEmpty(), ids()::toString);
            for (String image : images) {
                assertFalse(Files.exists(Path.of(image)), image);
            }
        }
    }

    @Test
    void failingCommandStillDestroys() throws IOException {
        try (LoopDevice a = LoopDevice.create(16 * MIB)) {
            Shell.Result r = Shell.blksnap("snapshot", "-d", a.path(), "-s", "/tmp", "-l", "16M", "--",
                    "sh", "-c", "exit 42");
            assertEquals(42, r.status(), r::toString);
            assertTrue(ids().isEmpty(), ids()::toString);

            Shell.Result missing = Shell.blksnap("snapshot", "-d", a.path(), "-s", "/tmp", "-l", "16M", "--",
                    "/nonexistent/tool");
            assertEquals(127, missing.status(), missing::toString);
            assertTrue(missing.err().contains("cannot run /nonexistent/tool"), missing.err());
            assertTrue(ids().isEmpty(), ids()::toString);
        }
    }

    @Test
    void storageOverflowDuringCommandExitsSeven() throws IOException {
        try (LoopDevice a = LoopDevice.create(64 * MIB)) {
            fill(a.device(), 32 * MIB, 5);
            Shell.Result r = Shell.blksnap("snapshot", "-d", a.path(), "-s", "/tmp", "-l", "1M", "--",
                    "sh", "-c", "dd if=/dev/urandom of=$BLKSNAP_DEVICE_0 bs=1M count=32 conv=fsync status=none"
                            + " && sleep 1");
            assertEquals(7, r.status(), r::toString);
            assertTrue(r.err().contains("broke while COMMAND ran"), r.err());
            assertTrue(ids().isEmpty(), ids()::toString);
        }
    }

    @Test
    void watcherEndsWhenTheSnapshotIsDestroyed() throws Exception {
        try (LoopDevice a = LoopDevice.create(16 * MIB)) {
            String id = Shell.blksnap("snapshot_create", "-d", a.path(), "-f", "/tmp", "-l", "16M").ok().out().strip();
            Shell.blksnap("snapshot_take", "-i", id).ok();
            var watcher = new java.util.concurrent.CompletableFuture<Shell.Result>();
            Thread.ofVirtual().start(() -> watcher.complete(Shell.blksnap("snapshot_watcher", "-i", id)));
            Thread.sleep(1500);
            assertFalse(watcher.isDone(), "the watcher must wait while the snapshot exists");
            Shell.blksnap("snapshot_destroy", "-i", id).ok();
            Shell.Result r = watcher.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(0, r.status(), r::toString);
            assertTrue(r.out().endsWith("result=destroyed\nid=" + id + "\n"), r.out());
        }
    }
}
