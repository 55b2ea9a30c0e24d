package org.blksnap.cli.commands;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.NotBlockDeviceException;
import org.blksnap.api.Sizes;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.SnapshotOwners;
import org.blksnap.backup.BackupException;
import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.BlkSnapSource;
import org.blksnap.backup.engine.DeviceResult;
import org.blksnap.backup.engine.Targets;
import org.blksnap.backup.hooks.HookException;
import org.blksnap.backup.hooks.HookRunner;
import org.blksnap.backup.hooks.SnapshotHooks;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.Secret;
import org.blksnap.cli.Converters;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code blksnap backup create}. */
@Command(name = "create", mixinStandardHelpOptions = true,
        description = {"Back up live devices: one snapshot of all of them at one point in time, each image "
                + "stored in the repository, the snapshot destroyed afterwards - always, also on failure, Ctrl-C "
                + "and SIGTERM.",
            "",
            "Incremental when the device's change tracker still is in the generation the previous backup of that "
                    + "device recorded: only the blocks changed since are read, the rest comes from that backup. Otherwise (first backup, "
                    + "tracker re-attached, device resized, --full) the whole device is read; chunks already in "
                    + "the repository are not stored again either way. A device that is not tracked yet gets its "
                    + "filter attached, so the next backup can be incremental.",
            "",
            "If the difference storage fills up while the images are read, the snapshot breaks and the backup "
                    + "fails without becoming visible: give a larger --limit."},
        footer = {"", "Examples:",
            "  blksnap backup create --device /dev/vdb --repo /backup/vdb",
            "  blksnap backup create -d /dev/vdb -d /dev/vdc -r /backup/host --storage /var/tmp --limit 8G \\",
            "      --tag nightly --json"})
public final class BackupCreateCommand extends BaseCommand {
    private static final long MIN_DEFAULT_LIMIT = 256L << 20;

    @Option(names = {"-d", "--device"}, required = true, paramLabel = "DEVICE",
            description = "Block device to back up; repeatable. All are snapshotted at one point in time.")
    List<Path> devices = new ArrayList<>();

    @Mixin
    RepoOption repo;

    @Option(names = {"-s", "--storage"}, paramLabel = "DIR|FILE|DEVICE",
            description = "Difference storage of the snapshot: a directory, a file or a block device that no "
                    + "--device lives on (default: a file of --limit bytes preallocated on the mounted ext4 or xfs "
                    + "with the most free space, a --device's own included, removed afterwards; /var/tmp if "
                    + "there is none).")
    Path storage;

    @Option(names = {"-l", "--limit"}, paramLabel = "SIZE", converter = Converters.Size.class,
            description = "Most space the difference storage may use (default: 10%% of the devices' size, at "
                    + "least 256M).")
    Long limit;

    @Option(names = "--tag", paramLabel = "NAME", description = "A label for the backup, shown by list.")
    String tag;

    @Option(names = "--full", description = "Read every device completely, whatever change tracking says.")
    boolean full;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads that hash, compress and store chunks (default: one per core).")
    Integer threads;

    @Option(names = "--chunk-size", paramLabel = "SIZE", converter = Converters.Size.class,
            description = "Chunk size of a new repository, a power of two from 64K to 16M (default: 256K, four "
                    + "default CBT blocks: an incremental reads every chunk a changed block touches).")
    Long chunkSize;

    @Option(names = "--encryption", paramLabel = "aes-256-gcm|none", defaultValue = "aes-256-gcm",
            description = "Encryption of a new repository (default: aes-256-gcm, every object encrypted and "
                    + "authenticated, chunk ids keyed; the password is asked for, see --password-command). "
                    + "'none' stores everything readable. An existing repository keeps its own.")
    String encryption;

    @Option(names = "--kdf-memory", paramLabel = "SIZE", converter = Converters.Size.class,
            description = "Argon2id memory for the password of a new repository (default: 64M).")
    Long kdfMemory;

    @Option(names = "--kdf-iterations", paramLabel = "N",
            description = "Argon2id passes for the password of a new repository (default: 3).")
    Integer kdfIterations;

    @Mixin
    HooksOption hooksOption;

    /** Set by 'backup run': the job's name, for the hooks' environment. */
    @Option(names = "--job", hidden = true, paramLabel = "NAME")
    String job;

    @Mixin
    JsonOption json;

    @Mixin
    QuietOption quiet;

    @Override
    public Integer call() throws Exception {
        // Before the repository is made: a typo must not leave an empty one behind.
        for (Path d : devices) {
            if (!Targets.isBlockDevice(d)) {
                throw new NotBlockDeviceException(d + (Files.exists(d) ? " is not a block device"
                        : ": no such device"), 0);
            }
        }
        long limitBytes = limit != null ? limit : defaultLimit(devices);
        BackupEngine.Options options = BackupEngine.Options.defaults().withFull(full).withTag(tag)
                .withToolVersion(toolVersion());
        if (threads != null) {
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be at least 1");
            }
            options = options.withThreads(threads);
        }
        BackupEngine.Options opts = options;
        SnapshotHooks hooks = hooks();
        int cs = chunkSize == null ? Repository.DEFAULT_CHUNK_SIZE : checkedChunkSize(chunkSize);
        boolean encrypted = switch (encryption) {
            case "aes-256-gcm" -> true;
            case "none" -> false;
            default -> throw new IllegalArgumentException("--encryption must be aes-256-gcm or none: " + encryption);
        };
        Repository.NewRepository created = new Repository.NewRepository(cs, Repository.DEFAULT_PACK_SIZE, encrypted,
                KeyCommand.cost(kdfMemory, kdfIterations));
        // An existing repository is opened now, so that a wrong, busy or
        // locked-with-another-password one fails before a snapshot is taken;
        // a new one is made only once the snapshot exists, so that a failed
        // take leaves nothing behind. Its password is asked for now all the
        // same: no one should be typing while a snapshot fills its storage.
        Repository existing = null;
        Secret.Source newSecret = Secret.Source.NONE;
        if (isNew()) {
            Secret s = encrypted ? repo.newSecrets().get() : null;
            newSecret = () -> s;
        } else {
            existing = Repository.openForBackup(repo.store(), created, repo.lockWait, repo.secrets());
        }
        Repository opened = existing;
        Secret.Source fresh = newSecret;
        PreallocatedStorage.Choice chosen = null;
        try {
            // First: a snapshot left by a killed blksnap pins the storage file that the choice below removes.
            destroyAbandonedSnapshots();
            chosen = PreallocatedStorage.choose(storage, limitBytes, line -> {
                if (!quiet.quiet) {
                    note(line);
                }
            });
            DiffStorage diff = chosen.storage();
            AtomicReference<BackupEngine> engine = new AtomicReference<>();
            BackupResult result = new SignalSafe<BackupResult>() {
                @Override
                BlkSnapSource open() throws IOException {
                    return BlkSnapSource.take(devices, diff, limitBytes, hooks);
                }

                @Override
                BackupResult use(BlkSnapSource source) throws IOException {
                    Repository r = opened != null ? opened
                            : Repository.openForBackup(repo.store(), created, repo.lockWait, fresh);
                    try {
                        // Said once the repository exists too: from here on a
                        // stopped backup leaves a valid (maybe empty) repository.
                        if (!quiet.quiet) {
                            note("snapshot " + source.id() + " taken");
                        }
                        engine.set(new BackupEngine(r, opts, progress("bytes", quiet.quiet)));
                        return engine.get().run(source);
                    } finally {
                        if (r != opened) {
                            r.close();
                        }
                    }
                }

                @Override
                void interrupted() {
                    BackupEngine e = engine.get();
                    if (e != null) {
                        e.cancel();
                    }
                }
            }.run();
            report(result);
            if (hooks.postThawFailed()) {
                throw new HookException("a post-thaw hook failed (see above): backup " + result.backupId()
                        + " was stored, but the application it holds may still be held");
            }
        } finally {
            if (existing != null) {
                existing.close();
            }
            if (chosen != null) {
                chosen.close();
            }
        }
        return 0;
    }

    /**
     * Lists the hooks before anything is made: a mistyped --hooks-dir is a
     * bad command line (exit status 2), found before a snapshot exists.
     */
    private SnapshotHooks hooks() {
        Map<String, String> env = new java.util.LinkedHashMap<>();
        env.put("BLKSNAP_REPO", repo.location());
        if (job != null) {
            env.put("BLKSNAP_JOB", job);
        }
        try {
            return new SnapshotHooks(new HookRunner(hooksOption.settings(), this::note), devices, env, this::note);
        } catch (HookException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private void report(BackupResult r) {
        if (json.json) {
            Map<String, Object> o = Output.record();
            o.put("backup", r.backupId());
            o.put("repository", repo.location());
            o.put("tag", tag);
            o.put("seconds", r.elapsed().toMillis() / 1000.0);
            o.put("bytes_read", r.bytesRead());
            o.put("bytes_stored", r.bytesStored());
            List<Map<String, Object>> ds = new ArrayList<>();
            for (DeviceResult d : r.devices()) {
                Map<String, Object> x = Output.record();
                x.put("device", d.name());
                x.put("mode", d.mode());
                x.put("reason", d.reason());
                x.put("size", d.sizeBytes());
                x.put("bytes_read", d.bytesRead());
                x.put("chunks_read", d.chunksRead());
                x.put("chunks_new", d.chunksNew());
                x.put("chunks_reused", d.chunksReused());
                x.put("chunks_zero", d.chunksZero());
                x.put("bytes_stored", d.bytesStored());
                ds.add(x);
            }
            o.put("devices", ds);
            new Output(out(), true).print(o);
            return;
        }
        if (quiet.quiet) {
            return;
        }
        out().println("backup " + r.backupId() + " saved in " + repo.location() + (tag == null ? "" : " (tag " + tag + ")"));
        for (DeviceResult d : r.devices()) {
            out().printf("  %s: %s, read %s of %s, %d chunks new (%s stored), %d reused, %d zero%n", d.name(),
                    d.mode(), Sizes.format(d.bytesRead()), Sizes.format(d.sizeBytes()), d.chunksNew(),
                    Sizes.format(d.bytesStored()), d.chunksReused(), d.chunksZero());
            out().println("    " + d.reason());
        }
        double secs = Math.max(0.001, r.elapsed().toNanos() / 1e9);
        out().printf("total: read %s, stored %s after dedup and compression, in %.1f s (%s/s)%n",
                Sizes.format(r.bytesRead()), Sizes.format(r.bytesStored()), secs,
                Sizes.format((long) (r.bytesRead() / secs)));
        out().flush();
    }

    /**
     * A create killed with SIGKILL leaves its snapshot, which keeps its
     * devices busy (this take would fail) and slows every first write.
     */
    private void destroyAbandonedSnapshots() throws IOException {
        try (BlkSnap blksnap = BlkSnap.open()) {
            for (SnapshotId id : SnapshotOwners.system().cleanup(blksnap).destroyed()) {
                if (!quiet.quiet) {
                    note("destroyed snapshot " + id + ": the blksnap that took it is gone");
                }
            }
        }
    }

    /**
     * @return true if 'create' would make the repository: no repository
     *         there yet and, locally, a missing or empty directory
     */
    private boolean isNew() throws IOException {
        try (var store = repo.store()) {
            if (store.exists()) {
                return false;
            }
        }
        Path dir = repo.path();
        if (dir == null) {
            return true;
        }
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return true;
        }
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    static Path defaultStorage() {
        Path vt = Path.of("/var/tmp");
        return Files.isDirectory(vt) && Files.isWritable(vt) ? vt : Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** @return 10 % of the devices' size, at least 256 MiB */
    static long defaultLimit(List<Path> devices) {
        long total = 0;
        for (Path d : devices) {
            try {
                total += Targets.sizeBytes(d);
            } catch (IOException | RuntimeException e) {
                // Not a device: the snapshot says so in its own words.
            }
        }
        return Math.max(MIN_DEFAULT_LIMIT, total / 10);
    }

    static String toolVersion() {
        String v = BackupCreateCommand.class.getPackage().getImplementationVersion();
        return "blksnap " + (v == null ? "development" : v);
    }

    /** The option's value as the repository takes it, or one line that names the option and the value given. */
    private static int checkedChunkSize(long bytes) {
        if (bytes < Repository.MIN_CHUNK_SIZE || bytes > Repository.MAX_CHUNK_SIZE || Long.bitCount(bytes) != 1) {
            throw new IllegalArgumentException("--chunk-size must be a power of two from 64K to 16M, not "
                    + bytes + " bytes");
        }
        return (int) bytes;
    }
}
