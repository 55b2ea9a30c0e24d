package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * What one guest run measured: written by {@code run} as results.json next
 * to the raw fio files, read by {@code report}.
 *
 * @param started      UTC start of the run, ISO-8601
 * @param quick        a smoke run (tiny sizes, no targets judged)
 * @param environment  the guest: kernel, CPUs, memory, fio version, disks
 * @param profile      the sizes and times used
 * @param measurements the rows, in scenario order
 */
public record Results(String started, boolean quick, Environment environment, Profile profile,
        List<Measurement> measurements) {

    /** The file name inside a run's output directory. */
    public static final String FILE = "results.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Validates the fields. */
    public Results {
        Objects.requireNonNull(started, "started");
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(profile, "profile");
        measurements = List.copyOf(measurements);
    }

    /**
     * @param kernel   uname -r of the guest
     * @param cpus     online CPUs of the guest
     * @param memoryKb MemTotal of the guest
     * @param fio      fio --version
     * @param disks    what each scratch disk was used for
     */
    public record Environment(String kernel, int cpus, long memoryKb, String fio, String disks) {
    }

    /** @param dir the run's directory @throws IOException if it cannot be written */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        JSON.writeValue(dir.resolve(FILE).toFile(), this);
    }

    /**
     * @param dir a run's directory
     * @return its results
     * @throws IOException if the file is missing or not valid results
     */
    public static Results read(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            throw new IOException(f + " does not exist: the benchmark run wrote no results");
        }
        return JSON.readValue(f.toFile(), Results.class);
    }
}
