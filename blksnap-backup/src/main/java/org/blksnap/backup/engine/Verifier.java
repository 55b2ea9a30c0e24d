package org.blksnap.backup.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.blksnap.backup.repo.ChunkCodec;
import org.blksnap.backup.repo.ChunkException;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;

/**
 * Checks that every chunk some backups refer to exists and is intact: by the
 * checksum of its compressed file, or with {@code readData} by decompressing
 * it and hashing the data against its id.
 */
public final class Verifier {
    private final Repository repo;
    private final int threads;
    private final ProgressListener progress;

    /**
     * What verify found.
     *
     * @param backups  backups checked
     * @param chunks   distinct chunks checked
     * @param problems one line per missing or damaged chunk, naming the chunk
     *                 and a backup and device that need it
     */
    public record Report(int backups, long chunks, List<String> problems) {
        /** Copies the list. */
        public Report {
            problems = List.copyOf(problems);
        }

        /** @return true if nothing is wrong */
        public boolean clean() {
            return problems.isEmpty();
        }
    }

    /**
     * @param repo     an open repository
     * @param threads  worker threads
     * @param progress told about chunks checked
     */
    public Verifier(Repository repo, int threads, ProgressListener progress) {
        this.repo = repo;
        this.threads = threads;
        this.progress = progress;
    }

    /**
     * @param repo an open repository
     * @return a verifier with one thread per core and no progress
     */
    public static Verifier of(Repository repo) {
        return new Verifier(repo, Pipeline.defaultThreads(), ProgressListener.NONE);
    }

    /**
     * @param backups  the backups to check
     * @param readData decompress and re-hash every chunk
     * @return the findings
     * @throws IOException if the repository cannot be read
     */
    public Report verify(List<Manifest> backups, boolean readData) throws IOException {
        Map<String, String> users = new LinkedHashMap<>();
        for (Manifest m : backups) {
            for (Manifest.DeviceImage d : m.devices()) {
                for (int i = 0; i < d.chunks().size(); i++) {
                    String id = d.chunks().get(i);
                    if (id != null) {
                        users.putIfAbsent(id, "backup " + m.id() + ", " + d.name() + " at byte "
                                + (long) i * m.chunkSize());
                    }
                }
            }
        }
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        String task = "verify";
        progress.start(task, users.size());
        try (Pipeline pipeline = new Pipeline(threads, readData ? repo.chunkSize() : 1)) {
            for (Map.Entry<String, String> e : users.entrySet()) {
                byte[] buf = pipeline.acquire();
                pipeline.submit(buf, () -> {
                    try {
                        byte[] file = repo.chunkFile(e.getKey());
                        if (readData) {
                            ChunkCodec.decode(e.getKey(), file, buf);
                        } else {
                            ChunkCodec.check(e.getKey(), file);
                        }
                    } catch (ChunkException x) {
                        problems.add(x.getMessage() + " (needed by " + e.getValue() + ")");
                    }
                    progress.advance(task, 1);
                });
            }
            pipeline.await();
            progress.finish(task, true);
        } catch (IOException | RuntimeException e) {
            progress.finish(task, false);
            throw e;
        }
        List<String> sorted = new ArrayList<>(problems);
        Collections.sort(sorted);
        return new Report(backups.size(), users.size(), sorted);
    }
}
