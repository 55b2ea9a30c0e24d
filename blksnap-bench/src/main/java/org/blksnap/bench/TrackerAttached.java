package org.blksnap.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Scenario 2: the cost of change-block tracking. Bare and tracked runs of
 * the same job alternate, so that drift of the (shared, emulated) machine
 * hits both alike; the medians are compared.
 */
final class TrackerAttached extends Scenario {
    private static final Target TARGET = Target.ratioAtLeast(0.98,
            "every write to a tracked device goes through the ftrace redirection of submit_bio_noacct, one "
            + "xarray lookup, a tracker reference and the CBT map spinlock (filter.c filter_bio, cbt_map.c "
            + "blksnap_cbt_map_mark); under TCG the trampoline itself is emulated and costs more than on hardware. "
            + "Fix: mark without the spinlock (one byte store per block, with the take's map switch waiting "
            + "for markers through RCU or a seqcount instead) and skip blocks already marked in this generation.");

    TrackerAttached() {
        super(2, "tracker attached, no snapshot");
    }

    @Override
    void run(Bench b) throws Exception {
        Path dev = b.disks().main();
        List<Double> bare = new ArrayList<>();
        List<Double> tracked = new ArrayList<>();
        List<String> files = new ArrayList<>();
        FioJob job = null;
        for (int i = 1; i <= b.profile().pairs(); i++) {
            job = Jobs.randomWrite("s2-bare-randwrite-4k-" + i, dev, b.profile());
            FioResult r = b.fio(job);
            bare.add(Bench.value(r, job));
            files.add(r.file());
            Bench.attach(dev);
            try {
                job = job.on("s2-tracked-randwrite-4k-" + i, dev);
                r = b.fio(job);
                tracked.add(Bench.value(r, job));
                files.add(r.file());
            } finally {
                Bench.detach(dev);
            }
        }
        double t = median(tracked);
        double base = median(bare);
        b.add(Measurement.judged(number(), "4 KiB random write, tracker attached", t, Bench.unit(job), t / base, TARGET,
                b.quick(), "median of " + tracked.size() + " runs alternating with bare ones; bare median "
                        + Format.number(base) + " IOPS; spread (the machine's noise): bare " + range(bare)
                        + ", tracked " + range(tracked), files));
    }

    /** @return "min..max" of the figures */
    static String range(List<Double> xs) {
        return Format.number(xs.stream().mapToDouble(Double::doubleValue).min().orElseThrow()) + ".."
                + Format.number(xs.stream().mapToDouble(Double::doubleValue).max().orElseThrow());
    }

    static double median(List<Double> xs) {
        List<Double> s = xs.stream().sorted().toList();
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
