package org.blksnap.backup.engine;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.blksnap.backup.BackupException;
import org.blksnap.backup.repo.BackupSummary;
import org.blksnap.backup.repo.ChunkIndex;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.PackFormat;
import org.blksnap.backup.repo.PackWriter;
import org.blksnap.backup.repo.Repository;

/**
 * Checks a repository's structure, then the chunks its backups need
 * ({@link Verifier}): every summary and manifest reads, every index object
 * reads, every pack is complete and its own list of chunks is in an index.
 * With repair (exclusive lock): a damaged index object is replaced by one
 * rebuilt from the packs' own lists, chunks of intact packs no index names
 * are indexed again, and damaged packs no index needs are removed. Chunk
 * data cannot be repaired: what stays lost is named, and the backups that
 * need it can be forgotten.
 */
public final class Checker {
    private final Repository repo;
    private final Verifier verifier;

    /**
     * What check found and did.
     *
     * @param problems one line per problem left
     * @param repaired one line per repair made
     * @param chunks   report of the chunk check
     */
    public record Report(List<String> problems, List<String> repaired, Verifier.Report chunks) {
        /** Copies the lists. */
        public Report {
            problems = List.copyOf(problems);
            repaired = List.copyOf(repaired);
        }

        /** @return true if nothing is wrong any more */
        public boolean clean() {
            return problems.isEmpty() && chunks.clean();
        }
    }

    /**
     * @param repo     an open repository (exclusive to repair)
     * @param verifier the chunk check to run after the structure's
     */
    public Checker(Repository repo, Verifier verifier) {
        this.repo = repo;
        this.verifier = verifier;
    }

    /**
     * @param readPercent share of the packs whose chunk data is read (0..100)
     * @param repair      repair what can be
     * @return the findings
     * @throws IOException if the repository cannot be read
     */
    public Report check(int readPercent, boolean repair) throws IOException {
        List<String> problems = new ArrayList<>();
        List<String> repaired = new ArrayList<>();
        ChunkStore store = repo.store();
        Repository.Listing listing = repo.summaries();
        problems.addAll(listing.warnings());
        List<Manifest> manifests = new ArrayList<>();
        for (BackupSummary s : listing.backups()) {
            try {
                manifests.add(repo.manifest(s.id()));
            } catch (BackupException e) {
                problems.add(e.getMessage() + " ('blksnap backup forget " + s.id() + "' removes it)");
            }
        }
        boolean indexDamaged = false;
        Set<String> indexed = new HashSet<>();
        for (String name : store.list(ChunkStore.Kind.INDEX)) {
            try {
                for (PackFormat.PackEntries p : repo.readIndex(name)) {
                    indexed.add(p.name());
                }
            } catch (NoSuchFileException e) {
                // Replaced meanwhile.
            } catch (BackupException e) {
                indexDamaged = true;
                if (repair) {
                    store.delete(ChunkStore.Kind.INDEX, name);
                    repaired.add("removed the damaged index " + name + "; its packs are indexed again below");
                } else {
                    problems.add(e.getMessage());
                }
            }
        }
        if (indexDamaged && repair) {
            repo.reloadIndex();
        }
        ChunkIndex index = repo.index();
        List<PackFormat.PackEntries> reindex = new ArrayList<>();
        Set<String> stored = new HashSet<>(store.list(ChunkStore.Kind.PACK));
        for (String pack : stored) {
            List<PackFormat.Entry> entries;
            try {
                entries = repo.packEntries(pack);
            } catch (BackupException e) {
                boolean needed = index.packs().contains(pack);
                if (needed) {
                    problems.add(e.getMessage());
                } else if (repair) {
                    store.delete(ChunkStore.Kind.PACK, pack);
                    repaired.add("removed " + e.getMessage() + " (no index needs it)");
                } else {
                    problems.add(e.getMessage() + " (no index needs it: an interrupted backup's; --repair "
                            + "removes it)");
                }
                continue;
            }
            List<PackFormat.Entry> missing = entries.stream().filter(e -> !index.contains(e.id())).toList();
            if (!missing.isEmpty()) {
                if (repair) {
                    reindex.add(new PackFormat.PackEntries(pack, missing));
                } else if (indexDamaged || !indexed.contains(pack)) {
                    problems.add("pack " + pack + " holds " + missing.size() + " chunks no index names (--repair "
                            + "indexes them again)");
                }
            }
        }
        for (String pack : index.packs()) {
            if (!stored.contains(pack)) {
                problems.add("pack " + pack + " is missing: the chunks the index places in it are lost");
            }
        }
        if (!reindex.isEmpty()) {
            repo.putIndex(reindex);
            repo.reloadIndex();
            long n = reindex.stream().mapToLong(p -> p.entries().size()).sum();
            repaired.add("indexed again " + n + " chunks of " + reindex.size() + " packs from the packs' own lists");
        }
        Verifier.Report chunks = verifier.verify(manifests, readPercent);
        return new Report(problems, repaired, chunks);
    }
}
