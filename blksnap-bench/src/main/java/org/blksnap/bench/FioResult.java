package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The figures of one fio job, from its JSON output.
 *
 * @param file          the JSON file's name
 * @param bytesPerSecond bandwidth of the job's direction
 * @param iops          I/O operations per second
 * @param ios           I/Os completed
 * @param p99LatencyUs  99th percentile completion latency, microseconds
 */
public record FioResult(String file, double bytesPerSecond, double iops, long ios, double p99LatencyUs) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** @return bandwidth in MiB/s */
    public double mibPerSecond() {
        return bytesPerSecond / (1 << 20);
    }

    /**
     * @param json  fio's --output-format=json output
     * @param reads whether the job read (else it wrote)
     * @return the figures
     * @throws IOException if the file is not fio JSON of one job that did I/O
     */
    public static FioResult parse(Path json, boolean reads) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(json.toFile());
        } catch (IOException e) {
            throw new IOException(json + " is not fio JSON: " + e.getMessage(), e);
        }
        JsonNode jobs = root.path("jobs");
        if (jobs.size() != 1) {
            throw new IOException(json + ": expected one fio job, found " + jobs.size());
        }
        JsonNode job = jobs.get(0);
        if (job.path("error").asInt(0) != 0) {
            throw new IOException(json + ": fio job failed with error " + job.path("error").asInt());
        }
        JsonNode dir = job.path(reads ? "read" : "write");
        long ios = dir.path("total_ios").asLong(0);
        if (ios <= 0) {
            throw new IOException(json + ": the fio job did no " + (reads ? "read" : "write") + " I/O");
        }
        double p99 = dir.path("clat_ns").path("percentile").path("99.000000").asDouble(Double.NaN) / 1000.0;
        return new FioResult(json.getFileName().toString(), dir.path("bw_bytes").asDouble(),
                dir.path("iops").asDouble(), ios, p99);
    }
}
