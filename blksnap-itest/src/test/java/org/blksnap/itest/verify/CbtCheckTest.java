package org.blksnap.itest.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.blksnap.api.CbtInfo;
import org.blksnap.api.CbtMap;
import org.blksnap.api.Uuid;
import org.junit.jupiter.api.Test;

class CbtCheckTest {
    private static final Take TAKE = new Take(100, 110);
    /** 1 MiB in CBT blocks of 64 KiB. */
    private static final CbtInfo INFO = new CbtInfo(1 << 20, 65536, 16, new Uuid(1, 2), 5);

    private final DeviceModel model = new DeviceModel("/dev/test", 7, 1 << 20);

    private void write(long offset, long length, long submitted, long acked) {
        Op o = new Op(Op.Kind.WRITE, submitted, 1, offset, length, submitted);
        model.record(o);
        o.ack(acked);
    }

    @Test
    void everyBlockWrittenBetweenTheTakesMustBeNewer() {
        write(60 * 1024, 8192, 50, 60); // blocks 0 and 1
        byte[] map = new byte[16];
        map[0] = 5;
        map[1] = 4;
        CbtCheck.Result r = CbtCheck.check(model, 40, TAKE, 4, new CbtMap(INFO, map));
        assertEquals(2, r.checked());
        assertEquals(1, r.mismatches().size());
        assertEquals(1, r.mismatches().getFirst().block());
        assertTrue(r.mismatches().getFirst().found().contains("changes number 4"), r.mismatches().toString());
    }

    @Test
    void overReportingAndRequestsOutsideTheWindowAreFine() {
        write(0, 4096, 30, 35); // before the previous take returned
        write(65536, 4096, 95, 105); // in flight at the take
        write(131072, 4096, 111, 115); // after the take
        byte[] map = new byte[16];
        map[9] = 5;
        CbtCheck.Result r = CbtCheck.check(model, 40, TAKE, 4, new CbtMap(INFO, map));
        assertTrue(r.mismatches().isEmpty());
        assertEquals(0, r.checked());
    }
}
