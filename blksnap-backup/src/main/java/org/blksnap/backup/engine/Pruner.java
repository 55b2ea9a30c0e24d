package org.blksnap.backup.engine;

import java.io.IOException;
import java.time.ZoneId;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.blksnap.backup.BackupException;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.retention.RetentionPolicy;
import org.blksnap.backup.retention.Snapshot;

/**
 * Removes the backups a {@link RetentionPolicy} does not keep, then the
 * chunks no remaining backup refers to.
 * Manifests go first, so a crash in between only leaves unreferenced chunks,
 * which the next prune collects. Runs under the exclusive lock, so no backup
 * can be adding references meanwhile.
 */
public final class Pruner {
    private final Repository repo;

    /**
     * What prune did.
     *
     * @param verdicts      every backup, oldest first, with why it is kept (none: removed)
     * @param chunksRemoved unreferenced chunks deleted
     * @param bytesFreed    bytes of the deleted chunk files
     */
    public record Result(List<RetentionPolicy.Verdict> verdicts, long chunksRemoved, long bytesFreed) {
        /** Copies. */
        public Result {
            verdicts = List.copyOf(verdicts);
        }

        /** @return ids of the removed backups, oldest first */
        public List<String> removed() {
            return verdicts.stream().filter(v -> !v.keep()).map(v -> v.snapshot().id()).toList();
        }

        /** @return ids of the kept backups, oldest first */
        public List<String> kept() {
            return verdicts.stream().filter(RetentionPolicy.Verdict::keep).map(v -> v.snapshot().id()).toList();
        }
    }

    /** @param repo a repository open for writing */
    public Pruner(Repository repo) {
        this.repo = repo;
    }

    /**
     * What retention knows of a backup: its devices by identity (the
     * recorded name for backups that have none), its tag.
     *
     * @param m a backup
     * @return its retention record
     */
    public static Snapshot snapshotOf(Manifest m) {
        return Snapshot.of(m.id(), m.startedAt(), m.devices().stream().map(Manifest.DeviceImage::name).toList(),
                m.tag() == null ? List.of() : List.of(m.tag()));
    }

    /**
     * Chooses the backups to keep with keep-last and keep-daily, per device.
     *
     * @param all       every backup
     * @param keepLast  how many of the newest to keep
     * @param keepDaily how many days to keep one backup of
     * @param zone      where days begin
     * @return the ids to keep
     */
    public static Set<String> keep(List<Manifest> all, int keepLast, int keepDaily, ZoneId zone) {
        RetentionPolicy p = new RetentionPolicy(keepLast, 0, keepDaily, 0, 0, 0, null);
        Set<String> keep = new LinkedHashSet<>();
        for (RetentionPolicy.Verdict v : p.apply(all.stream().map(Pruner::snapshotOf).toList(),
                RetentionPolicy.GroupBy.DEVICE, zone)) {
            if (v.keep()) {
                keep.add(v.snapshot().id());
            }
        }
        return keep;
    }

    /**
     * {@link #prune(RetentionPolicy, RetentionPolicy.GroupBy, boolean)} with
     * keep-last and keep-daily only, per device.
     *
     * @param keepLast  how many of the newest backups to keep
     * @param keepDaily how many days to keep one backup of
     * @param dryRun    only say what would be removed
     * @return what was (or would be) removed
     * @throws IOException if the repository cannot be changed
     */
    public Result prune(int keepLast, int keepDaily, boolean dryRun) throws IOException {
        return prune(new RetentionPolicy(keepLast, 0, keepDaily, 0, 0, 0, null), RetentionPolicy.GroupBy.DEVICE,
                dryRun);
    }

    /**
     * @param policy  what to keep
     * @param groupBy what the policy applies to separately
     * @param dryRun  only say what would be removed and why the rest is kept
     * @return what was (or would be) removed
     * @throws IOException if the repository cannot be changed
     */
    public Result prune(RetentionPolicy policy, RetentionPolicy.GroupBy groupBy, boolean dryRun)
            throws IOException {
        if (policy.keepsNothing()) {
            throw new IllegalArgumentException("prune must keep something: give at least one --keep-* option");
        }
        List<Manifest> all;
        try {
            all = repo.manifests();
        } catch (BackupException e) {
            throw new BackupException(e.getMessage() + "; nothing was removed (fix or remove that manifest first)",
                    e);
        }
        List<RetentionPolicy.Verdict> verdicts = policy.apply(all.stream().map(Pruner::snapshotOf).toList(),
                groupBy, ZoneId.systemDefault());
        if (dryRun) {
            return new Result(verdicts, 0, 0);
        }
        for (RetentionPolicy.Verdict v : verdicts) {
            if (!v.keep()) {
                repo.deleteManifest(v.snapshot().id());
            }
        }
        long[] gc = collectGarbage();
        return new Result(verdicts, gc[0], gc[1]);
    }

    /**
     * Deletes every chunk no backup refers to. Refuses to run if any
     * manifest cannot be read: its chunks would look unreferenced.
     *
     * @return chunks removed and bytes freed
     * @throws BackupException if a manifest is damaged
     * @throws IOException if the repository cannot be changed
     */
    public long[] collectGarbage() throws IOException {
        Set<String> referenced = new HashSet<>();
        List<Manifest> remaining;
        try {
            remaining = repo.manifests();
        } catch (BackupException e) {
            throw new BackupException(e.getMessage() + "; no chunk was removed (fix or remove that manifest first)",
                    e);
        }
        for (Manifest m : remaining) {
            for (Manifest.DeviceImage d : m.devices()) {
                for (String c : d.chunks()) {
                    if (c != null) {
                        referenced.add(c);
                    }
                }
            }
        }
        long chunks = 0;
        long bytes = 0;
        for (String id : repo.chunkIds()) {
            if (!referenced.contains(id)) {
                bytes += Math.max(0, repo.store().size(ChunkStore.Kind.CHUNK, id));
                repo.deleteChunk(id);
                chunks++;
            }
        }
        repo.store().flush();
        return new long[] {chunks, bytes};
    }
}
