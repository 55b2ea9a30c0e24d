package org.blksnap.itest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.api.FileExtents;
import org.blksnap.api.SectorRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

/** version, attach, detach, cbtinfo, readcbtmap, markdirtyblock and status against the real module. */
class CbtCommandsIT {
    private static final long MIB = 1L << 20;

    @Test
    void versionTextAndJsonAgreeWithSysfs() throws IOException {
        String sysfs = Files.readString(Path.of("/sys/module/blksnap/version")).strip();
        assertEquals(sysfs + "\n", Shell.blksnap("version").ok().out());
        JsonNode j = Json.parse(Shell.blksnap("version", "--json").ok().out());
        assertEquals(sysfs, j.get("version").asText());
        assertEquals(sysfs, j.get("major").asInt() + "." + j.get("minor").asInt() + "." + j.get("revision").asInt()
                + "." + j.get("build").asInt());
    }

    @Test
    void attachCbtinfoDetach() throws IOException {
        try (LoopDevice loop = LoopDevice.create(64 * MIB)) {
            Shell.blksnap("attach", "--device", loop.path()).ok();
            Shell.Result text = Shell.blksnap("cbtinfo", "--device", loop.path()).ok();
            assertEquals(64 * MIB, Long.parseLong(text.value("device_capacity")));
            int blockSize = Integer.parseInt(text.value("block_size"));
            assertEquals(Math.ceilDiv(64 * MIB, blockSize), Long.parseLong(text.value("block_count")));
            assertEquals("0", text.value("changes_number"));

            JsonNode j = Json.parse(Shell.blksnap("cbtinfo", "-d", loop.path(), "-j").ok().out());
            assertEquals(blockSize, j.get("block_size").asInt());
            assertEquals(text.value("generation_id"), j.get("generation_id").asText());
            assertEquals(64 * MIB, j.get("device_capacity").asLong());

            // As with the upstream tool, attaching twice is not an error.
            Shell.blksnap("attach", "-d", loop.path()).ok();
            Shell.blksnap("detach", "-d", loop.path()).ok();

            Shell.Result gone = Shell.blksnap("cbtinfo", "-d", loop.path());
            assertEquals(5, gone.status(), gone::toString);
            assertEquals("blksnap cbtinfo: " + loop.path() + ": blksnap filter not attached: blksnap attach --device "
                    + loop.path() + "\n", gone.err());
            Shell.Result again = Shell.blksnap("detach", "-d", loop.path());
            assertEquals(5, again.status(), again::toString);
        }
    }

    @Test
    void readcbtmapShowsWritesAfterTheSwitch(@TempDir Path tmp) throws IOException {
        try (LoopDevice loop = LoopDevice.create(64 * MIB)) {
            Shell.blksnap("attach", "-d", loop.path()).ok();
            int blockSize = Integer.parseInt(Shell.blksnap("cbtinfo", "-d", loop.path()).ok().value("block_size"));
            long at = 5L * blockSize + 4096;
            try (FileChannel ch = FileChannel.open(loop.device(), StandardOpenOption.WRITE, StandardOpenOption.DSYNC)) {
                ch.write(ByteBuffer.wrap(new byte[8192]), at);
                ch.force(true);
            }
            Debugfs.cbtSwitch(loop.device());

            assertEquals("extent offset=" + 5L * blockSize + " length=" + blockSize + "\n",
                    "extent " + Shell.blksnap("readcbtmap", "-d", loop.path()).ok().out());
            JsonNode j = Json.parse(Shell.blksnap("readcbtmap", "-d", loop.path(), "--json").ok().out());
            assertEquals(1, j.get("changes_number").asInt());
            assertEquals(blockSize, j.get("changed_bytes").asLong());
            assertEquals(5L * blockSize, j.get("extents").get(0).get("offset").asLong());
            // Nothing changed after take 1.
            assertEquals("", Shell.blksnap("readcbtmap", "-d", loop.path(), "--since", "1").ok().out());

            Path raw = tmp.resolve("map");
            Shell.blksnap("readcbtmap", "-d", loop.path(), "--file", raw.toString()).ok();
            byte[] map = Files.readAllBytes(raw);
            assertEquals(Math.ceilDiv(64 * MIB, blockSize), map.length);
            for (int i = 0; i < map.length; i++) {
                assertEquals(i == 5 ? 1 : 0, map[i], "block " + i);
            }
        }
    }

    @Test
    void markdirtyblockByRangeAndByFile(@TempDir Path tmp) throws IOException {
        try (LoopDevice loop = LoopDevice.create(64 * MIB)) {
            Shell.blksnap("attach", "-d", loop.path()).ok();
            int blockSize = Integer.parseInt(Shell.blksnap("cbtinfo", "-d", loop.path()).ok().value("block_size"));
            long sectorsPerBlock = blockSize / 512;
            Debugfs.cbtSwitch(loop.device());
            Shell.blksnap("markdirtyblock", "-d", loop.path(), "--range", (3 * sectorsPerBlock) + ":1",
                    (7 * sectorsPerBlock) + ":" + (2 * sectorsPerBlock)).ok();
            Debugfs.cbtSwitch(loop.device());
            JsonNode j = Json.parse(Shell.blksnap("readcbtmap", "-d", loop.path(), "--since", "1", "-j").ok().out());
            assertEquals(2, j.get("extents").size(), j::toString);
            assertEquals(3L * blockSize, j.get("extents").get(0).get("offset").asLong());
            assertEquals(blockSize, j.get("extents").get(0).get("length").asLong());
            assertEquals(7L * blockSize, j.get("extents").get(1).get("offset").asLong());
            assertEquals(2L * blockSize, j.get("extents").get(1).get("length").asLong());

            Shell.Result past = Shell.blksnap("markdirtyblock", "-d", loop.path(), "--range", (64 * MIB / 512) + ":8");
            assertEquals(1, past.status(), past::toString);
            assertTrue(past.err().contains("Invalid argument (EINVAL)"), past.err());
        }
        // --file: a file on an ext4 loop device marks exactly the blocks it occupies.
        try (LoopDevice loop = LoopDevice.create(64 * MIB)) {
            Shell.sh("mkfs.ext4", "-q", "-F", loop.path());
            Path mnt = Files.createDirectories(tmp.resolve("mnt"));
            Shell.sh("mount", loop.path(), mnt.toString());
            try {
                Path file = mnt.resolve("data");
                Files.write(file, new byte[300 * 1024]);
                Shell.sh("sync");
                Shell.blksnap("attach", "-d", loop.path()).ok();
                Debugfs.cbtSwitch(loop.device());
                Shell.blksnap("markdirtyblock", "--file", file.toString()).ok();
                Debugfs.cbtSwitch(loop.device());
                JsonNode j = Json.parse(Shell.blksnap("readcbtmap", "-d", loop.path(), "--since", "1", "-j").ok().out());
                // The filesystem writes too (journal, lazy init), so the map
                // may hold more; it must hold every sector of the file.
                for (SectorRange r : FileExtents.of(file).ranges()) {
                    long start = r.offset() * 512;
                    long end = r.end() * 512;
                    boolean covered = false;
                    for (JsonNode e : j.get("extents")) {
                        long eo = e.get("offset").asLong();
                        covered |= eo <= start && end <= eo + e.get("length").asLong();
                    }
                    assertTrue(covered, () -> r + " of the file not marked: " + j);
                }
            } finally {
                Shell.sh("umount", mnt.toString());
            }
        }
    }

    @Test
    void statusListsAttachedDevices() throws IOException {
        try (LoopDevice loop = LoopDevice.create(32 * MIB)) {
            Shell.blksnap("attach", "-d", loop.path()).ok();
            String sysfs = Files.readString(Path.of("/sys/module/blksnap/version")).strip();
            Shell.Result table = Shell.blksnap("status").ok();
            assertTrue(table.out().startsWith("module     blksnap " + sysfs + "\n"), table.out());
            assertTrue(table.out().lines().anyMatch(l -> l.startsWith(loop.path() + " ") && l.contains(" 32M ")),
                    table.out());
            JsonNode j = Json.parse(Shell.blksnap("status", "--json").ok().out());
            assertEquals(sysfs, j.get("module").asText());
            boolean found = false;
            for (JsonNode d : j.get("devices")) {
                if (d.get("device").asText().equals(loop.path())) {
                    found = true;
                    assertEquals(32 * MIB, d.get("device_capacity").asLong());
                    assertEquals("", d.get("image").asText());
                }
            }
            assertTrue(found, j::toString);
            Shell.blksnap("detach", "-d", loop.path()).ok();
            assertTrue(Shell.blksnap("status").ok().out().lines().noneMatch(l -> l.startsWith(loop.path() + " ")));
        }
    }
}
