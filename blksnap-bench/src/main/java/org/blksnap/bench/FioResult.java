package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

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
 * @param maxLatencyUs  the longest single completion latency, microseconds
 */
public record FioResult(String file, double bytesPerSecond, double iops, long ios, double p99LatencyUs,
        double maxLatencyUs) {

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
        return parse(json, reads ? List.of("read") : List.of("write"));
    }

    /**
     * @param json       fio's --output-format=json output
     * @param directions "read", "write" or both: the figures add them up
     * @return the figures; the percentile is the first direction's
     * @throws IOException if the file is not fio JSON of one job that did I/O
     */
    public static FioResult parse(Path json, List<String> directions) throws IOException {
        JsonNode root;
        try {
            // fio writes its warnings ("fio: ...") into the output file, before the JSON.
            String text = java.nio.file.Files.readString(json);
            int start = text.startsWith("{") ? 0 : text.indexOf("\n{") + 1;
            root = JSON.readTree(text.substring(start));
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
        double bw = 0;
        double iops = 0;
        long ios = 0;
        double max = 0;
        for (String d : directions) {
            JsonNode dir = job.path(d);
            long n = dir.path("total_ios").asLong(0);
            if (n <= 0) {
                throw new IOException(json + ": the fio job did no " + d + " I/O");
            }
            bw += dir.path("bw_bytes").asDouble();
            iops += dir.path("iops").asDouble();
            ios += n;
            max = Math.max(max, dir.path("clat_ns").path("max").asDouble(Double.NaN) / 1000.0);
        }
        double p99 = job.path(directions.get(0)).path("clat_ns").path("percentile").path("99.000000")
                .asDouble(Double.NaN) / 1000.0;
        return new FioResult(json.getFileName().toString(), bw, iops, ios, p99, max);
    }
}
