package org.blksnap.backup.engine;

import java.io.IOException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.blksnap.backup.BackupException;
import org.blksnap.backup.repo.BackupSummary;
import org.blksnap.backup.repo.ChunkException;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkIds;
import org.blksnap.backup.repo.ChunkIndex;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.PackFormat;
import org.blksnap.backup.repo.PackRuns;
import org.blksnap.backup.repo.PackWriter;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.retention.RetentionPolicy;
import org.blksnap.backup.retention.Snapshot;

/**
 * Removes the backups a {@link RetentionPolicy} does not keep, then what no
 * remaining backup needs. Summaries and manifests go first; then the live
 * chunks of the partly unused packs to rewrite (past {@link MaxUnused}) are
 * copied into new durable packs, one consolidated index object naming only
 * the chunks still referenced, each at one place, is written durably, the
 * index objects it replaces are removed, and last the packs no index names.
 * A crash at any point only leaves unreferenced objects (or chunks at two
 * places), which the next run collects. Runs under the exclusive lock, so no
 * backup can be adding references meanwhile.
 */
public final class Pruner {
    private final Repository repo;

    /**
     * What prune did.
     *
     * @param verdicts every backup, oldest first, with why it is kept (none: removed)
     * @param garbage  what the collection after the removal did (all zero for a dry run)
     */
    public record Result(List<RetentionPolicy.Verdict> verdicts, Garbage garbage) {
        /** Copies. */
        public Result {
            verdicts = List.copyOf(verdicts);
        }

        /** @return chunks no index names any more */
        public long chunksRemoved() {
            return garbage.chunksRemoved();
        }

        /** @return bytes of packs deleted less those of the packs the repack wrote */
        public long bytesFreed() {
            return garbage.bytesFreed();
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
     * @param packsRemoved  pack files deleted because no chunk in them was needed any more
     * @param bytesFreed    bytes of the deleted pack files less those of the packs written by the repack
     * @param packsRepacked partly unused packs rewritten (their live chunks copied, then deleted)
     * @param chunksCopied  live chunks copied into new packs
     */
    public record Garbage(long chunksRemoved, long packsRemoved, long bytesFreed, long packsRepacked,
            long chunksCopied) {
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
        return prune(policy, groupBy, dryRun, MaxUnused.DEFAULT);
    }

    /**
     * @param policy    what to keep
     * @param groupBy   what the policy applies to separately
     * @param dryRun    only say what would be removed and why the rest is kept
     * @param maxUnused how much unused space the collection may leave in partly used packs
     * @return what was (or would be) removed
     * @throws IOException if the repository cannot be changed
     */
    public Result prune(RetentionPolicy policy, RetentionPolicy.GroupBy groupBy, boolean dryRun,
            MaxUnused maxUnused) throws IOException {
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
            Set<String> removing = new HashSet<>();
            for (RetentionPolicy.Verdict v : verdicts) {
                if (!v.keep()) {
                    removing.add(v.snapshot().id());
                }
            }
            return new Result(verdicts, plan(maxUnused, removing).estimate());
        }
        for (RetentionPolicy.Verdict v : verdicts) {
            if (!v.keep()) {
                repo.deleteBackup(v.snapshot().id());
            }
        }
        return new Result(verdicts, collectGarbage(maxUnused));
    }

    /**
     * Removes the given backups and collects what they alone needed.
     *
     * @param ids backup ids (each must exist)
     * @return what was collected
     * @throws IOException if the repository cannot be changed
     */
    public Garbage forget(List<String> ids) throws IOException {
        return forget(ids, MaxUnused.DEFAULT);
    }

    /**
     * Removes the given backups and collects what they alone needed.
     *
     * @param ids       backup ids (each must exist)
     * @param maxUnused how much unused space the collection may leave in partly used packs
     * @return what was collected
     * @throws IOException if the repository cannot be changed
     */
    public Garbage forget(List<String> ids, MaxUnused maxUnused) throws IOException {
        for (String id : ids) {
            repo.summary(id);
        }
        for (String id : ids) {
            repo.deleteBackup(id);
        }
        return collectGarbage(maxUnused);
    }

    /**
     * {@link #collectGarbage(MaxUnused)} with {@link MaxUnused#DEFAULT}.
     *
     * @return what was removed and rewritten
     * @throws IOException if the repository cannot be changed
     */
    public Garbage collectGarbage() throws IOException {
        return collectGarbage(MaxUnused.DEFAULT);
    }

    /** One pack as the index objects describe it, each chunk copy once. */
    private static final class PackUse {
        final String name;
        /** Every entry by offset (two index objects may both list it). */
        final Map<Long, PackFormat.Entry> entries = new HashMap<>();
        final List<PackFormat.Entry> live = new ArrayList<>();
        long liveBytes;
        long deadBytes;

        PackUse(String name) {
            this.name = name;
        }

        /** Unused per used byte: the packs where a copy wins the most space come first. */
        double waste() {
            return liveBytes == 0 ? Double.MAX_VALUE : (double) deadBytes / liveBytes;
        }
    }

    /**
     * Drops every chunk no backup refers to from the index, deletes the
     * packs that hold no referenced chunk, and rewrites (repacks) packs
     * that are partly unused until at most {@code maxUnused} of the pack
     * bytes are unused. Refuses to run if any manifest cannot be read: its
     * chunks would look unreferenced.
     *
     * <p>The order keeps every step a valid repository. The live chunks of
     * the packs to rewrite are copied into new packs (each chunk checked,
     * CRC32C, authentication, id, before it is copied; its frame is not
     * recompressed), and the new packs are made durable; until the new
     * index names them they are unreferenced packs, collected by the next
     * run. Then one consolidated index naming every live chunk at its one
     * place (an old pack that stays, or a new pack) is put durably: from
     * here each repacked chunk is at two places, both readable. Only then
     * are the old index objects removed and, last, the packs no index
     * names any more: the dead ones and the rewritten ones. A damaged chunk
     * in a pack to rewrite stops the collection before the index changes;
     * the new packs already written are removed and nothing else is.
     *
     * @param maxUnused how much unused space may stay
     * @return what was removed and rewritten
     * @throws BackupException if a manifest is damaged
     * @throws ChunkException if a chunk to copy is damaged (nothing was removed)
     * @throws IOException if the repository cannot be changed
     */
    public Garbage collectGarbage(MaxUnused maxUnused) throws IOException {
        Plan plan = plan(maxUnused, Set.of());
        if (plan.nothingToDo()) {
            return new Garbage(0, 0, 0, 0, 0);
        }
        Map<String, PackUse> packs = plan.packs();
        List<PackUse> rewrite = plan.rewrite();
        List<PackFormat.PackEntries> fresh = rewrite.isEmpty() ? List.of() : repack(rewrite);
        Set<String> rewritten = new HashSet<>();
        for (PackUse u : rewrite) {
            rewritten.add(u.name);
        }
        List<PackFormat.PackEntries> next = new ArrayList<>(fresh);
        for (PackUse u : packs.values()) {
            if (!u.live.isEmpty() && !rewritten.contains(u.name)) {
                next.add(new PackFormat.PackEntries(u.name, u.live));
            }
        }
        next.sort(Comparator.comparing(PackFormat.PackEntries::name));
        if (!next.isEmpty()) {
            repo.putIndex(next);
        }
        for (String name : plan.oldIndexes()) {
            repo.store().delete(ChunkStore.Kind.INDEX, name);
        }
        long bytes = 0;
        List<String> gone = new ArrayList<>(plan.deadPacks().keySet());
        gone.addAll(rewritten);
        for (String p : gone) {
            bytes += Math.max(0, repo.store().size(ChunkStore.Kind.PACK, p));
            repo.store().delete(ChunkStore.Kind.PACK, p);
        }
        long written = 0;
        long copied = 0;
        for (PackFormat.PackEntries p : fresh) {
            written += Math.max(0, repo.store().size(ChunkStore.Kind.PACK, p.name()));
            copied += p.entries().size();
        }
        repo.reloadIndex();
        return new Garbage(plan.dropped().size(), plan.deadPacks().size(), bytes - written, rewrite.size(),
                copied);
    }

    /**
     * What a collection would do.
     *
     * @param packs      every pack the index objects name, with its live chunks
     * @param oldIndexes the index objects read
     * @param dropped    chunks no backup refers to
     * @param deadPacks  packs without a live chunk, and their sizes
     * @param rewrite    partly unused packs to rewrite, the most wasteful first
     */
    private record Plan(Map<String, PackUse> packs, List<String> oldIndexes, Set<ChunkId> dropped,
            Map<String, Long> deadPacks, List<PackUse> rewrite) {
        boolean nothingToDo() {
            return dropped.isEmpty() && deadPacks.isEmpty() && rewrite.isEmpty() && oldIndexes.size() <= 1;
        }

        /** @return what carrying it out would do, the bytes freed estimated from the pack sizes */
        Garbage estimate() {
            long bytes = deadPacks.values().stream().mapToLong(Long::longValue).sum();
            long copied = 0;
            for (PackUse u : rewrite) {
                bytes += u.deadBytes;
                copied += u.live.size();
            }
            return new Garbage(dropped.size(), deadPacks.size(), bytes, rewrite.size(), copied);
        }
    }

    /**
     * @param maxUnused how much unused space may stay
     * @param removing  backups to count as gone already (a dry run's)
     * @return what a collection would do
     */
    private Plan plan(MaxUnused maxUnused, Set<String> removing) throws IOException {
        List<Manifest> remaining;
        try {
            remaining = repo.manifests();
        } catch (BackupException e) {
            throw new BackupException(e.getMessage() + "; nothing was collected (forget that backup or repair "
                    + "the repository first)", e);
        }
        Set<ChunkId> referenced = new HashSet<>();
        for (Manifest m : remaining) {
            if (removing.contains(m.id())) {
                continue;
            }
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
        List<String> oldIndexes = index.indexNames();
        // Every copy of every chunk, read from the index objects themselves: the index in memory keeps one
        // place per chunk, and a copy it does not keep (a repack stopped between its index and the removal of
        // the old ones left two) is unused space of its pack, not invisible space.
        Map<String, PackUse> packs = new HashMap<>();
        for (String name : oldIndexes) {
            for (PackFormat.PackEntries p : repo.readIndex(name)) {
                PackUse u = packs.computeIfAbsent(p.name(), PackUse::new);
                for (PackFormat.Entry e : p.entries()) {
                    u.entries.putIfAbsent(e.offset(), e);
                }
            }
        }
        Set<ChunkId> dropped = new HashSet<>();
        for (PackUse u : packs.values()) {
            for (PackFormat.Entry e : u.entries.values()) {
                ChunkIndex.Location at = index.get(e.id());
                boolean kept = referenced.contains(e.id()) && at != null && at.pack().equals(u.name)
                        && at.offset() == e.offset();
                if (kept) {
                    u.live.add(e);
                    u.liveBytes += e.length();
                } else if (!referenced.contains(e.id())) {
                    dropped.add(e.id());
                }
            }
            u.live.sort(Comparator.comparingLong(PackFormat.Entry::offset));
        }
        // A pack's unused bytes are what its size holds beyond its live chunks and what a pack of only those
        // would need anyway: an earlier collection dropped the dead chunks from the index, the pack kept them.
        Map<String, Long> sizes = repo.store().sizes(ChunkStore.Kind.PACK);
        boolean sealed = repo.config().encrypted();
        long used = 0;
        long unused = 0;
        Map<String, Long> deadPacks = new HashMap<>();
        for (Map.Entry<String, Long> p : sizes.entrySet()) {
            PackUse u = packs.get(p.getKey());
            if (u == null || u.live.isEmpty()) {
                deadPacks.put(p.getKey(), p.getValue());
                continue;
            }
            u.deadBytes = Math.max(0, p.getValue() - u.liveBytes - PackFormat.overhead(u.live.size(), sealed));
            used += u.liveBytes;
            unused += u.deadBytes;
        }
        List<PackUse> candidates = new ArrayList<>();
        for (PackUse u : packs.values()) {
            if (!u.live.isEmpty() && u.deadBytes > 0) {
                candidates.add(u);
            }
        }
        candidates.sort(Comparator.comparingDouble(PackUse::waste).reversed().thenComparing(u -> u.name));
        long allowed = maxUnused.allowed(used);
        List<PackUse> rewrite = new ArrayList<>();
        for (PackUse u : candidates) {
            if (unused <= allowed) {
                break;
            }
            rewrite.add(u);
            unused -= u.deadBytes;
        }
        return new Plan(packs, oldIndexes, dropped, deadPacks, rewrite);
    }

    /** Copies the live chunks of the packs into new, durable packs; on any failure removes what it wrote. */
    private List<PackFormat.PackEntries> repack(List<PackUse> rewrite) throws IOException {
        PackWriter writer = repo.newPackWriter();
        try {
            byte[] buf = new byte[PackRuns.DEFAULT_MAX_BYTES];
            byte[] plain = new byte[repo.chunkSize()];
            Repository.FrameSink sink = (w, frame, n) -> writer.add(w.id(), frame, n, w.loc().plainLength());
            for (PackUse u : rewrite) {
                PackRuns runs = new PackRuns(PackRuns.DEFAULT_MAX_BYTES, PackRuns.DEFAULT_MAX_GAP);
                List<PackRuns.Run> all = new ArrayList<>();
                for (PackFormat.Entry e : u.live) {
                    PackRuns.Run r = runs.add(new PackRuns.Wanted(all.size(), e.id(), new ChunkIndex.Location(
                            u.name, e.offset(), e.length(), e.plainLength(), e.crc())));
                    if (r != null) {
                        all.add(r);
                    }
                }
                PackRuns.Run last = runs.finish();
                if (last != null) {
                    all.add(last);
                }
                for (PackRuns.Run r : all) {
                    if (r.length() > buf.length) {
                        buf = new byte[r.length()];
                    }
                    repo.copyRun(r, buf, plain, sink);
                }
            }
            return repo.finishPacks(writer);
        } catch (IOException | RuntimeException e) {
            abandon(writer, e);
            if (e instanceof ChunkException) {
                throw new ChunkException(((ChunkException) e).chunkId(), e.getMessage() + "; nothing was "
                        + "repacked or removed (the backups that need it: 'blksnap backup check --read-data'; "
                        + "'--max-unused unlimited' collects without rewriting packs)");
            }
            throw e;
        }
    }

    private void abandon(PackWriter writer, Exception primary) {
        try {
            writer.close();
            for (String p : writer.published()) {
                repo.store().delete(ChunkStore.Kind.PACK, p);
            }
        } catch (IOException | RuntimeException e) {
            primary.addSuppressed(e);
        }
    }
}
