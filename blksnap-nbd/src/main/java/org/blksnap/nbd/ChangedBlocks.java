package org.blksnap.nbd;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.blksnap.api.CbtMap;

/**
 * The {@code blksnap:changed:<N>} meta contexts of one device, from its CBT
 * map as of a take.
 *
 * <p>Context {@code blksnap:changed:N} (N = 0..255, a changes number the
 * tracker reported at an earlier take, as a backup records it) sets bit 0,
 * {@link #STATE_CHANGED}, on every byte of a CBT block whose stamp is greater
 * than N, i.e. that was written after the take that reported N; bit 0 clear
 * means not written since. {@code blksnap:changed:0} marks every block written
 * since the tracker was attached. No other bit is ever set. A client that
 * sees a new {@link org.blksnap.api.CbtInfo#generationId()} must not use the
 * map against numbers from an older generation: it has to read everything.
 */
public final class ChangedBlocks {
    /** Namespace of blksnap's own contexts. */
    public static final String NAMESPACE = "blksnap:";
    /** Prefix of the changed-since contexts; the changes number follows. */
    public static final String PREFIX = "blksnap:changed:";
    /** Status bit: the block was written after the take that reported N. */
    public static final int STATE_CHANGED = 1;
    /** Extents one answer describes at most, so one query cannot make a huge reply. */
    static final int MAX_EXTENTS = 65536;

    private static final Pattern NAME = Pattern.compile("blksnap:changed:(0|[1-9][0-9]{0,2})");

    private final CbtMap map;

    /** @param map the device's CBT map, read after the take */
    public ChangedBlocks(CbtMap map) {
        this.map = Objects.requireNonNull(map, "map");
    }

    /**
     * @param changesNumber 0..255
     * @return the context's name
     */
    public static String name(int changesNumber) {
        return PREFIX + changesNumber;
    }

    /**
     * @param name a context name asked by a client
     * @return the changes number it names, or empty when it is not one of ours
     */
    public static Optional<Integer> parse(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            return Optional.empty();
        }
        int n = Integer.parseInt(m.group(1));
        return n <= 255 ? Optional.of(n) : Optional.empty();
    }

    /**
     * @param name a context name asked by a client
     * @return its map, or empty when the name is not {@code blksnap:changed:0..255}
     */
    public Optional<BlockStatus> context(String name) {
        return parse(name).map(this::since);
    }

    /** @return the names worth listing: every changes number up to the tracker's */
    public List<String> names() {
        List<String> out = new ArrayList<>();
        for (int n = 0; n <= map.info().changesNumber(); n++) {
            out.add(name(n));
        }
        return List.copyOf(out);
    }

    /**
     * @param changesNumber 0..255
     * @return the map of blocks changed after the take that reported it
     */
    public BlockStatus since(int changesNumber) {
        if (changesNumber < 0 || changesNumber > 255) {
            throw new IllegalArgumentException("changes number out of 0..255: " + changesNumber);
        }
        long blockSize = map.info().blockSize();
        long capacity = map.info().capacityBytes();
        int blocks = map.info().blockCount();
        return (offset, length) -> {
            long end = Math.min(offset + length, capacity);
            List<StatusExtent> out = new ArrayList<>();
            long pos = offset;
            while (pos < end && out.size() < MAX_EXTENTS) {
                int block = (int) (pos / blockSize);
                boolean changed = block < blocks && map.stamp(block) > changesNumber;
                long runEnd = (block + 1) * blockSize;
                int next = block + 1;
                while (runEnd < end && next < blocks && (map.stamp(next) > changesNumber) == changed) {
                    runEnd += blockSize;
                    next++;
                }
                runEnd = Math.min(runEnd, end);
                out.add(new StatusExtent(runEnd - pos, changed ? STATE_CHANGED : 0));
                pos = runEnd;
            }
            if (out.isEmpty()) {
                // Bytes past the map's capacity (the export is larger): never tracked, so changed.
                out.add(new StatusExtent(length, STATE_CHANGED));
            }
            return out;
        };
    }
}
