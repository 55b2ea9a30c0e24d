package org.blksnap.itest.verify;

import java.util.ArrayList;
import java.util.List;

import org.blksnap.api.CbtMap;

/**
 * CBT must name every block changed between two takes: each block of every
 * request issued after the previous take returned and acknowledged before
 * this take began must carry a number newer than the previous take's.
 * Reporting more is allowed (a backup then reads too much); reporting less
 * loses data in an incremental backup.
 */
public final class CbtCheck {
    private CbtCheck() {
    }

    /** The outcome: mismatches and how many (request, CBT block) pairs were checked. */
    public record Result(List<Mismatch> mismatches, long checked) {
    }

    /**
     * @param model    the device's requests
     * @param since    when the previous take returned (or the filter was attached)
     * @param take     this take
     * @param previous the changes number after the previous take (0 when the
     *                 generation changed since, or before the first take)
     * @param map      the map read after this take
     */
    public static Result check(DeviceModel model, long since, Take take, int previous, CbtMap map) {
        long bs = map.info().blockSize();
        List<Mismatch> out = new ArrayList<>();
        long checked = 0;
        for (Op op : model.ops()) {
            if (op.submitted() < since || op.acked() >= take.start()) {
                continue;
            }
            long first = op.offset() / bs;
            long last = (op.offset() + op.length() - 1) / bs;
            for (long b = first; b <= last; b++) {
                checked++;
                int stamp = map.stamp(Math.toIntExact(b));
                if (stamp <= previous) {
                    out.add(new Mismatch(model.name(), b, "CBT block (" + bs + " bytes, under-reported)",
                            "changes number > " + previous + " for " + op.describe(take.start())
                                    + " (times relative to the take)",
                            "changes number " + stamp + " (map " + map.info() + ")"));
                }
            }
        }
        return new Result(List.copyOf(out), checked);
    }
}
