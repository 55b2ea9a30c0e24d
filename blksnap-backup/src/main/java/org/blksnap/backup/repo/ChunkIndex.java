package org.blksnap.backup.repo;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every chunk of the repository and where it is: the union of all index
 * objects, read once when a command needs chunks (list and latest never
 * do). A chunk listed by two index objects (a prune's consolidated index
 * and the ones it replaces, after a crash between them) is at either place.
 *
 * <p>Held in flat arrays, not a map of objects: a chunk costs its 56 bytes of
 * fields plus a slot of an open-addressing table, about 70 to 100 bytes in
 * all instead of the 120 of a {@code HashMap<ChunkId, Location>} entry (key
 * and value objects, node, table), which is what a repository of millions of
 * chunks holds in memory during every backup. A {@link Location} is made only
 * when asked for.
 */
public final class ChunkIndex {
    private static final int FREE = -1;

    // Chunk n's fields: its id in ids[4n .. 4n+3], then one array per field.
    private long[] ids = new long[4 * 16];
    private long[] offsets = new long[16];
    private int[] lengths = new int[16];
    private int[] plainLengths = new int[16];
    private int[] crcs = new int[16];
    private int[] packOf = new int[16];
    private int count;
    /** Chunk numbers by hash of their id, linear probing; at most two thirds used. */
    private int[] slots = free(32);
    private final List<String> packNames = new ArrayList<>();
    private final Map<String, Integer> packNumbers = new HashMap<>();
    private final Set<String> indexNames = new HashSet<>();

    /**
     * Where a chunk is.
     *
     * @param pack        pack object name
     * @param offset      first byte in the pack
     * @param length      stored bytes
     * @param plainLength plain bytes
     * @param crc         CRC32C of the stored bytes
     */
    public record Location(String pack, long offset, int length, int plainLength, int crc) {
    }

    ChunkIndex() {
    }

    /**
     * Reads every index object not read yet.
     *
     * @param store    the repository's store
     * @param envelope how its objects are sealed
     * @return this
     * @throws RepositoryException if an index object is damaged
     * @throws IOException if the store cannot be read
     */
    synchronized ChunkIndex refresh(ChunkStore store, Envelope envelope) throws IOException {
        for (String name : store.list(ChunkStore.Kind.INDEX)) {
            if (indexNames.contains(name)) {
                continue;
            }
            try {
                add(Repository.readIndex(store, envelope, name));
            } catch (NoSuchFileException e) {
                continue; // removed by a prune since it was listed
            }
            indexNames.add(name);
        }
        return this;
    }

    synchronized void add(Collection<PackFormat.PackEntries> list) {
        for (PackFormat.PackEntries p : list) {
            int pack = packNumbers.computeIfAbsent(p.name(), n -> {
                packNames.add(n);
                return packNames.size() - 1;
            });
            for (PackFormat.Entry e : p.entries()) {
                put(e, pack);
            }
        }
    }

    private void put(PackFormat.Entry e, int pack) {
        ChunkId id = e.id();
        int slot = slotOf(id);
        if (slots[slot] != FREE) {
            return; // the first place read stays
        }
        if (count == packOf.length) {
            int n = count + (count >> 1);
            ids = Arrays.copyOf(ids, 4 * n);
            offsets = Arrays.copyOf(offsets, n);
            lengths = Arrays.copyOf(lengths, n);
            plainLengths = Arrays.copyOf(plainLengths, n);
            crcs = Arrays.copyOf(crcs, n);
            packOf = Arrays.copyOf(packOf, n);
        }
        int c = count++;
        ids[4 * c] = id.a();
        ids[4 * c + 1] = id.b();
        ids[4 * c + 2] = id.c();
        ids[4 * c + 3] = id.d();
        offsets[c] = e.offset();
        lengths[c] = e.length();
        plainLengths[c] = e.plainLength();
        crcs[c] = e.crc();
        packOf[c] = pack;
        slots[slot] = c;
        if (3L * count > 2L * slots.length) {
            rehash(2 * slots.length);
        }
    }

    private static int[] free(int n) {
        int[] s = new int[n];
        Arrays.fill(s, FREE);
        return s;
    }

    private static int hash(long a, long b, long c, long d) {
        // Ids are SHA-256 outputs, already uniform; the mix only keeps
        // structured ids (tests, synthetic repositories) from clustering.
        long h = (a ^ Long.rotateLeft(b, 17) ^ Long.rotateLeft(c, 31) ^ Long.rotateLeft(d, 47)) * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }

    /** @return the slot holding the id, or the free slot where it would go */
    private int slotOf(ChunkId id) {
        int mask = slots.length - 1;
        for (int i = hash(id.a(), id.b(), id.c(), id.d()) & mask;; i = (i + 1) & mask) {
            int c = slots[i];
            if (c == FREE || ids[4 * c] == id.a() && ids[4 * c + 1] == id.b() && ids[4 * c + 2] == id.c()
                    && ids[4 * c + 3] == id.d()) {
                return i;
            }
        }
    }

    private void rehash(int size) {
        slots = free(size);
        int mask = size - 1;
        for (int c = 0; c < count; c++) {
            int i = hash(ids[4 * c], ids[4 * c + 1], ids[4 * c + 2], ids[4 * c + 3]) & mask;
            while (slots[i] != FREE) {
                i = (i + 1) & mask;
            }
            slots[i] = c;
        }
    }

    private Location location(int c) {
        return new Location(packNames.get(packOf[c]), offsets[c], lengths[c], plainLengths[c], crcs[c]);
    }

    /**
     * @param id a chunk
     * @return where it is, or null if the repository does not hold it
     */
    public synchronized Location get(ChunkId id) {
        int c = slots[slotOf(id)];
        return c == FREE ? null : location(c);
    }

    /**
     * @param id a chunk
     * @return true if the repository holds it
     */
    public synchronized boolean contains(ChunkId id) {
        return slots[slotOf(id)] != FREE;
    }

    /** @return chunks held */
    public synchronized int size() {
        return count;
    }

    /** @return the index objects read */
    public synchronized List<String> indexNames() {
        return new ArrayList<>(indexNames);
    }

    /** @return every pack some index names */
    public synchronized Set<String> packs() {
        return new HashSet<>(packNames);
    }

    /** @return a copy of every chunk and its place */
    public synchronized Map<ChunkId, Location> entries() {
        Map<ChunkId, Location> all = HashMap.newHashMap(count);
        for (int c = 0; c < count; c++) {
            all.put(new ChunkId(ids[4 * c], ids[4 * c + 1], ids[4 * c + 2], ids[4 * c + 3]), location(c));
        }
        return all;
    }
}
