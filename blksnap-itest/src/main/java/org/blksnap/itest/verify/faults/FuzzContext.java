package org.blksnap.itest.verify.faults;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.blksnap.api.SnapshotId;
import org.blksnap.api.Uuid;
import org.blksnap.api.sys.Abi;

/**
 * The state one fuzzing thread draws its arguments from: its seeded random
 * source, its own memory, the snapshot ids it knows alive or destroyed and
 * the storage paths worth trying. The region is laid out as: the ioctl's own
 * argument near the start, the objects it points to from {@link #INNER},
 * strings from {@link #STRINGS}.
 */
final class FuzzContext implements AutoCloseable {
    private static final int INNER = 2 * FuzzMemory.PAGE;
    private static final int STRINGS = 4 * FuzzMemory.PAGE;
    /** Longer than PATH_MAX (4096) with its NUL: ENAMETOOLONG, not EFAULT. */
    private static final int LONG_PATH = 5000;

    final Random rng;
    final FuzzMemory memory = new FuzzMemory(8);
    final List<SnapshotId> live = new ArrayList<>();
    final List<SnapshotId> dead = new ArrayList<>();
    final List<String> storagePaths;
    /** Block count of the target's CBT map, for offsets near its end. */
    final int blockCount;
    final long capacitySectors;

    FuzzContext(long seed, List<String> storagePaths, int blockCount, long capacitySectors) {
        this.rng = new Random(seed);
        this.storagePaths = storagePaths;
        this.blockCount = blockCount;
        this.capacitySectors = capacitySectors;
    }

    /** True one time in {@code n}. */
    boolean oneIn(int n) {
        return rng.nextInt(n) == 0;
    }

    /**
     * The ioctl's argument: mostly a valid (often misaligned) address in the
     * region with room for {@code need} bytes, which is then filled with
     * random bytes; sometimes a pointer the kernel must refuse.
     */
    long outer(long need) {
        if (oneIn(10)) {
            return memory.bad(rng, need);
        }
        long at = memory.base() + rng.nextInt(64);
        memory.region().asSlice(at - memory.base(), need).fill((byte) rng.nextInt());
        return at;
    }

    /** A pointer to an object of {@code need} bytes the argument refers to; mostly valid. */
    long pointer(long need) {
        if (oneIn(8)) {
            return memory.bad(rng, need);
        }
        long room = memory.size() - INNER - need;
        if (room < 0) {
            // No room for such an object: hand the end of the region, which faults.
            return memory.guard() - 1 - rng.nextInt(64);
        }
        // Often misaligned: the kernel must not care.
        return memory.base() + INNER + rng.nextInt((int) Math.min(room, 64) + 1);
    }

    /** The region bytes at an address handed out by {@link #outer} or {@link #pointer}. */
    MemorySegment at(long address, long bytes) {
        return memory.region().asSlice(address - memory.base(), bytes);
    }

    boolean mapped(long address, long bytes) {
        return memory.holds(address, bytes);
    }

    /** A snapshot id: alive, destroyed, random or zero. */
    SnapshotId id() {
        int pick = rng.nextInt(10);
        if (pick < 6 && !live.isEmpty()) {
            return live.get(rng.nextInt(live.size()));
        }
        if (pick < 8 && !dead.isEmpty()) {
            return dead.get(rng.nextInt(dead.size()));
        }
        byte[] b = new byte[Abi.UUID_SIZE];
        if (pick != 9) {
            rng.nextBytes(b);
        }
        return new SnapshotId(Uuid.of(b));
    }

    /** Writes a filter name field: mostly "blksnap", else wrong, empty or without NUL. */
    String name(MemorySegment field) {
        byte[] b = new byte[Abi.BLKFILTER_NAME_LENGTH];
        String what;
        switch (rng.nextInt(10)) {
            case 0 -> {
                fillName(b, Abi.FILTER_NAME);
                what = "unterminated";
            }
            case 1 -> {
                byte[] n = "blksnaq".getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(n, 0, b, 0, n.length);
                what = "blksnaq";
            }
            case 2 -> what = "empty";
            case 3 -> {
                byte[] n = Abi.FILTER_NAME.getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(n, 0, b, 0, n.length);
                for (int i = n.length + 1; i < b.length; i++) {
                    b[i] = (byte) (1 + rng.nextInt(255));
                }
                what = "blksnap+garbage";
            }
            default -> {
                byte[] n = Abi.FILTER_NAME.getBytes(StandardCharsets.US_ASCII);
                System.arraycopy(n, 0, b, 0, n.length);
                what = "blksnap";
            }
        }
        MemorySegment.copy(b, 0, field, JAVA_BYTE, 0, b.length);
        return what;
    }

    private static void fillName(byte[] b, String name) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < b.length; i++) {
            b[i] = n[i % n.length];
        }
    }

    /** A storage path pointer: a known path, empty, longer than PATH_MAX, or unterminated up to the guard page. */
    long path(StringBuilder desc) {
        int pick = rng.nextInt(12);
        MemorySegment strings = memory.region().asSlice(STRINGS);
        if (pick == 0) {
            // No NUL anywhere before the guard page: the copy must fault.
            strings.fill((byte) 'a');
            desc.append("path=<unterminated to guard page>");
            return strings.address();
        }
        if (pick == 1) {
            strings.asSlice(0, LONG_PATH).fill((byte) 'a');
            strings.set(JAVA_BYTE, 0, (byte) '/');
            strings.set(JAVA_BYTE, LONG_PATH, (byte) 0);
            desc.append("path=<" + LONG_PATH + " bytes>");
            return strings.address();
        }
        if (pick == 2) {
            long bad = memory.bad(rng, 2);
            desc.append("path=0x").append(Long.toHexString(bad));
            return bad;
        }
        String p = pick == 3 ? "" : storagePaths.get(rng.nextInt(storagePaths.size()));
        byte[] b = p.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(b, 0, strings, JAVA_BYTE, 0, b.length);
        strings.set(JAVA_BYTE, b.length, (byte) 0);
        desc.append("path=\"").append(p).append('"');
        return strings.address();
    }

    /** A 32-bit count or length: small, near a limit, or random. */
    int count(int limit) {
        return switch (rng.nextInt(5)) {
            case 0 -> 0;
            case 1 -> 1 + rng.nextInt(8);
            case 2 -> limit + rng.nextInt(3) - 1;
            case 3 -> -1;
            default -> rng.nextInt();
        };
    }

    @Override
    public void close() {
        memory.close();
    }
}
