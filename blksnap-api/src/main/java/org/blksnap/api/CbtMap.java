package org.blksnap.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A copy of a device's change-block tracking map with the tracker state it
 * belongs to. Byte {@code i} of the map is the changes number of the take
 * before which block {@code i} last changed (0: not changed since attach).
 *
 * <p>A backup records {@link CbtInfo#generationId()} and
 * {@link CbtInfo#changesNumber()} after its take; the next backup asks
 * {@link #changesSince} with them.
 */
public final class CbtMap {
    private static final int MAX_ATTEMPTS = 5;

    private final CbtInfo info;
    private final byte[] map;

    /**
     * @param info the tracker state the map belongs to
     * @param map  the map, {@code info.blockCount()} bytes (copied)
     */
    public CbtMap(CbtInfo info, byte[] map) {
        this.info = Objects.requireNonNull(info, "info");
        Objects.requireNonNull(map, "map");
        if (map.length != info.blockCount()) {
            throw new IllegalArgumentException("map has " + map.length + " bytes, tracker says "
                    + info.blockCount());
        }
        if ((long) info.blockCount() * info.blockSize() < info.capacityBytes() && info.capacityBytes() > 0) {
            throw new IllegalArgumentException("map of " + info.blockCount() + " blocks of " + info.blockSize()
                    + " bytes does not cover " + info.capacityBytes() + " bytes");
        }
        this.map = map.clone();
    }

    /**
     * Reads the map and its state consistently: if a take, a wrap or a
     * resize happens while reading, reads again.
     *
     * @param filter an attached filter
     * @return the map
     * @throws BlkSnapException if reading fails
     */
    public static CbtMap read(Filter filter) throws BlkSnapException {
        return read(filter.device(), filter::cbtInfo, filter::readCbtMap);
    }

    /** One call to the tracker. */
    @FunctionalInterface
    interface Call<T> {
        T get() throws BlkSnapException;
    }

    static CbtMap read(java.nio.file.Path device, Call<CbtInfo> info, Call<byte[]> readMap)
            throws BlkSnapException {
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            CbtInfo before = info.get();
            byte[] map;
            try {
                map = readMap.get();
            } catch (CbtMapChangedException e) {
                // Rebuilt under the read (a resize): start again from the new state.
                continue;
            }
            CbtInfo after = info.get();
            if (before.equals(after) && map.length == after.blockCount()) {
                return new CbtMap(after, map);
            }
        }
        throw new BlkSnapException(device + ": CBT state kept changing while reading the map", 0);
    }

    /** @return the tracker state */
    public CbtInfo info() {
        return info;
    }

    /** @return a copy of the raw map */
    public byte[] bytes() {
        return map.clone();
    }

    /**
     * @param block block index
     * @return the changes number stamped on the block, 0..255
     */
    public int stamp(int block) {
        return Byte.toUnsignedInt(map[block]);
    }

    /**
     * Blocks whose stamp is greater than {@code changesNumber}, as merged
     * byte extents clipped to the device capacity.
     *
     * @param changesNumber the changes number recorded at the previous backup
     * @return sorted, non-overlapping, non-adjacent extents
     */
    public List<Extent> changedExtents(int changesNumber) {
        List<Extent> out = new ArrayList<>();
        long bs = info.blockSize();
        long cap = info.capacityBytes();
        int i = 0;
        while (i < map.length) {
            if (Byte.toUnsignedInt(map[i]) <= changesNumber) {
                i++;
                continue;
            }
            int start = i;
            while (i < map.length && Byte.toUnsignedInt(map[i]) > changesNumber) {
                i++;
            }
            long offset = start * bs;
            long end = Math.min(i * bs, cap);
            if (end > offset) {
                out.add(new Extent(offset, end - offset));
            }
        }
        return List.copyOf(out);
    }

    /**
     * Decides what an incremental backup must read.
     *
     * @param previousGeneration    generation recorded at the previous backup
     * @param previousChangesNumber changes number recorded at the previous backup
     * @return {@link CbtChanges.FullBackupNeeded} when the generation changed
     *         (tracker re-attached, numbers wrapped, device resized) or the
     *         numbers went backwards; else the changed extents
     */
    public CbtChanges changesSince(Uuid previousGeneration, int previousChangesNumber) {
        Objects.requireNonNull(previousGeneration, "previousGeneration");
        if (!previousGeneration.equals(info.generationId())) {
            return new CbtChanges.FullBackupNeeded("full backup needed: CBT generation changed from "
                    + previousGeneration + " to " + info.generationId());
        }
        if (previousChangesNumber < 0 || previousChangesNumber > info.changesNumber()) {
            return new CbtChanges.FullBackupNeeded("full backup needed: changes number " + previousChangesNumber
                    + " is newer than the tracker's " + info.changesNumber());
        }
        return new CbtChanges.Incremental(changedExtents(previousChangesNumber));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CbtMap other && info.equals(other.info) && Arrays.equals(map, other.map);
    }

    @Override
    public int hashCode() {
        return 31 * info.hashCode() + Arrays.hashCode(map);
    }

    @Override
    public String toString() {
        return "CbtMap[" + info + ", " + map.length + " blocks]";
    }
}
