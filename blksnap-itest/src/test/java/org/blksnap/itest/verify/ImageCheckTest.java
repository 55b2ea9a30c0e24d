package org.blksnap.itest.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The model's rules, with hand-made timelines (times in arbitrary units; the take is [100, 110]). */
class ImageCheckTest {
    private static final Take TAKE = new Take(100, 110);

    private final DeviceModel model = new DeviceModel("/dev/test", 7, 16 * 4096L);

    private Op op(Op.Kind kind, long seq, long block, long submitted, long acked) {
        Op o = new Op(kind, seq, 1, block * 4096, 4096, submitted);
        model.record(o);
        if (acked != Op.PENDING) {
            o.ack(acked);
        }
        return o;
    }

    private Op write(long seq, long block, long submitted, long acked) {
        return op(Op.Kind.WRITE, seq, block, submitted, acked);
    }

    private Stamp.Content stamp(long block, long seq) {
        return new Stamp.Stamped(model.stamp(block, seq, 1));
    }

    private Mismatch check(long block, Stamp.Content found) {
        return new ImageCheck(model, TAKE).block(block, found);
    }

    @Test
    void theLastWriteAcknowledgedBeforeTheTakeIsRequired() {
        write(1, 0, 10, 20);
        write(2, 0, 30, 40);
        assertNull(check(0, stamp(0, 2)));
        Mismatch m = check(0, stamp(0, 1));
        assertNotNull(m);
        assertTrue(m.what().contains("overwritten before the take"), m.toString());
        assertTrue(m.expected().contains("seq 2") && m.found().contains("seq 1"), m.toString());
        assertEquals(0, m.block());
    }

    @Test
    void aWriteIssuedAfterTheTakeMustNotShow() {
        write(1, 0, 10, 20);
        write(2, 0, 111, 120);
        assertNull(check(0, stamp(0, 1)));
        assertTrue(check(0, stamp(0, 2)).what().contains("after the take"));
    }

    @Test
    void aWriteInFlightMayShowOrNot() {
        write(1, 0, 10, 20);
        write(2, 0, 95, 105);
        write(3, 1, 10, 20);
        write(4, 1, 105, Op.PENDING);
        assertNull(check(0, stamp(0, 1)));
        assertNull(check(0, stamp(0, 2)));
        assertNull(check(1, stamp(1, 3)));
        assertNull(check(1, stamp(1, 4)));
    }

    @Test
    void concurrentWritesBothAcknowledgedBeforeTheTakeMayEitherWin() {
        write(1, 0, 10, 40);
        write(2, 0, 20, 30);
        assertNull(check(0, stamp(0, 1)));
        assertNull(check(0, stamp(0, 2)));
    }

    @Test
    void zeroesOnlyWhereADiscardMayHaveHappened() {
        write(1, 0, 10, 20);
        op(Op.Kind.DISCARD, 2, 0, 30, 40);
        write(3, 1, 10, 20);
        op(Op.Kind.DISCARD, 4, 1, 30, 40);
        write(5, 1, 50, 60);
        write(6, 2, 10, 20);
        assertNull(check(0, new Stamp.Zeroes()));
        assertNull(check(0, stamp(0, 1)), "a discard may leave the data");
        assertNotNull(check(1, new Stamp.Zeroes()), "the discard was overwritten before the take");
        assertNotNull(check(2, new Stamp.Zeroes()));
        assertNull(check(3, new Stamp.Zeroes()), "never written: a sparse device reads zeroes");
    }

    @Test
    void foreignMisplacedAndTornBlocksAreReported() {
        write(1, 0, 10, 20);
        assertTrue(check(0, new Stamp.Stamped(new Stamp(8, 0, 1, 1))).what().contains("foreign"));
        assertTrue(check(0, stamp(1, 1)).what().contains("misplaced"));
        assertTrue(check(0, new Stamp.Garbage("checksum mismatch")).what().contains("torn"));
        assertTrue(check(0, stamp(0, 99)).what().contains("no write"));
    }

    /** A deliberately wrong model (the newest write forgotten) must make a correct image fail. */
    @Test
    void aWrongModelFailsACorrectImage() {
        DeviceModel wrong = new DeviceModel("/dev/test", 7, 16 * 4096L);
        Op old = new Op(Op.Kind.WRITE, 1, 1, 0, 4096, 10);
        old.ack(20);
        wrong.record(old);
        Mismatch m = new ImageCheck(wrong, TAKE).block(0, new Stamp.Stamped(wrong.stamp(0, 2, 1)));
        assertNotNull(m);
    }

    @Test
    void anImageBehindAnotherImagesPointInTimeIsReported() {
        write(1, 0, 10, 20);
        write(2, 0, 101, 103);
        ImageCheck c = new ImageCheck(model, TAKE);
        assertNull(c.block(0, stamp(0, 1)), "alone, the write at 101 may be after the take's point");
        assertTrue(c.checkCut(102, "test").isEmpty(), "a point before seq 2 was acknowledged");
        List<Mismatch> behind = c.checkCut(104, "another image shows a request issued at 104");
        assertEquals(1, behind.size());
        assertTrue(behind.getFirst().expected().contains("seq 2"), behind.toString());
    }

    /**
     * Lockstep: seq 2 goes to B only after A acknowledged it. Alone, each
     * image is possible; together, B holding seq 2 while A still holds
     * seq 1 means A is behind B.
     */
    @Test
    void lockstepImagesMustShowOnePointInTime() {
        DeviceModel b = new DeviceModel("/dev/b", 8, 16 * 4096L);
        write(1, 0, 10, 20);
        write(2, 0, 95, 105);
        Op b1 = new Op(Op.Kind.WRITE, 1, 1, 0, 4096, 21);
        b1.ack(30);
        b.record(b1);
        Op b2 = new Op(Op.Kind.WRITE, 2, 1, 0, 4096, 106);
        b2.ack(108);
        b.record(b2);
        ImageCheck onA = new ImageCheck(model, TAKE);
        ImageCheck onB = new ImageCheck(b, TAKE);
        assertNull(onA.block(0, stamp(0, 1)));
        assertNull(onB.block(0, new Stamp.Stamped(b.stamp(0, 2, 1))));
        long point = Math.max(onA.latestFoundIssue(), onB.latestFoundIssue());
        assertEquals(106, point);
        assertTrue(onB.checkCut(point, "test").isEmpty());
        List<Mismatch> behind = onA.checkCut(point, "B shows seq 2");
        assertEquals(1, behind.size(), behind.toString());
        assertEquals("/dev/test", behind.getFirst().device());
    }

    @Test
    void onlyRequestsThatCanNeverShowAgainArePruned() {
        Op a = write(1, 0, 10, 20);
        Op b = write(2, 0, 30, 40);
        Op c = write(3, 1, 10, 200);
        Op d = op(Op.Kind.DISCARD, 4, 2, 10, 20);
        assertEquals(Set.of(a), new ImageCheck(model, TAKE).deadAt(100));
        model.forget(Set.of(a));
        assertEquals(List.of(b, c, d), model.ops());
    }
}
