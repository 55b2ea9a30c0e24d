package org.blksnap.backup.engine;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.blksnap.backup.repo.ChunkException;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkIds;
import org.blksnap.backup.repo.ChunkIndex;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.PackRuns;
import org.blksnap.backup.repo.Repository;

/**
 * Checks that every chunk some backups refer to exists and is intact.
 * Without {@code readData}: every chunk is in the index and every pack
 * holding one exists and is long enough (no chunk data is read). With it:
 * every chunk is read in pack order, its bytes checked against their CRC32C,
 * decompressed, and the data hashed against its id.
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
     * @param problems one line per missing or damaged chunk or pack, naming it
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
     * @param readData read, decompress and re-hash every chunk
     * @return the findings
     * @throws IOException if the repository cannot be read
     */
    public Report verify(List<Manifest> backups, boolean readData) throws IOException {
        return verify(backups, readData ? 100 : 0);
    }

    /**
     * @param backups       the backups to check
     * @param readPercent   read, decompress and re-hash the chunks of this share (0..100) of the
     *                      packs, chosen at random: a different part each run
     * @return the findings
     * @throws IOException if the repository cannot be read
     */
    public Report verify(List<Manifest> backups, int readPercent) throws IOException {
        if (readPercent < 0 || readPercent > 100) {
            throw new IllegalArgumentException("the share of data to read must be 0..100%: " + readPercent);
        }
        boolean readData = readPercent > 0;
        Map<ChunkId, String> users = new LinkedHashMap<>();
        for (Manifest m : backups) {
            for (Manifest.DeviceImage d : m.devices()) {
                ChunkIds ids = d.chunks();
                for (int i = 0; i < ids.size(); i++) {
                    ChunkId id = ids.get(i);
                    if (id != null && !users.containsKey(id)) {
                        users.put(id, "backup " + m.id() + ", " + d.name() + " at byte " + (long) i * m.chunkSize());
                    }
                }
            }
        }
        ChunkIndex index = repo.index();
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        List<Map.Entry<ChunkId, ChunkIndex.Location>> present = new ArrayList<>();
        Map<String, Long> packEnds = new HashMap<>();
        for (Map.Entry<ChunkId, String> u : users.entrySet()) {
            ChunkIndex.Location loc = index.get(u.getKey());
            if (loc == null) {
                problems.add("chunk " + u.getKey() + " is missing from " + repo.location() + " (needed by "
                        + u.getValue() + ")");
            } else {
                present.add(Map.entry(u.getKey(), loc));
                packEnds.merge(loc.pack(), loc.offset() + loc.length(), Math::max);
            }
        }
        Map<String, String> badPacks = new HashMap<>();
        for (Map.Entry<String, Long> p : packEnds.entrySet()) {
            long size = repo.store().size(ChunkStore.Kind.PACK, p.getKey());
            if (size < 0) {
                badPacks.put(p.getKey(), "pack " + p.getKey() + " is missing");
            } else if (size < p.getValue()) {
                badPacks.put(p.getKey(), "pack " + p.getKey() + " is cut short (" + size + " bytes, chunks up to "
                        + p.getValue() + ")");
            }
        }
        for (Map.Entry<ChunkId, ChunkIndex.Location> e : present) {
            String bad = badPacks.get(e.getValue().pack());
            if (bad != null) {
                problems.add("chunk " + e.getKey() + ": " + bad + " (needed by " + users.get(e.getKey()) + ")");
            }
        }
        if (readData) {
            present.removeIf(e -> badPacks.containsKey(e.getValue().pack()));
            if (readPercent < 100) {
                List<String> packs = new ArrayList<>(packEnds.keySet());
                Collections.shuffle(packs);
                java.util.Set<String> chosen = new java.util.HashSet<>(packs.subList(0,
                        (int) Math.ceil(packs.size() * readPercent / 100.0)));
                present.removeIf(e -> !chosen.contains(e.getValue().pack()));
            }
            present.sort(Comparator.comparing((Map.Entry<ChunkId, ChunkIndex.Location> e) -> e.getValue().pack())
                    .thenComparingLong(e -> e.getValue().offset()));
            readAll(present, users, problems);
        }
        List<String> sorted = new ArrayList<>(problems);
        Collections.sort(sorted);
        return new Report(backups.size(), users.size(), sorted);
    }

    private void readAll(List<Map.Entry<ChunkId, ChunkIndex.Location>> chunks, Map<ChunkId, String> users,
            List<String> problems) throws IOException {
        String task = "verify";
        progress.start(task, chunks.size());
        // The chunks come in pack order: runs of them are read with one request each (RestoreEngine#write).
        int runBytes = RestoreEngine.runBytes(threads, repo.chunkSize());
        PackRuns runs = new PackRuns(runBytes, PackRuns.DEFAULT_MAX_GAP);
        Repository.RunSink sink = new Repository.RunSink() {
            @Override
            public void chunk(PackRuns.Wanted w, byte[] plain, int n) {
                if (!repo.chunkId(plain, n).equals(w.id())) {
                    damaged(w, new ChunkException(w.id(), "chunk " + w.id() + " is damaged: its data does not "
                            + "hash to its id"));
                    return;
                }
                progress.advance(task, 1);
            }

            @Override
            public void damaged(PackRuns.Wanted w, ChunkException x) {
                problems.add(x.getMessage() + " (needed by " + users.get(w.id()) + ")");
                progress.advance(task, 1);
            }
        };
        try (Pipeline pipeline = new Pipeline(threads, runBytes)) {
            for (int i = 0; i <= chunks.size(); i++) {
                PackRuns.Run run = i < chunks.size()
                        ? runs.add(new PackRuns.Wanted(i, chunks.get(i).getKey(), chunks.get(i).getValue()))
                        : runs.finish();
                if (run == null) {
                    continue;
                }
                byte[] buf = pipeline.acquire();
                pipeline.submit(buf, () -> repo.readRun(run, buf, RestoreEngine.plainBuffer(repo.chunkSize()),
                        sink));
            }
            pipeline.await();
            progress.finish(task, true);
        } catch (IOException | RuntimeException e) {
            progress.finish(task, false);
            throw e;
        }
    }
}
