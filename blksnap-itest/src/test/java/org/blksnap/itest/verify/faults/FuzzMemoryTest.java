package org.blksnap.itest.verify.faults;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The fuzzer judges a call on an "unmapped" pointer by expecting EFAULT, so
 * that address must stay unmapped whatever else the process maps meanwhile:
 * in the race phase two fuzzing threads make their own regions, and the JVM
 * maps thread stacks and heap.
 */
@SuppressWarnings("restricted")
class FuzzMemoryTest {
    private static final Linker LINKER = Linker.nativeLinker();
    /** msync fails with ENOMEM exactly when part of the range is not mapped. */
    private static final MethodHandle MSYNC = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("msync"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MMAP = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("mmap"),
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("munmap"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final int MS_ASYNC = 1;
    private static final int PROT_RW = 3;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;

    private static boolean mapped(long address) throws Throwable {
        long page = address & -FuzzMemory.PAGE;
        return (int) MSYNC.invokeExact(MemorySegment.ofAddress(page), (long) FuzzMemory.PAGE, MS_ASYNC) == 0;
    }

    @Test
    void theUnmappedPageStaysUnmappedWhileOtherRegionsComeAndGo() throws Throwable {
        try (FuzzMemory first = new FuzzMemory(8)) {
            assertFalse(mapped(first.unmapped()), "unmapped page of a fresh region");
            List<FuzzMemory> others = new ArrayList<>();
            List<MemorySegment> pages = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    others.add(new FuzzMemory(8));
                    // A small mapping, as the JVM and malloc make them at any time.
                    pages.add((MemorySegment) MMAP.invokeExact(MemorySegment.NULL, (long) FuzzMemory.PAGE, PROT_RW,
                            MAP_PRIVATE_ANONYMOUS, -1, 0L));
                    assertFalse(mapped(first.unmapped()), "the first region's unmapped page 0x"
                            + Long.toHexString(first.unmapped()) + " was mapped again after " + (i + 1)
                            + " other regions and pages");
                }
            } finally {
                others.forEach(FuzzMemory::close);
                for (MemorySegment p : pages) {
                    int rc = (int) MUNMAP.invokeExact(p, (long) FuzzMemory.PAGE);
                    assertTrue(rc == 0, "munmap");
                }
            }
        }
    }

    @Test
    void theRegionIsMappedAndTheGuardPageIsNotReadable() throws Throwable {
        try (FuzzMemory m = new FuzzMemory(2)) {
            assertTrue(mapped(m.base()));
            assertTrue(m.holds(m.base(), m.size()));
            assertFalse(m.holds(m.guard() - 1, 2), "an object crossing into the guard page");
        }
    }
}
