package org.blksnap.backup.repo;

import java.util.ArrayList;
import java.util.List;

/**
 * Groups chunks, in the order a reader wants them, into runs: chunks lying
 * one after the other (or nearly) in the same pack, read with one request
 * instead of one each. On an object store every request costs a round trip
 * and the client's and the server's per-request work (signing, routing,
 * unmarshalling), which for 256 KiB chunks outweighs moving their bytes; a
 * full backup writes the chunks of a device in device order, so a restore or
 * a verify in pack order ({@link #PACK_ORDER}) finds them in long runs.
 *
 * <p>A run holds at most {@code maxBytes} (so a reader's memory is bounded by
 * its buffers of that size) and skips at most {@code maxGap} bytes between two
 * chunks (bytes read and thrown away: a chunk of another backup between two
 * wanted ones costs less than a second request).
 */
public final class PackRuns {
    /** Bytes per run by default: 32 chunks of 256 KiB, a quarter of a default pack. */
    public static final int DEFAULT_MAX_BYTES = 8 << 20;
    /** Bytes that may be skipped inside a run by default. */
    public static final int DEFAULT_MAX_GAP = 1 << 20;

    /**
     * One chunk wanted.
     *
     * @param tag what the reader calls it (a chunk index of the device, a position in a list)
     * @param id  the chunk
     * @param loc where it is
     */
    public record Wanted(int tag, ChunkId id, ChunkIndex.Location loc) {
    }

    /**
     * Bytes of one pack read with one request.
     *
     * @param pack   the pack
     * @param offset first byte
     * @param length bytes
     * @param chunks what is in it, offsets ascending (a chunk wanted twice twice)
     */
    public record Run(String pack, long offset, int length, List<Wanted> chunks) {
        /** Copies the list. */
        public Run {
            chunks = List.copyOf(chunks);
        }
    }

    /** By pack, then by offset in it: the order in which runs are longest. */
    public static final java.util.Comparator<Wanted> PACK_ORDER = java.util.Comparator
            .comparing((Wanted w) -> w.loc().pack()).thenComparingLong(w -> w.loc().offset());

    private final int maxBytes;
    private final int maxGap;
    private final List<Wanted> current = new ArrayList<>();
    private long start;
    private long end;

    /**
     * @param maxBytes bytes per run at most (a chunk bigger than that is a run of its own)
     * @param maxGap   bytes between two chunks of a run at most
     */
    public PackRuns(int maxBytes, int maxGap) {
        if (maxBytes < 1 || maxGap < 0) {
            throw new IllegalArgumentException("bad run bounds: " + maxBytes + ", " + maxGap);
        }
        this.maxBytes = maxBytes;
        this.maxGap = maxGap;
    }

    /**
     * Adds the next wanted chunk.
     *
     * @param w the chunk
     * @return the run this chunk closed (it does not continue it), or null
     */
    public Run add(Wanted w) {
        ChunkIndex.Location loc = w.loc();
        Run closed = null;
        if (!current.isEmpty()) {
            ChunkIndex.Location last = current.getLast().loc();
            if (last.equals(loc)) {
                // The same chunk again (a device holding it twice): no more bytes to read.
                current.add(w);
                return null;
            }
            boolean continues = loc.pack().equals(last.pack()) && loc.offset() >= end
                    && loc.offset() - end <= maxGap && loc.offset() + loc.length() - start <= maxBytes;
            if (!continues) {
                closed = finish();
            }
        }
        if (current.isEmpty()) {
            start = loc.offset();
        }
        current.add(w);
        end = loc.offset() + loc.length();
        return closed;
    }

    /** @return the open run, now closed, or null if there is none */
    public Run finish() {
        if (current.isEmpty()) {
            return null;
        }
        Run r = new Run(current.getFirst().loc().pack(), start, Math.toIntExact(end - start), current);
        current.clear();
        return r;
    }
}
