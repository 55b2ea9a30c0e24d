package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs fio jobs and keeps each job's JSON output in the run directory. */
final class Fio {
    private final Path outDir;

    /** @param outDir where the JSON files go (created) */
    Fio(Path outDir) throws IOException {
        this.outDir = Files.createDirectories(outDir);
    }

    /** @return where the JSON figures of a fio run named {@code name} go */
    Path output(String name) {
        return outDir.resolve(name + ".json");
    }

    /**
     * Runs a job to its end.
     *
     * @return its figures
     * @throws IOException if fio fails or its output is not what a job that did I/O writes
     */
    FioResult run(FioJob job) throws IOException {
        Path json = output(job.name());
        if (Files.exists(json)) {
            throw new IllegalStateException("fio job name used twice in one run: " + job.name());
        }
        List<String> cmd = new ArrayList<>(List.of("fio", "--output-format=json", "--output=" + json));
        cmd.addAll(job.arguments());
        Guest.sh(cmd);
        return job.mixed() ? FioResult.parse(json, List.of("read", "write")) : FioResult.parse(json, job.reads());
    }

    /**
     * Starts a background writer (4 KiB random writes, one job per device)
     * that runs until the returned process is destroyed (fio writes its
     * figures when it is told to stop).
     *
     * @param json where fio writes its JSON figures at the end, or null for none
     * @return the fio process
     * @throws IOException if fio cannot start
     */
    static Process startWriter(List<Path> devices, Profile p, Path json) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("fio"));
        if (json == null) {
            cmd.add("--output=/dev/null");
        } else {
            cmd.addAll(List.of("--output-format=json", "--output=" + json, "--group_reporting"));
        }
        int i = 0;
        for (Path d : devices) {
            FioJob job = new FioJob("writer" + i++, d, "randwrite", 4096, p.regionBytes() / 4, 0, 3600, 0,
                    p.iodepth());
            cmd.addAll(job.arguments());
        }
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
    }
}
