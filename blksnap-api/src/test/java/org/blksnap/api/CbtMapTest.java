package org.blksnap.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.List;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** CbtMap's extent maths against a naive block-by-block model. */
class CbtMapTest {

    record Case(CbtInfo info, byte[] map) {
    }

    @Provide
    Arbitrary<Case> maps() {
        Arbitrary<Integer> shift = Arbitraries.integers().between(9, 20);
        Arbitrary<Integer> count = Arbitraries.integers().between(0, 300);
        Arbitrary<Integer> tail = Arbitraries.integers().between(0, 1 << 20);
        Arbitrary<Integer> maxStamp = Arbitraries.integers().between(0, 255);
        return Combinators.combine(shift, count, tail, maxStamp).flatAs((s, n, t, max) -> {
            int bs = 1 << s;
            // The last block may be partly beyond the device end.
            long capacity = n == 0 ? 0 : (long) (n - 1) * bs + 1 + (t % bs);
            return Arbitraries.integers().between(0, max).list().ofSize(n).map(stamps -> {
                byte[] m = new byte[n];
                for (int i = 0; i < n; i++) {
                    m[i] = (byte) (int) stamps.get(i);
                }
                return new Case(new CbtInfo(capacity, bs, n, new Uuid(1, 2), max), m);
            });
        });
    }

    @Property
    void extentsEqualTheModel(@ForAll("maps") Case c, @ForAll @IntRange(min = 0, max = 255) int since) {
        CbtMap map = new CbtMap(c.info(), c.map());
        List<Extent> extents = map.changedExtents(since);

        long bs = c.info().blockSize();
        long cap = c.info().capacityBytes();
        BitSet model = new BitSet();
        for (int i = 0; i < c.map().length; i++) {
            if (Byte.toUnsignedInt(c.map()[i]) > since) {
                model.set(i);
            }
        }
        BitSet fromExtents = new BitSet();
        long previousEnd = -1;
        for (Extent e : extents) {
            assertTrue(e.offset() > previousEnd, "sorted, not overlapping and not adjacent: " + extents);
            assertEquals(0, e.offset() % bs, "starts on a block boundary");
            assertTrue(e.end() <= cap, "clipped to the capacity");
            assertTrue(e.end() % bs == 0 || e.end() == cap, "ends on a block boundary or the device end");
            fromExtents.set((int) (e.offset() / bs), (int) Math.ceilDiv(e.end(), bs));
            previousEnd = e.end();
        }
        assertEquals(model, fromExtents);
        long modelBytes = model.stream().mapToLong(b -> Math.min((b + 1) * bs, cap) - b * bs).sum();
        assertEquals(modelBytes, extents.stream().mapToLong(Extent::length).sum());
    }

    @Property
    void newGenerationMeansFullBackup(@ForAll("maps") Case c) {
        CbtMap map = new CbtMap(c.info(), c.map());
        CbtChanges changes = map.changesSince(new Uuid(3, 4), 0);
        CbtChanges.FullBackupNeeded full = assertInstanceOf(CbtChanges.FullBackupNeeded.class, changes);
        assertTrue(full.reason().startsWith("full backup needed"), full.reason());
    }

    @Property
    void sameGenerationIsIncremental(@ForAll("maps") Case c) {
        CbtMap map = new CbtMap(c.info(), c.map());
        int since = c.info().changesNumber();
        CbtChanges changes = map.changesSince(c.info().generationId(), since);
        CbtChanges.Incremental inc = assertInstanceOf(CbtChanges.Incremental.class, changes);
        assertEquals(map.changedExtents(since), inc.extents());
        if (since < 255) {
            assertInstanceOf(CbtChanges.FullBackupNeeded.class,
                    map.changesSince(c.info().generationId(), since + 1));
        }
    }
}
