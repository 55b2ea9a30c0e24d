package org.blksnap.itest.verify;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.CbtMap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.Image;
import org.blksnap.api.Snapshot;
import org.blksnap.api.Uuid;

/**
 * The stamped-block scenario: filters attached, the region stamped once,
 * writers started; then rounds of snapshot create, take under load, every
 * image checked block by block against the model and against one common
 * point in time, the CBT map checked against the requests since the
 * previous take, snapshot destroyed, while the writers go on. At the end,
 * with the writers stopped, the originals are checked the same way.
 */
public final class StampedRun implements AutoCloseable {
    private static final DiffStorage STORAGE = DiffStorage.directory(Path.of("/tmp"));

    private final String name;
    private final List<Path> devices;
    private final List<DeviceModel> models = new ArrayList<>();
    private final List<Cursor> cursors = new ArrayList<>();
    private final List<Mismatch> mismatches = new ArrayList<>();
    private final BlkSnap blksnap;
    private final Workload workload;
    private int takes;
    private boolean deliberate;

    /** Where the CBT check of one device left off. */
    private static final class Cursor {
        long since;
        Uuid generation;
        int number;
    }

    /**
     * Attaches the filters and stamps the region (of {@code bytes} from
     * offset 0) of every device; the writers do not run yet.
     */
    public StampedRun(String name, List<Path> devices, long bytes, boolean discards) throws IOException {
        this.name = name;
        this.devices = List.copyOf(devices);
        blksnap = BlkSnap.open();
        for (Path d : devices) {
            long tag = ThreadLocalRandom.current().nextLong();
            models.add(new DeviceModel(d.toString(), tag, bytes));
            Cursor c = new Cursor();
            try (Filter f = Filter.open(d)) {
                if (!f.isAttached()) {
                    f.attach();
                }
                c.since = System.nanoTime();
                c.generation = f.cbtInfo().generationId();
                c.number = f.cbtInfo().changesNumber();
            }
            cursors.add(c);
        }
        workload = new Workload(models, devices, discards);
        workload.fill();
    }

    /**
     * For the test that proves the checks can fail: what it finds is
     * planted, so it is not counted as a mismatch in the summary.
     */
    public StampedRun deliberateMismatches() {
        deliberate = true;
        return this;
    }

    private void tallyMismatches(int n) {
        if (!deliberate) {
            Evidence.add(Evidence.Tally.MISMATCHES, n);
        }
    }

    public List<DeviceModel> models() {
        return models;
    }

    public Workload workload() {
        return workload;
    }

    /** Runs rounds until the deadline; fails with every mismatch found. */
    public void run(Knobs knobs, Knobs.Deadline deadline) throws Exception {
        workload.start(knobs.writers(), System.nanoTime());
        for (int round = 0; deadline.more(round); round++) {
            Thread.sleep(knobs.writeTime());
            workload.check();
            round(null);
            if (knobs.soaking()) {
                System.out.printf("[soak] %s round %d: %,d requests, %d takes, %d mismatches, %s%n", name,
                        round + 1, workload.requests(), takes, mismatches.size(), deadline.left());
            }
            if (!mismatches.isEmpty()) {
                break;
            }
        }
        workload.close();
        checkOriginals();
        assertClean();
    }

    /**
     * With the writers stopped, every original must hold exactly the last
     * write of each block: snapshots, their images and their destruction
     * never changed a byte of it.
     */
    private void checkOriginals() throws IOException {
        long now = System.nanoTime();
        for (int d = 0; d < devices.size(); d++) {
            ImageCheck c = new ImageCheck(models.get(d), new Take(now, now), "original");
            ImageReader.check(devices.get(d), c);
            mismatches.addAll(c.mismatches());
            tallyMismatches(c.mismatches().size());
        }
    }

    /**
     * One round: create, add, take under load, check. {@code beforeCheck}
     * runs on the images after the take and before they are read (the
     * mutation test corrupts one there).
     *
     * @return the checks of each image, in device order
     */
    public List<ImageCheck> round(ImagesHook beforeCheck) throws Exception {
        // Only the region is written: twice it holds every chunk saved, with
        // margin; the module allocates it up front, so more only costs time.
        long limit = 2 * models.getFirst().bytes() * devices.size() / 512;
        Snapshot snap = Snapshot.create(blksnap, STORAGE, limit);
        try {
            for (Path d : devices) {
                snap.add(d);
            }
            long start = System.nanoTime();
            snap.take();
            Take take = new Take(start, System.nanoTime());
            takes++;
            Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
            List<Image> images = snap.images();
            if (beforeCheck != null) {
                beforeCheck.run(images);
            }
            List<ImageCheck> checks = checkImages(take, images);
            checkCbt(take);
            for (Image i : snap.images()) {
                if (i.corrupted()) {
                    mismatches.add(new Mismatch(i.image().toString(), -1, "image state", "not corrupted",
                            "error code " + i.errorCode()));
                    tallyMismatches(1);
                }
            }
            for (ImageCheck c : checks) {
                c.model().forget(c.deadAt(take.start()));
            }
            return checks;
        } finally {
            snap.destroy();
        }
    }

    /** Something to do to the images between take and check. */
    @FunctionalInterface
    public interface ImagesHook {
        void run(List<Image> images) throws IOException;
    }

    private List<ImageCheck> checkImages(Take take, List<Image> images) throws IOException {
        List<ImageCheck> checks = new ArrayList<>();
        long point = Long.MIN_VALUE;
        for (int d = 0; d < devices.size(); d++) {
            ImageCheck c = new ImageCheck(models.get(d), take);
            ImageReader.check(images.get(d).image(), c);
            checks.add(c);
            point = Math.max(point, c.latestFoundIssue());
        }
        for (ImageCheck c : checks) {
            String source = String.format("%+.3f ms (latest request found in any image)",
                    (point - take.start()) / 1e6);
            c.checkCut(point, source);
            mismatches.addAll(c.mismatches());
            tallyMismatches(c.mismatches().size());
        }
        return checks;
    }

    private void checkCbt(Take take) throws IOException {
        for (int d = 0; d < devices.size(); d++) {
            Cursor c = cursors.get(d);
            CbtMap map;
            try (Filter f = Filter.open(devices.get(d))) {
                map = CbtMap.read(f);
            }
            // A new generation (the numbers wrapped at this take) means what
            // a backup would do: count from 0, now and at the next take.
            boolean sameGeneration = map.info().generationId().equals(c.generation);
            int previous = sameGeneration ? c.number : 0;
            CbtCheck.Result r = CbtCheck.check(models.get(d), c.since, take, previous, map);
            mismatches.addAll(r.mismatches());
            tallyMismatches(r.mismatches().size());
            Evidence.add(Evidence.Tally.BLOCKS_VERIFIED, r.checked());
            c.since = take.end();
            c.generation = map.info().generationId();
            c.number = sameGeneration ? map.info().changesNumber() : 0;
        }
    }

    public int takes() {
        return takes;
    }

    public List<Mismatch> mismatches() {
        return List.copyOf(mismatches);
    }

    /** Fails with the first mismatches, decoded, if there are any. */
    public void assertClean() {
        if (!mismatches.isEmpty()) {
            StringBuilder b = new StringBuilder(name + ": " + mismatches.size() + " mismatches after " + takes
                    + " takes; the first ones:");
            mismatches.stream().limit(20).forEach(m -> b.append("\n  ").append(m));
            throw new AssertionError(b.toString());
        }
    }

    /** Stops the writers and detaches the filters. */
    @Override
    public void close() throws IOException {
        try {
            workload.close();
        } finally {
            try {
                for (Path d : devices) {
                    try (Filter f = Filter.open(d)) {
                        if (f.isAttached()) {
                            f.detach();
                        }
                    }
                }
            } finally {
                blksnap.close();
            }
        }
    }
}
