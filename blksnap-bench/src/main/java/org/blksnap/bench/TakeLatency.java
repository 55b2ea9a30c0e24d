package org.blksnap.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.Snapshot;

/**
 * Scenario 6: how long the take ioctl (which freezes, switches the CBT
 * maps and thaws) lasts while fio writes to every device of the snapshot.
 */
final class TakeLatency extends Scenario {
    /** Lets the writer reach a steady state before each take. */
    private static final long SETTLE_MS = 500;

    TakeLatency() {
        super(6, "take latency with a writer running");
    }

    @Override
    void run(Bench b) throws Exception {
        measure(b, List.of(b.disks().main()));
        measure(b, b.disks().takeSet());
    }

    private void measure(Bench b, List<Path> devices) throws Exception {
        List<Double> ms = new ArrayList<>();
        Path json = b.fioOutput("s6-writer-" + devices.size());
        List<Long> before = new ArrayList<>();
        for (Path d : devices) {
            before.add(writesCompleted(d));
        }
        Process writer = Fio.startWriter(devices, b.profile(), json);
        try (BlkSnap blksnap = BlkSnap.open()) {
            awaitWrites(writer, devices, before);
            for (int i = 0; i < b.profile().takes(); i++) {
                Snapshot s = b.untaken(blksnap, devices);
                try {
                    Thread.sleep(SETTLE_MS);
                    if (!writer.isAlive()) {
                        throw new IllegalStateException("the fio writer stopped (exit " + writer.exitValue() + ")");
                    }
                    long t0 = System.nanoTime();
                    s.take();
                    ms.add((System.nanoTime() - t0) / 1e6);
                } finally {
                    s.destroy();
                }
            }
        } finally {
            // SIGINT, as at a terminal: fio stops its jobs and writes its figures.
            new ProcessBuilder("kill", "-INT", Long.toString(writer.pid())).inheritIO().start().waitFor();
            if (!writer.waitFor(60, TimeUnit.SECONDS)) {
                writer.destroy();
            }
            if (!writer.waitFor(30, TimeUnit.SECONDS)) {
                writer.destroyForcibly();
            }
            for (Path d : devices) {
                Bench.detach(d);
            }
        }
        double max = ms.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        String name = "take latency, " + devices.size() + (devices.size() == 1 ? " device" : " devices")
                + ", writer running";
        b.add(Measurement.judged(number(), name, TrackerAttached.median(ms), "ms", null, null, b.quick(),
                "median of " + ms.size() + " takes, max " + Format.number(max) + " ms; 4 KiB random writes on "
                        + "every device during the take", List.of()));
        String longest = "longest single write, " + devices.size() + (devices.size() == 1 ? " device" : " devices")
                + ", across the takes";
        FioResult w;
        try {
            w = FioResult.parse(json, false);
        } catch (java.io.IOException e) {
            b.add(Measurement.failed(number(), longest, "the writer's figures: " + e.getMessage()));
            return;
        }
        b.add(Measurement.judged(number(), longest, w.maxLatencyUs() / 1000, "ms", null, null, b.quick(),
                "the slowest of the writer's " + w.ios() + " writes (QD " + b.profile().iodepth()
                        + "), which ran through all " + ms.size() + " takes and the first writes after each",
                List.of(w.file())));
    }

    /**
     * fio takes seconds to start under emulation: a take before its first
     * write measures no writer, and a SIGINT before it leaves fio's figures
     * empty. So the takes start once every device has completed a write
     * since the writer was started.
     */
    private static void awaitWrites(Process writer, List<Path> devices, List<Long> before) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (int i = 0; i < devices.size(); i++) {
            while (writesCompleted(devices.get(i)) <= before.get(i)) {
                if (!writer.isAlive()) {
                    throw new IllegalStateException("the fio writer stopped before writing (exit "
                            + writer.exitValue() + ")");
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the fio writer wrote nothing to " + devices.get(i)
                            + " in 120 s");
                }
                Thread.sleep(50);
            }
        }
    }

    /** Field 5 of /sys/class/block/DEV/stat: writes completed. */
    private static long writesCompleted(Path device) throws java.io.IOException {
        Path stat = Path.of("/sys/class/block").resolve(device.toRealPath().getFileName()).resolve("stat");
        String[] f = java.nio.file.Files.readString(stat).trim().split("\\s+");
        return Long.parseLong(f[4]);
    }
}
