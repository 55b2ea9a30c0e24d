package org.blksnap.cli.commands;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.blksnap.backup.engine.RestoreEngine;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.RepositoryException;
import org.blksnap.backup.repo.Secret;
import org.blksnap.cli.ExitCodes;
import org.blksnap.cli.Main;
import org.blksnap.nbd.ConnectionListener;
import org.blksnap.nbd.Export;
import org.blksnap.nbd.Exports;
import org.blksnap.nbd.KernelClient;
import org.blksnap.nbd.ListenAddress;
import org.blksnap.nbd.NbdServer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code blksnap backup mount}: one device of a backup, served from the
 * repository by a background process, attached to {@code /dev/nbdN} and
 * mounted read-only.
 *
 * <p>The command checks what it can (mount point, repository, password,
 * backup, device), then starts itself again with {@code --foreground} in a
 * new session, hands it the secret on its standard input (never on the
 * command line or in the environment) and returns when that process says the
 * file system is mounted, or fails with its error.
 */
@Command(name = "mount", mixinStandardHelpOptions = true,
        description = {"Mount one device of a backup read-only, straight from the repository, to copy files out "
                + "of it without restoring the whole device.",
            "",
            "A process left in the background serves the device from the repository over NBD (as 'backup "
                    + "serve'); the kernel's nbd client attaches it as /dev/nbdN (the nbd module is loaded if "
                    + "needed), and it is mounted read-only: ext2/3/4 with 'noload' (no journal replay on a "
                    + "read-only device), xfs with 'norecovery,nouuid' (the backed-up file system may be "
                    + "mounted too, with the same UUID), anything else with 'ro'. Chunks are read when first "
                    + "used, checked and cached; a damaged chunk gives an I/O error on the files that use it "
                    + "and is named in the log /run/blksnap/mounts/KEY.log.",
            "",
            "'blksnap backup umount MOUNTPOINT' unmounts it, detaches the device and ends the process; it also "
                    + "cleans up after a killed process. Root only. The repository is held shared while the "
                    + "backup is mounted (a prune or forget waits)."},
        footer = {"", "Examples:",
            "  blksnap backup mount latest --repo /backup/vdb /mnt/restore",
            "  cp -a /mnt/restore/etc/fstab /tmp/",
            "  blksnap backup umount /mnt/restore",
            "  blksnap backup mount 20261123-101500-3fa2 -r /backup/host --device /dev/vdc /mnt/vdc"})
public final class BackupMountCommand extends BaseCommand {
    /** What the background process prints on its standard output once the file system is mounted. */
    static final String READY = "mounted";
    private static final String NO_SECRET = "none";

    @Parameters(index = "0", paramLabel = "BACKUP", description = "Backup id as shown by 'backup list', or latest.")
    String backup;

    @Parameters(index = "1", paramLabel = "MOUNTPOINT", description = "An existing, empty directory.")
    Path mountpoint;

    @Mixin
    RepoOption repo;

    @Option(names = {"-d", "--device"}, paramLabel = "NAME",
            description = "The device of the backup to mount, as it was given to create (needed when the "
                    + "backup holds several).")
    String device;

    @Option(names = "--foreground", hidden = true,
            description = "Serve and mount in this process, reading the secret from standard input.")
    boolean foreground;

    @Override
    public Integer call() throws Exception {
        Path mp = checkMountpoint();
        return foreground ? serveMounted(mp) : launch(mp);
    }

    private Path checkMountpoint() throws IOException {
        Path mp = BackupMounts.directory(mountpoint);
        Optional<BackupMounts.Mount> there = BackupMounts.mounted(mp);
        if (there.isPresent()) {
            throw new MountException.Busy(mp + " is a mount point already (of " + there.get().source() + ")");
        }
        if (BackupMounts.read(mp).isPresent()) {
            throw new MountException.Busy(mp + " has a backup mount that was not cleaned up: run 'blksnap backup "
                    + "umount " + mp + "' first");
        }
        return mp;
    }

    // ---- the command the user runs

    private int launch(Path mp) throws IOException, InterruptedException {
        Secret[] secret = new Secret[1];
        Secret.Source asked = repo.secrets();
        String id;
        String name;
        try (Repository r = Repository.open(repo.store(), ChunkStore.LockMode.SHARED, repo.lockWait, () -> {
            secret[0] = asked.get();
            return secret[0];
        })) {
            List<String> warnings = new ArrayList<>();
            Manifest m = "latest".equals(backup) ? r.latestManifest(warnings) : r.manifest(backup);
            warnings.forEach(w -> note("warning: " + w));
            id = m.id();
            name = RestoreEngine.select(m, device).name();
        }
        BackupMounts.createDir();
        Path log = BackupMounts.log(mp);
        Files.deleteIfExists(log);
        List<String> cmd = serverCommand(Path.of(System.getProperty("java.home"), "bin", "java"),
                ManagementFactory.getRuntimeMXBean().getInputArguments(), classPath(),
                List.of("backup", "mount", "--foreground", id, "--repo", repo.location(), "--device", name,
                        mp.toString()));
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(encode(secret[0]));
        }
        String line;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            line = out.readLine();
        }
        if (line != null && line.startsWith(READY + " ")) {
            out().println("mounted " + name + " of backup " + id + " at " + mp + " (" + line.substring(READY.length()
                    + 1) + ", read-only); 'blksnap backup umount " + mp + "' ends it");
            out().flush();
            return ExitCodes.OK;
        }
        int status = p.waitFor();
        // The background process said why, prefixed like this command's errors.
        for (String l : Files.readAllLines(log)) {
            err().println(l);
        }
        err().flush();
        return status == 0 ? ExitCodes.FAILURE : status;
    }

    /**
     * The background server's command line. It runs with this JVM's options,
     * the ones bin/blksnap chose: the AOT cache (classes linked and method
     * profiles ready, so the server does not serve its first gigabyte from
     * the interpreter), the JIT mode picked for the repository (C1 alone for
     * a plain one, C2 for AES-GCM), the serial GC and BLKSNAP_JAVA_OPTS.
     * Started without them it ran on the JVM's defaults (G1, tiered C2, no
     * cache). Options that write an archive when the JVM exits are left
     * out: the server exits when the backup is unmounted, and the umount
     * would wait for the dump.
     *
     * @param java      the java executable
     * @param jvmOptions this JVM's options
     * @param classPath this JVM's class path
     * @param args      the command's arguments
     * @return the command, in a new session
     */
    static List<String> serverCommand(Path java, List<String> jvmOptions, String classPath, List<String> args) {
        // A new session: the terminal's Ctrl-C and hangup do not reach the server.
        List<String> cmd = new ArrayList<>(List.of("setsid", java.toString()));
        for (String o : jvmOptions) {
            if (!writesAtExit(o)) {
                cmd.add(o);
            }
        }
        if (!cmd.contains("--enable-native-access=ALL-UNNAMED")) {
            cmd.add("--enable-native-access=ALL-UNNAMED");
        }
        cmd.addAll(List.of("-cp", classPath, Main.class.getName()));
        cmd.addAll(args);
        return cmd;
    }

    private static boolean writesAtExit(String jvmOption) {
        return jvmOption.startsWith("-XX:AOTCacheOutput=") || jvmOption.startsWith("-XX:AOTMode=record")
                || jvmOption.startsWith("-XX:ArchiveClassesAtExit=")
                || jvmOption.equals("-XX:+AutoCreateSharedArchive");
    }

    /** The class path of this JVM, absolute, so the new process finds the same jars. */
    private static String classPath() {
        List<String> parts = new ArrayList<>();
        for (String p : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            parts.add(Path.of(p).toAbsolutePath().toString());
        }
        return String.join(java.io.File.pathSeparator, parts);
    }

    static byte[] encode(Secret s) {
        String line = switch (s) {
            case null -> NO_SECRET;
            case Secret.Password p -> {
                // Only the encoded bytes: the buffer's backing array is longer than what it holds.
                ByteBuffer bb = StandardCharsets.UTF_8.encode(java.nio.CharBuffer.wrap(p.chars()));
                byte[] raw = new byte[bb.remaining()];
                bb.get(raw);
                yield "password " + Base64.getEncoder().encodeToString(raw);
            }
            case Secret.KeyFile k -> "key " + Base64.getEncoder().encodeToString(k.bytes());
        };
        return (line + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    static Secret decode(String line) throws RepositoryException {
        if (line == null || line.equals(NO_SECRET)) {
            throw new RepositoryException("the repository is encrypted, and no password was handed over");
        }
        int sp = line.indexOf(' ');
        byte[] b = Base64.getDecoder().decode(line.substring(sp + 1));
        if (line.startsWith("password ")) {
            ByteBuffer bb = ByteBuffer.wrap(b);
            var cb = StandardCharsets.UTF_8.decode(bb);
            char[] chars = new char[cb.remaining()];
            cb.get(chars);
            return new Secret.Password(chars);
        }
        return new Secret.KeyFile(b);
    }

    // ---- the background process

    private int serveMounted(Path mp) throws IOException, InterruptedException {
        String secretLine = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII)).readLine();
        Repository r = Repository.open(repo.store(), ChunkStore.LockMode.SHARED, Duration.ZERO,
                () -> decode(secretLine));
        Teardown teardown = new Teardown(mp, r);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("blksnap-backup-mount-stop")
                .unstarted(teardown::run));
        try {
            BackupExports exports = BackupExports.open(r, backup, device, this::note);
            r.index();
            Map.Entry<String, Export> export = exports.byName().entrySet().iterator().next();
            String type = Filesystems.detect(export.getValue());
            teardown.server = NbdServer.start(new ListenAddress.Unix(BackupMounts.socket(mp)),
                    new Exports(Map.of(export.getKey(), export.getValue())), new ConnectionListener() {
                    });
            teardown.client = KernelClient.attach(BackupMounts.socket(mp), export.getKey());
            Path nbd = teardown.client.device();
            List<String> mount = new ArrayList<>(List.of("mount", "-o", Filesystems.options(type)));
            if (type != null) {
                mount.addAll(List.of("-t", type));
            }
            mount.addAll(List.of(nbd.toString(), mp.toString()));
            Optional<String> failed = BackupMounts.run(mount);
            if (failed.isPresent()) {
                throw new IOException("cannot mount " + nbd + " (" + export.getKey() + " of backup "
                        + exports.manifest().id() + ") at " + mp + ": " + failed.get());
            }
            teardown.mounted = true;
            ProcessHandle self = ProcessHandle.current();
            long attacher = KernelClient.attacher(nbd)
                    .orElseThrow(() -> new IOException(nbd + " was detached right after it was mounted"));
            String deviceName = exports.manifest().devices().stream()
                    .filter(d -> BackupExports.exportName(d).equals(export.getKey())).findFirst()
                    .map(Manifest.DeviceImage::name).orElse(export.getKey());
            BackupMounts.write(new BackupMounts.Record(mp.toString(), nbd.toString(), attacher, self.pid(),
                    BackupMounts.started(self), exports.manifest().id(), deviceName, repo.location(),
                    type == null ? "auto" : type));
            note("backup " + exports.manifest().id() + " mounted at " + mp + " from " + nbd);
            out().println(READY + " " + nbd);
            out().flush();
            while (!teardown.client.awaitDetached(Duration.ofHours(1))) {
                // Attached until 'backup umount' (or anyone) sends NBD_DISCONNECT.
            }
            note(nbd + " detached; stopping");
            return ExitCodes.OK;
        } finally {
            teardown.run();
        }
    }

    /** Undoes the mount, the attach, the server and the repository, once, from the main thread or a signal. */
    private final class Teardown {
        private final Path mp;
        private final Repository repository;
        volatile NbdServer server;
        volatile KernelClient client;
        volatile boolean mounted;
        private boolean done;

        Teardown(Path mp, Repository repository) {
            this.mp = mp;
            this.repository = repository;
        }

        synchronized void run() {
            if (done) {
                return;
            }
            done = true;
            try {
                if (mounted && BackupMounts.mounted(mp).isPresent()) {
                    // Killed while mounted: a file still open there must not keep the device.
                    Optional<String> failed = BackupMounts.run(List.of("umount", mp.toString()));
                    if (failed.isPresent()) {
                        note("umount " + mp + ": " + failed.get() + "; detaching it lazily");
                        BackupMounts.run(List.of("umount", "-l", mp.toString()));
                    }
                }
                if (client != null) {
                    client.close();
                }
                if (server != null) {
                    server.close();
                }
                BackupMounts.remove(mp);
                repository.close();
            } catch (IOException e) {
                note("cleanup of " + mp + ": " + e.getMessage());
            }
        }
    }
}
