package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import org.blksnap.api.CbtInfo;
import org.blksnap.api.CbtMap;
import org.blksnap.api.Extent;
import org.blksnap.api.Uuid;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * libnbd's nbdinfo and nbdcopy and QEMU's qemu-img against the server,
 * exporting a file with a made-up CBT map.
 */
class RealClientsTest {
    /** Not a multiple of the CBT block, so the last block is partial. */
    static final long SIZE = 24L * 1024 * 1024 + 4096 * 3;
    static final int CBT_BLOCK = 256 * 1024;

    @TempDir
    static Path dir;
    static Path image;
    static CbtMap cbt;
    static FileExport export;
    static NbdServer server;

    @BeforeAll
    static void start() throws IOException {
        image = dir.resolve("disk.img");
        byte[] data = new byte[(int) SIZE];
        new Random(19).nextBytes(data);
        Files.write(image, data);
        int blocks = (int) ((SIZE + CBT_BLOCK - 1) / CBT_BLOCK);
        byte[] stamps = new byte[blocks];
        // Stamps 0..3 in runs, the last (partial) block changed at take 3.
        for (int i = 0; i < blocks; i++) {
            stamps[i] = (byte) (i % 7 == 0 ? 3 : i % 5 == 0 ? 2 : i % 3 == 0 ? 1 : 0);
        }
        stamps[blocks - 1] = 3;
        cbt = new CbtMap(new CbtInfo(SIZE, CBT_BLOCK, blocks, Uuid.random(), 3), stamps);
        export = FileExport.open(image, SIZE, Optional.of(new ChangedBlocks(cbt)), "test image");
        Map<String, Export> m = new LinkedHashMap<>();
        m.put("disk", export);
        m.put("other", export);
        server = NbdServer.start(new ListenAddress.Unix(dir.resolve("nbd.sock")), new Exports(m),
                new ConnectionListener() {
                });
    }

    @AfterAll
    static void stop() throws IOException {
        server.close();
        export.close();
        assertTrue(Files.notExists(dir.resolve("nbd.sock")), "socket file removed on close");
    }

    static String uri() {
        return server.address().uri("disk");
    }

    @Test
    void nbdinfoSeesSizeAndReadOnly() throws Exception {
        String out = Tool.ok("nbdinfo", "--json", uri());
        assertTrue(out.contains("\"export-size\": " + SIZE), out);
        assertTrue(out.contains("\"is_read_only\": true"), out);
        assertTrue(out.contains("\"can_multi_conn\": true"), out);
        assertTrue(out.contains("\"block_size_maximum\": " + (32 << 20)), out);
        assertTrue(out.contains("blksnap:changed:3"), "contexts listed: " + out);
    }

    @Test
    void nbdinfoListsExports() throws Exception {
        String out = Tool.ok("nbdinfo", "--list", "--json", server.address().uri(""));
        assertTrue(out.contains("\"export-name\": \"disk\""), out);
        assertTrue(out.contains("\"export-name\": \"other\""), out);
    }

    @Test
    void mapOfBaseAllocationIsAllData() throws Exception {
        List<long[]> map = map("base:allocation");
        assertEquals(1, map.size(), "one extent");
        assertArrayEquals(new long[] {0, SIZE, 0}, map.get(0));
    }

    @Test
    void mapOfChangedContextsIsTheCbt() throws Exception {
        for (int n = 0; n <= 3; n++) {
            List<Extent> expected = cbt.changedExtents(n);
            List<Extent> got = new ArrayList<>();
            long pos = 0;
            for (long[] e : map(ChangedBlocks.name(n))) {
                assertEquals(pos, e[0], "extents are consecutive");
                pos += e[1];
                if (e[2] == ChangedBlocks.STATE_CHANGED) {
                    got.add(new Extent(e[0], e[1]));
                } else {
                    assertEquals(0, e[2], "only bit 0 is ever set");
                }
            }
            assertEquals(SIZE, pos, "map covers the export");
            assertEquals(expected, got, "blksnap:changed:" + n);
            if (n < 3) {
                assertNotEquals(List.of(), got);
            }
        }
    }

    @Test
    void nbdcopyEqualsTheFile() throws Exception {
        Path out = dir.resolve("copy.img");
        Tool.ok("nbdcopy", uri(), out.toString());
        assertEquals(-1, Files.mismatch(image, out));
        Files.delete(out);
    }

    @Test
    void qemuImgConvertEqualsTheFile() throws Exception {
        Path out = dir.resolve("convert.img");
        Tool.ok("qemu-img", "convert", "-f", "raw", "-O", "raw", uri(), out.toString());
        assertEquals(-1, Files.mismatch(image, out));
        Files.delete(out);
    }

    @Test
    void qemuImgOverTcpLoopback() throws Exception {
        try (NbdServer tcp = NbdServer.start(new ListenAddress.Tcp("127.0.0.1", 0),
                new Exports(Map.of("disk", export)), new ConnectionListener() {
                })) {
            String out = Tool.ok("qemu-img", "info", "--output=json", tcp.address().uri("disk"));
            assertTrue(out.contains("\"virtual-size\": " + SIZE), out);
        }
    }

    @Test
    void unknownExportIsRefused() throws Exception {
        Tool.Result r = Tool.run("nbdinfo", server.address().uri("nosuch"));
        assertNotEquals(0, r.exit());
        // libnbd reports NBD_REP_ERR_UNKNOWN as ENOENT.
        assertTrue(r.err().contains("opt_go") && r.err().contains("No such file or directory"), r.err());
    }

    /** nbdinfo --map=CONTEXT as (offset, length, flags) rows. */
    static List<long[]> map(String context) throws Exception {
        String out = Tool.ok("nbdinfo", "--map=" + context, uri());
        List<long[]> rows = new ArrayList<>();
        for (String line : out.strip().split("\n")) {
            String[] f = line.strip().split("\\s+");
            rows.add(new long[] {Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])});
        }
        return rows;
    }
}
