package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkIds;
import org.blksnap.backup.repo.ChunkIndex;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Repository;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code backup check --read-data-subset N%}, as its help says: "Read the
 * chunks of N% of the packs, chosen at random (a different part each run)".
 * Which packs were read is seen from outside: every pack has one damaged
 * chunk, and only a pack whose data is read can report it.
 */
class BackupCheckSubsetCliTest {
    private static final int CHUNK = 64 << 10;
    private static final Pattern DAMAGED = Pattern.compile("in pack ([0-9a-f]+) at byte \\d+ is damaged: its bytes "
            + "fail their checksum");

    @TempDir
    Path dir;
    Path repo;
    int packs;

    @BeforeEach
    void fillAndDamageEveryPack() throws IOException {
        repo = dir.resolve("repo");
        byte[] content = new byte[64 * CHUNK];
        new Random(17).nextBytes(content);
        Path image = dir.resolve("vdb.img");
        Files.write(image, content);
        LocalDirectoryStore store = new LocalDirectoryStore(repo);
        // Packs of four chunks, so the repository has enough packs for a share of them to mean something.
        try (Repository r = Repository.openForBackup(store, CHUNK, 4L * CHUNK, Duration.ZERO)) {
            new BackupEngine(r, BackupEngine.Options.defaults(), ProgressListener.NONE)
                    .run(new FileSource("/dev/vdb", image, content.length));
        }
        Set<String> damaged = new HashSet<>();
        try (Repository r = Repository.open(store, ChunkStore.LockMode.SHARED)) {
            ChunkIds ids = r.manifest("latest").devices().getFirst().chunks();
            for (int i = 0; i < ids.size(); i++) {
                ChunkId id = ids.get(i);
                ChunkIndex.Location loc = r.index().get(id);
                if (damaged.add(loc.pack())) {
                    Path pack = store.path(ChunkStore.Kind.PACK, loc.pack());
                    byte[] b = Files.readAllBytes(pack);
                    b[(int) loc.offset() + loc.length() / 2] ^= 1;
                    Files.write(pack, b);
                }
            }
            packs = r.index().packs().size();
        }
        assertEquals(packs, damaged.size(), "one damaged chunk in every pack");
        assertTrue(packs >= 10, packs + " packs");
    }

    /** The packs a check reported damaged data in. */
    private record Checked(int status, int percent, Set<String> packs) {
    }

    private Checked check(String... options) throws IOException {
        String[] args = new String[options.length + 5];
        System.arraycopy(new String[] {"backup", "check", "-r", repo.toString(), "--json"}, 0, args, 0, 5);
        System.arraycopy(options, 0, args, 5, options.length);
        Run r = Run.of(args);
        JsonNode json = new ObjectMapper().readTree(r.out());
        Set<String> read = new HashSet<>();
        int damagedLines = 0;
        for (JsonNode p : json.get("problems")) {
            Matcher m = DAMAGED.matcher(p.asText());
            assertTrue(m.find(), "only damaged data is reported: " + p.asText());
            read.add(m.group(1));
            damagedLines++;
        }
        assertEquals(read.size(), damagedLines, "one line per damaged chunk, one damaged chunk per pack");
        return new Checked(r.status(), json.get("read_data_percent").asInt(), read);
    }

    @Test
    void aSubsetReadsThatShareOfThePacksAndAnotherPartEachRun() throws IOException {
        Checked none = check();
        assertEquals(0, none.status(), "without reading data the damage is not seen");
        assertEquals(Set.of(), none.packs());
        Checked all = check("--read-data");
        assertEquals(ExitCodes.FAILURE, all.status());
        assertEquals(packs, all.packs().size());

        for (int percent : new int[] {25, 50, 100}) {
            Checked c = check("--read-data-subset", percent + "%");
            assertEquals(ExitCodes.FAILURE, c.status());
            assertEquals(percent, c.percent());
            assertEquals((int) Math.ceil(packs * percent / 100.0), c.packs().size(), percent + "% of " + packs
                    + " packs");
        }
        Checked one = check("--read-data-subset", "1%");
        assertEquals(1, one.packs().size(), "a share of at least one pack");

        // Four runs that all pick the same quarter of the packs (16 here): about one chance in 1820^3.
        Set<String> seen = new HashSet<>();
        int share = 0;
        for (int run = 0; run < 4; run++) {
            Checked c = check("--read-data-subset", "25%");
            share = c.packs().size();
            seen.addAll(c.packs());
        }
        assertTrue(seen.size() > share, "four runs read the same " + share + " packs");
    }

    @Test
    void aBadShareGetsOneLineAndReadsNothing() {
        for (String bad : new String[] {"0%", "101%", "ten%", "-5%", ""}) {
            Run r = Run.of("backup", "check", "-r", repo.toString(), "--read-data-subset", bad);
            assertEquals(ExitCodes.USAGE, r.status(), bad + ": " + r.err());
            assertEquals(1, r.errLines(), r::err);
            assertTrue(r.err().contains("--read-data-subset"), r.err());
            assertEquals("", r.out(), "nothing checked");
        }
        Run both = Run.of("backup", "check", "-r", repo.toString(), "--read-data", "--read-data-subset", "10%");
        assertEquals(ExitCodes.USAGE, both.status(), both::err);
        assertEquals(1, both.errLines(), both::err);
    }
}
