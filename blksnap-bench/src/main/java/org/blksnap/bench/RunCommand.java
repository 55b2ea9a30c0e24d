package org.blksnap.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs every scenario in this (guest) boot and writes results.json and the raw fio JSON. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run every scenario on scratch disks (inside the vm/run guest, as root, blksnap loaded).",
            "Writes results.json and one fio JSON file per job into --out. DESTROYS the disks' data."})
final class RunCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "output directory (emptied first)")
    private Path out;

    @Option(names = "--quick", description = "smoke run: tiny sizes and runtimes, no target judged")
    private boolean quick;

    @Option(names = "--main", defaultValue = "/dev/vda", description = "the measured disk (default ${DEFAULT-VALUE})")
    private Path main;

    @Option(names = "--storage", defaultValue = "/dev/vdb",
            description = "difference storage and dm-snapshot COW disk (default ${DEFAULT-VALUE})")
    private Path storage;

    @Option(names = "--extra", split = ",", defaultValue = "/dev/vdc,/dev/vdd,/dev/vde",
            description = "three more disks for the 4-device take (default ${DEFAULT-VALUE})")
    private List<Path> extra;

    @Option(names = "--scenario", paramLabel = "N",
            description = "run only this scenario (repeatable); its figures are then not a whole bench run")
    private List<Integer> only = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Profile profile = quick ? Profile.QUICK : Profile.FULL;
        Disks disks = new Disks(main, storage, extra);
        disks.check(profile);
        if (Files.exists(out)) {
            try (var files = Files.list(out)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
        }
        String started = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        long chunk = 1L << Guest.parameter("chunk_minimum_shift");
        Bench bench = new Bench(profile, disks, new Fio(out), chunk, System.out);

        System.out.println("== preconditioning: every block of the region written once");
        // Reads must not hit holes of the sparse host files, and the
        // storage disk must cost the same for blksnap and dm-snapshot.
        bench.fio(Jobs.sequentialWrite("s0-precondition-main", main, profile));
        long storageBytes = Guest.deviceBytes(storage);
        bench.fio(new FioJob("s0-precondition-storage", storage, "write", 1 << 20, storageBytes, 0, 0, 0,
                profile.iodepth()));

        List<Measurement> failed = new ArrayList<>();
        for (Scenario s : Scenarios.all()) {
            if (!only.isEmpty() && !only.contains(s.number())) {
                continue;
            }
            System.out.println("== " + s.number() + ". " + s.title());
            try {
                s.run(bench);
            } catch (Exception e) {
                Measurement m = Measurement.failed(s.number(), s.title(), e.toString());
                bench.add(m);
                failed.add(m);
                e.printStackTrace(System.out);
                bench.cleanUp();
            }
        }
        new Results(started, quick, Guest.environment(disks.describe()), profile, bench.rows()).write(out);
        System.out.println("results: " + out.resolve(Results.FILE));
        if (!failed.isEmpty()) {
            System.err.println("blksnap-bench: " + failed.size() + " scenario(s) failed: "
                    + failed.stream().map(m -> Integer.toString(m.scenario())).toList());
            return 1;
        }
        return 0;
    }
}
