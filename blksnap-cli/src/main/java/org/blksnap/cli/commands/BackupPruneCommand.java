package org.blksnap.cli.commands;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.blksnap.api.Sizes;
import org.blksnap.backup.engine.Pruner;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.retention.RetentionPolicy;
import org.blksnap.backup.retention.Within;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;

import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code blksnap backup prune}. */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = {"Remove old backups, then the chunks no remaining backup needs (from the index) and the pack "
                + "files that hold none of them, then rewrite the pack files that are partly unused until at most "
                + "--max-unused of the pack bytes are unused (restic's prune does the same).",
            "",
            "The --keep-* rules apply to each device on its own (its backups newest first), so that one device's "
                    + "backups never push out another's: --keep-last keeps the N newest; --keep-hourly, "
                    + "--keep-daily, --keep-weekly (ISO weeks, from Monday), --keep-monthly and --keep-yearly "
                    + "each keep the newest backup of each of the N most recent hours, days, ... that have one; "
                    + "--keep-within keeps every backup younger than the span, counted back from the device's "
                    + "newest backup. N may be 'unlimited'. Periods are those of the local time zone. A backup "
                    + "kept by any rule for any of its devices stays. These are the rules of restic's forget.",
            "",
            "Incrementals need no parent: every backup names all its chunks, so any backup may go. Needs the "
                    + "repository alone (no create, list or restore meanwhile: see --lock-wait); refuses to "
                    + "remove anything if a backup's summary or manifest is damaged. --dry-run prints every "
                    + "backup with the rules that keep it.",
            "",
            "Repacking copies the needed chunks of the packs with the largest unused share into new packs, each "
                    + "chunk checked (CRC32C, then decompressed and its SHA-256 compared with its id; "
                    + "authenticated when encrypted) and not recompressed; then one new index is written durably, "
                    + "and only then are the old index and packs deleted, so a prune stopped at any point leaves "
                    + "every backup restorable. A damaged chunk stops it with nothing removed. The repository "
                    + "needs room for the needed chunks of the packs being rewritten; a remote one downloads and "
                    + "uploads them once. --dry-run also says what the repack would rewrite."},
        footer = {"", "Examples:", "  blksnap backup prune --repo /backup/vdb --keep-last 7",
            "  blksnap backup prune -r /backup/host --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --dry-run",
            "  blksnap backup prune -r /backup/host --keep-within 2w --keep-monthly unlimited --group-by device-tags",
            "  blksnap backup prune -r /backup/vdb --keep-last unlimited --max-unused 0%%   # only give space back"})
public final class BackupPruneCommand extends BaseCommand {
    @Mixin
    RepoOption repo;

    @Option(names = "--keep-last", paramLabel = "N", converter = Count.class,
            description = "Keep the N newest backups of each device.")
    int keepLast;

    @Option(names = "--keep-hourly", paramLabel = "N", converter = Count.class,
            description = "Keep the newest backup of each of the N most recent hours with backups.")
    int keepHourly;

    @Option(names = "--keep-daily", paramLabel = "N", converter = Count.class,
            description = "Keep the newest backup of each of the N most recent days with backups.")
    int keepDaily;

    @Option(names = "--keep-weekly", paramLabel = "N", converter = Count.class,
            description = "Keep the newest backup of each of the N most recent weeks with backups.")
    int keepWeekly;

    @Option(names = "--keep-monthly", paramLabel = "N", converter = Count.class,
            description = "Keep the newest backup of each of the N most recent months with backups.")
    int keepMonthly;

    @Option(names = "--keep-yearly", paramLabel = "N", converter = Count.class,
            description = "Keep the newest backup of each of the N most recent years with backups.")
    int keepYearly;

    @Option(names = "--keep-within", paramLabel = "SPAN", converter = Span.class,
            description = "Keep every backup within SPAN of the newest one, e.g. 36h, 14d, 2w, 1y6m.")
    Within keepWithin;

    @Option(names = "--group-by", paramLabel = "WHAT", defaultValue = "device", converter = Grouping.class,
            description = "What the rules apply to separately: device (default), device-tags (each device and "
                    + "tag apart), or none (the whole repository as one series).")
    RetentionPolicy.GroupBy groupBy;

    @Option(names = "--dry-run", description = "Only print what would be kept, and why, and what removed.")
    boolean dryRun;

    @Mixin
    MaxUnusedOption maxUnused;

    @Mixin
    JsonOption json;

    @Mixin
    QuietOption quiet;

    @Override
    public Integer call() throws Exception {
        RetentionPolicy policy = new RetentionPolicy(keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly,
                keepYearly, keepWithin);
        if (policy.keepsNothing()) {
            throw new IllegalArgumentException("give at least one --keep-* rule (e.g. --keep-last 7): prune does "
                    + "not remove every backup");
        }
        Pruner.Result r;
        try (Repository repository = Repository.open(repo.store(), ChunkStore.LockMode.EXCLUSIVE, repo.lockWait,
                repo.secrets())) {
            r = new Pruner(repository).prune(policy, groupBy, dryRun, maxUnused.maxUnused);
        }
        if (json.json) {
            Map<String, Object> o = Output.record();
            o.put("dry_run", dryRun);
            o.put("removed", r.removed());
            o.put("kept", r.kept());
            List<Map<String, Object>> backups = new ArrayList<>();
            for (RetentionPolicy.Verdict v : r.verdicts()) {
                Map<String, Object> b = Output.record();
                b.put("id", v.snapshot().id());
                b.put("keep", v.keep());
                b.put("reasons", v.reasons().stream().map(x -> {
                    Map<String, Object> reason = Output.record();
                    reason.put("rule", x.reason());
                    reason.put("group", x.group().toString());
                    return reason;
                }).toList());
                backups.add(b);
            }
            o.put("backups", backups);
            o.put("chunks_removed", r.chunksRemoved());
            o.put("packs_removed", r.garbage().packsRemoved());
            o.put("packs_repacked", r.garbage().packsRepacked());
            o.put("chunks_copied", r.garbage().chunksCopied());
            o.put("bytes_freed", r.bytesFreed());
            new Output(out(), true).print(o);
            return 0;
        }
        if (quiet.quiet) {
            return 0;
        }
        for (RetentionPolicy.Verdict v : r.verdicts()) {
            if (v.keep()) {
                if (dryRun) {
                    out().println("would keep " + v.snapshot().id() + ": " + String.join(", ",
                            v.reasons().stream().map(RetentionPolicy.Reason::toString).toList()));
                }
            } else {
                out().println((dryRun ? "would remove " : "removed ") + v.snapshot().id());
            }
        }
        out().printf("%s %d backups, kept %d; %d unreferenced chunks removed%s (%s freed)%n",
                dryRun ? "would remove" : "removed", r.removed().size(), r.kept().size(), r.chunksRemoved(),
                repacked(r.garbage()), Sizes.format(r.bytesFreed()));
        out().flush();
        return 0;
    }

    /** @return what the repack did, for the report line ("" when it rewrote nothing) */
    static String repacked(Pruner.Garbage g) {
        return g.packsRepacked() == 0 ? "" : String.format(", %d partly unused packs rewritten (%d chunks copied)",
                g.packsRepacked(), g.chunksCopied());
    }

    /** A keep count: a number, or 'unlimited'. */
    static final class Count implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            if ("unlimited".equals(value)) {
                return RetentionPolicy.UNLIMITED;
            }
            try {
                int n = Integer.parseInt(value);
                if (n >= 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // Said below.
            }
            throw new IllegalArgumentException("invalid count '" + value + "': expected 0 or more, or unlimited");
        }
    }

    /** A --keep-within span. */
    static final class Span implements ITypeConverter<Within> {
        @Override
        public Within convert(String value) {
            return Within.parse(value);
        }
    }

    /** The --group-by words. */
    static final class Grouping implements ITypeConverter<RetentionPolicy.GroupBy> {
        @Override
        public RetentionPolicy.GroupBy convert(String value) {
            return switch (value) {
                case "device" -> RetentionPolicy.GroupBy.DEVICE;
                case "device-tags" -> RetentionPolicy.GroupBy.DEVICE_AND_TAGS;
                case "none" -> RetentionPolicy.GroupBy.NONE;
                default -> throw new IllegalArgumentException("invalid grouping '" + value + "': expected device, "
                        + "device-tags or none");
            };
        }
    }
}
