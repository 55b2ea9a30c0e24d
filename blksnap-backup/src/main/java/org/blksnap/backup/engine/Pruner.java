package org.blksnap.backup.engine;

import java.io.IOException;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.blksnap.backup.BackupException;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;

/**
 * Removes old backups, then the chunks no remaining backup refers to.
 * Manifests go first, so a crash in between only leaves unreferenced chunks,
 * which the next prune collects. Runs under the exclusive lock, so no backup
 * can be adding references meanwhile.
 */
public final class Pruner {
    private final Repository repo;

    /**
     * What prune did.
     *
     * @param removed       ids of the removed backups
     * @param kept          ids of the kept backups
     * @param chunksRemoved unreferenced chunks deleted
     * @param bytesFreed    bytes of the deleted chunk files
     */
    public record Result(List<String> removed, List<String> kept, long chunksRemoved, long bytesFreed) {
    }

    /** @param repo a repository open for writing */
    public Pruner(Repository repo) {
        this.repo = repo;
    }

    /**
     * Chooses the backups to keep: the newest {@code keepLast}, and the
     * newest backup of each of the {@code keepDaily} most recent days that
     * have one.
     *
     * @param all       every backup, oldest first
     * @param keepLast  how many of the newest to keep
     * @param keepDaily how many days to keep one backup of
     * @param zone      where days begin
     * @return the ids to keep
     */
    public static Set<String> keep(List<Manifest> all, int keepLast, int keepDaily, ZoneId zone) {
        Set<String> keep = new LinkedHashSet<>();
        for (int i = all.size() - 1; i >= 0 && all.size() - i <= keepLast; i--) {
            keep.add(all.get(i).id());
        }
        Set<LocalDate> days = new HashSet<>();
        for (int i = all.size() - 1; i >= 0; i--) {
            LocalDate day = all.get(i).startedAt().atZone(zone).toLocalDate();
            if (days.size() < keepDaily && days.add(day)) {
                keep.add(all.get(i).id());
            }
        }
        return keep;
    }

    /**
     * @param keepLast  how many of the newest backups to keep
     * @param keepDaily how many days to keep one backup of
     * @param dryRun    only say what would be removed
     * @return what was (or would be) removed
     * @throws IOException if the repository cannot be changed
     */
    public Result prune(int keepLast, int keepDaily, boolean dryRun) throws IOException {
        if (keepLast < 0 || keepDaily < 0 || keepLast + keepDaily == 0) {
            throw new IllegalArgumentException("prune must keep something: give --keep-last or --keep-daily "
                    + "of 1 or more");
        }
        List<Manifest> all;
        try {
            all = repo.manifests();
        } catch (BackupException e) {
            throw new BackupException(e.getMessage() + "; nothing was removed (fix or remove that manifest first)",
                    e);
        }
        Set<String> keep = keep(all, keepLast, keepDaily, ZoneId.systemDefault());
        List<String> removed = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        for (Manifest m : all) {
            (keep.contains(m.id()) ? kept : removed).add(m.id());
        }
        if (dryRun) {
            return new Result(removed, kept, 0, 0);
        }
        for (String id : removed) {
            repo.deleteManifest(id);
        }
        long[] gc = collectGarbage();
        return new Result(removed, kept, gc[0], gc[1]);
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
