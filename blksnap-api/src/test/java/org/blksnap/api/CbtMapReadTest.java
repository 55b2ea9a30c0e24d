package org.blksnap.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * {@link CbtMap#read} against a scripted tracker: the device shrinks or
 * grows between the calls, as {@code losetup -c} does in ConcurrencyIT.
 */
class CbtMapReadTest {
    private static final Path DEVICE = Path.of("/dev/loop0");
    private static final int BS = 64 << 10;
    private static final CbtInfo BIG = new CbtInfo(1536L * BS, BS, 1536, new Uuid(1, 1), 3);
    private static final CbtInfo SMALL = new CbtInfo(1024L * BS, BS, 1024, new Uuid(2, 2), 0);

    /** Answers the calls in order; a Throwable in the script is thrown. */
    private static <T> CbtMap.Call<T> script(List<Object> answers) {
        Deque<Object> left = new ArrayDeque<>(answers);
        return () -> {
            Object next = left.removeFirst();
            if (next instanceof BlkSnapException e) {
                throw e;
            }
            @SuppressWarnings("unchecked")
            T t = (T) next;
            return t;
        };
    }

    @Test
    void aMapThatShrankWhileReadIsReadAgainWithItsNewState() throws BlkSnapException {
        // The first read saw 1536 blocks, then the map was rebuilt for 1024:
        // Filter.readCbtMap ran past the new end.
        CbtMap m = CbtMap.read(DEVICE, script(List.of(BIG, SMALL, SMALL)),
                script(List.of(new CbtMapChangedException("changed"), new byte[1024])));
        assertEquals(SMALL, m.info());
        assertEquals(1024, m.bytes().length);
    }

    @Test
    void aMapThatGrewWhileReadIsNotPairedWithTheOldState() throws BlkSnapException {
        // A prefix of the new, empty map under the old generation would make
        // an incremental skip every change: it is read again.
        CbtMap m = CbtMap.read(DEVICE, script(List.of(BIG, SMALL, SMALL, SMALL)),
                script(List.of(new byte[1536], new byte[1024])));
        assertEquals(SMALL, m.info());
    }

    @Test
    void aMapThatNeverSettlesIsAnError() {
        List<Object> infos = List.of(BIG, SMALL, BIG, SMALL, BIG, SMALL, BIG, SMALL, BIG, SMALL);
        List<Object> maps = List.of(new byte[1536], new byte[1024], new byte[1536], new byte[1024], new byte[1536]);
        BlkSnapException e = assertThrows(BlkSnapException.class,
                () -> CbtMap.read(DEVICE, script(infos), script(maps)));
        assertEquals("/dev/loop0: CBT state kept changing while reading the map", e.getMessage());
    }
}
