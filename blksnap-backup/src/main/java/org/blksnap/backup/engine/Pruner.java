package org.blksnap.backup.engine;

import java.io.IOException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.blksnap.backup.BackupException;
import org.blksnap.backup.repo.BackupSummary;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkIds;
import org.blksnap.backup.repo.ChunkIndex;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.PackFormat;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.retention.RetentionPolicy;
import org.blksnap.backup.retention.Snapshot;

/**
 * Removes the backups a {@link RetentionPolicy} does not keep, then what no
 * remaining backup needs. Summaries and manifests go first; then one
 * consolidated index object naming only the chunks still referenced is
 * written durably, the index objects it replaces are removed, and last the
 * packs no index names. A crash at any point only leaves unreferenced
 * objects, which the next run collects. Runs under the exclusive lock, so no
 * backup can be adding references meanwhile.
 */
public final class Pruner {
    private final Repository repo;

    /**
     * What prune did.
     *
     * @param verdicts      every backup, oldest first, with why it is kept (none: removed)
     * @param chunksRemoved chunks no index names any more
     * @param bytesFreed    bytes of the deleted pack files
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

    /**
     * What garbage collection did.
     *
     * @param chunksRemoved chunks dropped from the index
     * @param packsRemoved  pack files deleted
     * @param bytesFreed    bytes of the deleted pack files
     */
    public record Garbage(long chunksRemoved, long packsRemoved, long bytesFreed) {
    }

    /** @param repo a repository open exclusively */
    public Pruner(Repository repo) {
        this.repo = repo;
    }

    /**
     * What retention knows of a backup: its devices by identity (the
     * recorded name for backups that have none), its tag.
     *
     * @param s a backup's summary
     * @return its retention record
     */
    public static Snapshot snapshotOf(BackupSummary s) {
        return Snapshot.of(s.id(), s.startedAt(), s.devices().stream().map(BackupSummary.DeviceSummary::key).toList(),
                s.tag() == null ? List.of() : List.of(s.tag()));
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
    public static Set<String> keep(List<BackupSummary> all, int keepLast, int keepDaily, ZoneId zone) {
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
        Repository.Listing listing = repo.summaries();
        if (!listing.warnings().isEmpty()) {
            throw new BackupException(listing.warnings().getFirst() + "; nothing was removed (forget that backup "
                    + "or repair the repository first)");
        }
        List<BackupSummary> all = listing.backups();
        List<RetentionPolicy.Verdict> verdicts = policy.apply(all.stream().map(Pruner::snapshotOf).toList(),
                groupBy, ZoneId.systemDefault());
        if (dryRun) {
            return new Result(verdicts, 0, 0);
        }
        for (RetentionPolicy.Verdict v : verdicts) {
            if (!v.keep()) {
                repo.deleteBackup(v.snapshot().id());
            }
        }
        Garbage g = collectGarbage();
        return new Result(verdicts, g.chunksRemoved(), g.bytesFreed());
    }

    /**
     * Removes the given backups and collects what they alone needed.
     *
     * @param ids backup ids (each must exist)
     * @return what was collected
     * @throws IOException if the repository cannot be changed
     */
    public Garbage forget(List<String> ids) throws IOException {
        for (String id : ids) {
            repo.summary(id);
        }
        for (String id : ids) {
            repo.deleteBackup(id);
        }
        return collectGarbage();
    }

    /**
     * Drops every chunk no backup refers to from the index and deletes the
     * packs that hold no referenced chunk. Refuses to run if any manifest
     * cannot be read: its chunks would look unreferenced.
     *
     * @return what was removed
     * @throws BackupException if a manifest is damaged
     * @throws IOException if the repository cannot be changed
     */
    public Garbage collectGarbage() throws IOException {
        List<Manifest> remaining;
        try {
            remaining = repo.manifests();
        } catch (BackupException e) {
            throw new BackupException(e.getMessage() + "; nothing was collected (forget that backup or repair "
                    + "the repository first)", e);
        }
        Set<ChunkId> referenced = new HashSet<>();
        for (Manifest m : remaining) {
            for (Manifest.DeviceImage d : m.devices()) {
                ChunkIds ids = d.chunks();
                for (int i = 0; i < ids.size(); i++) {
                    ChunkId c = ids.get(i);
                    if (c != null) {
                        referenced.add(c);
                    }
                }
            }
        }
        ChunkIndex index = repo.index();
        Map<ChunkId, ChunkIndex.Location> all = index.entries();
        Map<String, List<PackFormat.Entry>> live = new HashMap<>();
        long dropped = 0;
        for (Map.Entry<ChunkId, ChunkIndex.Location> e : all.entrySet()) {
            ChunkIndex.Location l = e.getValue();
            if (referenced.contains(e.getKey())) {
                live.computeIfAbsent(l.pack(), k -> new ArrayList<>()).add(new PackFormat.Entry(e.getKey(),
                        l.offset(), l.length(), l.plainLength(), l.crc()));
            } else {
                dropped++;
            }
        }
        List<String> stored = repo.store().list(ChunkStore.Kind.PACK);
        List<String> deadPacks = new ArrayList<>();
        for (String p : stored) {
            if (!live.containsKey(p)) {
                deadPacks.add(p);
            }
        }
        List<String> oldIndexes = index.indexNames();
        if (dropped == 0 && deadPacks.isEmpty() && oldIndexes.size() <= 1) {
            return new Garbage(0, 0, 0);
        }
        List<PackFormat.PackEntries> packs = new ArrayList<>();
        for (Map.Entry<String, List<PackFormat.Entry>> p : live.entrySet()) {
            List<PackFormat.Entry> es = new ArrayList<>(p.getValue());
            es.sort(java.util.Comparator.comparingLong(PackFormat.Entry::offset));
            packs.add(new PackFormat.PackEntries(p.getKey(), es));
        }
        if (!packs.isEmpty()) {
            repo.putIndex(packs);
        }
        for (String name : oldIndexes) {
            repo.store().delete(ChunkStore.Kind.INDEX, name);
        }
        long bytes = 0;
        for (String p : deadPacks) {
            bytes += Math.max(0, repo.store().size(ChunkStore.Kind.PACK, p));
            repo.store().delete(ChunkStore.Kind.PACK, p);
        }
        repo.reloadIndex();
        return new Garbage(dropped, deadPacks.size(), bytes);
    }
}
