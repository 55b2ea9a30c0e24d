package org.blksnap.itest.verify.faults;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Random;

/**
 * Memory the fuzzer hands to the kernel: an anonymous mapping of its own,
 * never the JVM's heap, followed by a PROT_NONE guard page, plus a user
 * address that nothing maps. Whatever size or pointer a fuzzed call
 * carries, the kernel can only write into this region or fault (EFAULT): a
 * wrong length can never corrupt the test's own memory.
 */
// mmap/munmap/mprotect through FFM are the point of this class.
@SuppressWarnings("restricted")
final class FuzzMemory implements AutoCloseable {
    static final int PAGE = 4096;
    private static final int PROT_NONE = 0;
    private static final int PROT_RW = 3;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MMAP = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("mmap"),
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("munmap"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle MPROTECT = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("mprotect"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    /** Addresses no user process can pass to copy_from_user successfully. */
    private static final long[] FOREIGN = {
        0xffff888000000000L, // kernel direct map
        0xffffffff81000000L, // kernel text
        0x8000000000000000L, // non-canonical
        -1L,
    };

    /**
     * The last page of the 47-bit user address space. mmap without a hint
     * never returns it (with 4-level page tables it lies beyond user space,
     * with 5-level ones beyond the default mapping window) and the stack
     * starts below it, so no thread of this JVM can make it readable. A page
     * that was mapped and unmapped again is no such address: the next small
     * mapping of any thread (the JVM's, the other fuzzing thread's) may
     * land there, and a call judged "must fault" then reads real memory.
     */
    private static final long UNMAPPED = (1L << 47) - PAGE;

    private final long size;
    private final MemorySegment mapping;
    private final MemorySegment region;

    /** @param pages usable pages; one more is mapped PROT_NONE behind them */
    FuzzMemory(int pages) {
        size = (long) pages * PAGE;
        mapping = mmap(size + PAGE);
        protect(mapping.address() + size, PAGE, PROT_NONE);
        region = mapping.reinterpret(size);
    }

    /** The usable region, for filling arguments. */
    MemorySegment region() {
        return region;
    }

    long base() {
        return region.address();
    }

    long size() {
        return size;
    }

    /** First byte of the guard page: readable by nobody. */
    long guard() {
        return base() + size;
    }

    long unmapped() {
        return UNMAPPED;
    }

    /**
     * A pointer the kernel must refuse with EFAULT for an object of
     * {@code need} bytes: NULL, a small integer, an unmapped page, the
     * guard page, a kernel or non-canonical address, or the last bytes of
     * the region so that the object crosses into the guard page.
     */
    long bad(Random rng, long need) {
        return switch (rng.nextInt(6)) {
            case 0 -> 0L;
            case 1 -> 1 + rng.nextInt(PAGE - 1);
            case 2 -> UNMAPPED + rng.nextInt(PAGE);
            case 3 -> guard() + rng.nextInt(PAGE);
            case 4 -> FOREIGN[rng.nextInt(FOREIGN.length)];
            default -> guard() - 1 - rng.nextLong(Math.max(1, Math.min(need - 1, size)));
        };
    }

    /** True if {@code need} bytes at {@code address} lie wholly inside the region. */
    boolean holds(long address, long need) {
        return address >= base() && need <= size && address - base() <= size - need;
    }

    @Override
    public void close() {
        unmap(mapping.address(), size + PAGE);
    }

    private static MemorySegment mmap(long bytes) {
        try {
            MemorySegment m = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes, PROT_RW,
                    MAP_PRIVATE_ANONYMOUS, -1, 0L);
            if (m.address() == -1L) {
                throw new IllegalStateException("mmap of " + bytes + " bytes failed");
            }
            return m.reinterpret(bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void protect(long address, long bytes, int prot) {
        try {
            int rc = (int) MPROTECT.invokeExact(MemorySegment.ofAddress(address), bytes, prot);
            if (rc != 0) {
                throw new IllegalStateException("mprotect failed");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void unmap(long address, long bytes) {
        try {
            int rc = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), bytes);
            if (rc != 0) {
                throw new IllegalStateException("munmap failed");
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
