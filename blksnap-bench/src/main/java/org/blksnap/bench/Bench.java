package org.blksnap.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.BlkSnapException;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.Session;
import org.blksnap.api.Snapshot;
import org.blksnap.api.SnapshotId;

/**
 * The state of one run shared by the scenarios: profile, disks, the fio
 * runner, the figures measured so far (by fio job name) and the rows.
 */
final class Bench {
    /** Below this block size a job is reported in IOPS, from it on in MiB/s (chunk-sized reads too). */
    private static final long THROUGHPUT_BLOCK = 128 << 10;

    private final Profile profile;
    private final Disks disks;
    private final Fio fio;
    private final long chunkBytes;
    private final PrintStream log;
    private final Map<String, FioResult> figures = new HashMap<>();
    private final List<Measurement> rows = new ArrayList<>();
    private final long start = System.nanoTime();

    Bench(Profile profile, Disks disks, Fio fio, long chunkBytes, PrintStream log) {
        this.profile = profile;
        this.disks = disks;
        this.fio = fio;
        this.chunkBytes = chunkBytes;
        this.log = log;
    }

    Profile profile() {
        return profile;
    }

    Disks disks() {
        return disks;
    }

    /** @return the snapshot chunk size in bytes, which dm-snapshot uses too */
    long chunkBytes() {
        return chunkBytes;
    }

    boolean quick() {
        return profile.quick();
    }

    List<Measurement> rows() {
        return List.copyOf(rows);
    }

    /** Runs a fio job, keeps its figures under the job's name and logs them. */
    FioResult fio(FioJob job) throws IOException {
        FioResult r = fio.run(job);
        figures.put(job.name(), r);
        log.printf("  %-36s %s %s%s%n", job.name(), Format.number(value(r, job)), unit(job), elapsed());
        return r;
    }

    /**
     * @param job the name of a job of this run
     * @return its figures
     * @throws IllegalStateException if it did not run (its scenario failed)
     */
    FioResult figure(String job) {
        FioResult r = figures.get(job);
        if (r == null) {
            throw new IllegalStateException("needs the figures of fio job '" + job
                    + "', which did not run (an earlier scenario failed)");
        }
        return r;
    }

    /** @return IOPS for small-block jobs, MiB/s for large-block ones */
    static double value(FioResult r, FioJob job) {
        return job.blockSize() < THROUGHPUT_BLOCK ? r.iops() : r.mibPerSecond();
    }

    static String unit(FioJob job) {
        return job.blockSize() < THROUGHPUT_BLOCK ? "IOPS" : "MiB/s";
    }

    /**
     * Records a fio measurement with its ratio to the bare run of the same job.
     *
     * @param bare the bare device's figures for the same job, or null for a baseline row
     */
    void measured(int scenario, String name, FioJob job, FioResult r, FioResult bare, Target target, String note) {
        double v = value(r, job);
        Double ratio = bare == null ? Double.valueOf(1.0) : Double.valueOf(v / value(bare, job));
        List<String> files = bare == null || bare.file().equals(r.file()) ? List.of(r.file())
                : List.of(r.file(), bare.file());
        add(Measurement.judged(scenario, name, v, unit(job), ratio, target, quick(), note, files));
    }

    void add(Measurement m) {
        rows.add(m);
        log.printf("  => %s: %s %s%s [%s]%n", m.name(), Format.number(m.value()), m.unit(),
                m.ratio() == null ? "" : " (" + Format.ratio(m.ratio()) + " bare)", m.verdict().label());
    }

    /** @return " [at 123 s]": where the run's time goes */
    private String elapsed() {
        return " [at " + (System.nanoTime() - start) / 1_000_000_000L + " s]";
    }

    void log(String line) {
        log.println(line);
    }

    /** Attaches the blksnap filter (CBT starts). */
    static void attach(Path device) throws BlkSnapException {
        try (Filter f = Filter.open(device)) {
            f.attach();
        }
    }

    /** Detaches the filter if attached. */
    static void detach(Path device) throws BlkSnapException {
        try (Filter f = Filter.open(device)) {
            if (f.isAttached()) {
                f.detach();
            }
        }
    }

    /** @return a taken snapshot of the devices over the whole storage disk */
    Session snapshot(List<Path> devices) throws IOException {
        return snapshot(devices, Guest.deviceBytes(disks.storage()));
    }

    /** @return a taken snapshot of the devices that may use {@code limitBytes} of the storage disk */
    Session snapshot(List<Path> devices, long limitBytes) throws IOException {
        return Session.builder().devicesFrom(devices).storage(storage()).limit(limitBytes).open();
    }

    /** @return where a fio process this run starts itself writes its JSON figures */
    Path fioOutput(String name) {
        return fio.output(name);
    }

    /** @return a snapshot of the devices, created and added but not taken */
    Snapshot untaken(BlkSnap blksnap, List<Path> devices) throws IOException {
        long sectors = Guest.deviceBytes(disks.storage()) / 512;
        // DESTROY closes the storage before it returns: the disk is free at once.
        Snapshot s = Snapshot.create(blksnap, storage(), sectors);
        for (Path d : devices) {
            s.add(d);
        }
        return s;
    }

    /** @return the storage disk as a difference storage, for a snapshot this run does not open itself */
    DiffStorage storage() {
        return DiffStorage.blockDevice(disks.storage());
    }

    /**
     * After a failed scenario: destroys every snapshot, detaches every
     * filter and removes the dm devices, so the next scenario starts clean.
     */
    void cleanUp() {
        try (BlkSnap b = BlkSnap.open()) {
            for (SnapshotId id : b.collect()) {
                b.destroy(id);
            }
        } catch (IOException e) {
            log("  clean-up: destroying snapshots: " + e.getMessage());
        }
        for (Path d : disks.all()) {
            try {
                detach(d);
            } catch (IOException e) {
                log("  clean-up: detaching " + d + ": " + e.getMessage());
            }
        }
        for (String dm : List.of("bench-origin", "bench-snap")) {
            try {
                Guest.sh("dmsetup", "--noudevsync", "remove", "--force", dm);
            } catch (IOException absent) {
                // Not there: nothing to remove.
            }
        }
    }
}
