package org.blksnap.backup.repo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

class ChunkIndexTest {
    private static PackFormat.Entry entry(ChunkId id, long offset) {
        return new PackFormat.Entry(id, offset, 1000 + (int) offset, 4096, (int) (offset * 31));
    }

    /** The flat table answers as a map would, through growth, for random and for structured ids. */
    @Test
    void answersAsAMapThroughGrowth() {
        ChunkIndex index = new ChunkIndex();
        Map<ChunkId, ChunkIndex.Location> expected = new HashMap<>();
        Random r = new Random(7);
        for (int p = 0; p < 20; p++) {
            String pack = "pack" + p;
            List<PackFormat.Entry> entries = new ArrayList<>();
            for (int i = 0; i < 5000; i++) {
                // Half random (as SHA-256 ids are), half differing in one word only.
                ChunkId id = i % 2 == 0 ? new ChunkId(r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong())
                        : new ChunkId(0, 0, p, i);
                PackFormat.Entry e = entry(id, i);
                entries.add(e);
                expected.put(id, new ChunkIndex.Location(pack, e.offset(), e.length(), e.plainLength(), e.crc()));
            }
            index.add(List.of(new PackFormat.PackEntries(pack, entries)));
        }
        assertEquals(expected.size(), index.size());
        for (Map.Entry<ChunkId, ChunkIndex.Location> e : expected.entrySet()) {
            assertTrue(index.contains(e.getKey()));
            assertEquals(e.getValue(), index.get(e.getKey()));
        }
        assertEquals(expected, index.entries());
        ChunkId absent = new ChunkId(1, 2, 3, 4);
        assertFalse(index.contains(absent));
        assertNull(index.get(absent));
        assertEquals(20, index.packs().size());
    }

    /** A chunk that two index objects name (a crash during a prune) keeps the first place read. */
    @Test
    void aChunkNamedTwiceKeepsItsFirstPlace() {
        ChunkIndex index = new ChunkIndex();
        ChunkId id = new ChunkId(5, 6, 7, 8);
        index.add(List.of(new PackFormat.PackEntries("old", List.of(entry(id, 10)))));
        index.add(List.of(new PackFormat.PackEntries("new", List.of(entry(id, 20), entry(new ChunkId(9, 9, 9, 9), 30)))));
        assertEquals(2, index.size());
        assertEquals("old", index.get(id).pack());
        assertEquals(10, index.get(id).offset());
        assertEquals(Set.of("old", "new"), index.packs());
    }
}
