package org.blksnap.backup.repo;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
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
 */
public final class ChunkIndex {
    private final Map<ChunkId, Location> chunks = new HashMap<>();
    private final Set<String> indexNames = new HashSet<>();
    private final Set<String> packs = new HashSet<>();

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
            String pack = p.name().intern();
            packs.add(pack);
            for (PackFormat.Entry e : p.entries()) {
                chunks.putIfAbsent(e.id(), new Location(pack, e.offset(), e.length(), e.plainLength(), e.crc()));
            }
        }
    }

    /**
     * @param id a chunk
     * @return where it is, or null if the repository does not hold it
     */
    public synchronized Location get(ChunkId id) {
        return chunks.get(id);
    }

    /**
     * @param id a chunk
     * @return true if the repository holds it
     */
    public synchronized boolean contains(ChunkId id) {
        return chunks.containsKey(id);
    }

    /** @return chunks held */
    public synchronized int size() {
        return chunks.size();
    }

    /** @return the index objects read */
    public synchronized List<String> indexNames() {
        return new ArrayList<>(indexNames);
    }

    /** @return every pack some index names */
    public synchronized Set<String> packs() {
        return new HashSet<>(packs);
    }

    /** @return a copy of every chunk and its place */
    public synchronized Map<ChunkId, Location> entries() {
        return new HashMap<>(chunks);
    }
}
