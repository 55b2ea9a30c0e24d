package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.blksnap.api.CbtInfo;
import org.blksnap.api.CbtMap;
import org.blksnap.api.Uuid;
import org.junit.jupiter.api.Test;

class ChangedBlocksTest {
    /** 5 blocks of 1000 bytes, the last one 500 bytes long (capacity 4500). */
    static final CbtMap MAP = new CbtMap(new CbtInfo(4500, 1000, 5, Uuid.random(), 2), new byte[] {0, 2, 2, 1, 2});
    static final ChangedBlocks CHANGED = new ChangedBlocks(MAP);

    static StatusExtent e(long length, int flags) {
        return new StatusExtent(length, flags);
    }

    @Test
    void namesAreExactlyChangedZeroTo255() {
        assertEquals(Optional.of(0), ChangedBlocks.parse("blksnap:changed:0"));
        assertEquals(Optional.of(255), ChangedBlocks.parse("blksnap:changed:255"));
        for (String bad : new String[] {"blksnap:changed:256", "blksnap:changed:01", "blksnap:changed:",
            "blksnap:changed:-1", "blksnap:changed:1 ", "blksnap:changed", "base:allocation", "blksnap:changed:9999"}) {
            assertEquals(Optional.empty(), ChangedBlocks.parse(bad), bad);
        }
        assertEquals(List.of("blksnap:changed:0", "blksnap:changed:1", "blksnap:changed:2"), CHANGED.names());
    }

    @Test
    void extentsFollowTheStampsAndClipToTheRequest() throws Exception {
        BlockStatus since1 = CHANGED.since(1);
        assertEquals(List.of(e(1000, 0), e(2000, 1), e(1000, 0), e(500, 1)), since1.status(0, 4500));
        // Unaligned start and end inside blocks.
        assertEquals(List.of(e(500, 0), e(2000, 1), e(200, 0)), since1.status(500, 2700));
        assertEquals(List.of(e(1, 1)), since1.status(4499, 1));
        assertEquals(List.of(e(3500, 1)), CHANGED.since(0).status(1000, 3500));
        assertEquals(List.of(e(4500, 0)), CHANGED.since(2).status(0, 4500));
    }

    @Test
    void descriptorsAreMergedClippedAndBounded() {
        assertEquals(List.of(e(30, 1), e(5, 0)),
                Transmission.descriptors(List.of(e(10, 1), e(20, 1), e(10, 0)), 35, false));
        assertEquals(List.of(e(30, 1)), Transmission.descriptors(List.of(e(10, 1), e(20, 1), e(10, 0)), 35, true));
        assertEquals(List.of(e(35, 0)), Transmission.descriptors(List.of(), 35, false));
        List<StatusExtent> many = new java.util.ArrayList<>();
        for (int i = 0; i < Transmission.MAX_DESCRIPTORS + 10; i++) {
            many.add(e(1, i % 2));
        }
        List<StatusExtent> d = Transmission.descriptors(many, many.size(), false);
        assertEquals(Transmission.MAX_DESCRIPTORS, d.size());
        assertTrue(d.stream().mapToLong(StatusExtent::length).sum() < many.size(), "less than asked: allowed");
    }
}
