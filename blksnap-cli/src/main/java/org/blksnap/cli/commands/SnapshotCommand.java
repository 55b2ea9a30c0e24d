package org.blksnap.cli.commands;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.blksnap.api.BlkSnapException;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Image;
import org.blksnap.api.Session;
import org.blksnap.api.sys.Errno;
import org.blksnap.cli.Converters;
import org.blksnap.cli.ExitCodes;
import org.blksnap.cli.Texts;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/** {@code blksnap snapshot ... -- COMMAND}: take, run, always destroy. */
@Command(name = "snapshot", mixinStandardHelpOptions = true, subcommands = SnapshotCleanupCommand.class,
        description = {"Take a snapshot of the devices, run COMMAND while it exists, then destroy it - "
                + "always: also when COMMAND fails and on Ctrl-C, SIGTERM or SIGHUP.",
            "",
            "COMMAND sees the images in its environment:",
            "  BLKSNAP_SNAPSHOT_ID   the snapshot's id",
            "  BLKSNAP_IMAGES        the image devices, space separated, in --device order",
            "  BLKSNAP_IMAGE_<n>     image of the n-th --device (from 0)",
            "  BLKSNAP_DEVICE_<n>    the n-th --device itself",
            "  BLKSNAP_IMAGE_COUNT   number of images",
            "",
            "Exit status is COMMAND's; 7 if COMMAND succeeded but the snapshot broke meanwhile (e.g. storage "
                    + "full), 127 if COMMAND cannot be run, 130/143 when interrupted."},
        footer = {"", "Examples:",
            "  blksnap snapshot --device /dev/vdb --storage /var/tmp --limit 4G -- \\",
            "      dd if=/dev/blksnap-254-16 of=/backup/vdb.img bs=1M",
            "  blksnap snapshot -d /dev/vdb -d /dev/vdc -s /dev/vdd -l 2G -- \\",
            "      sh -c 'for i in $BLKSNAP_IMAGES; do sha256sum $i; done'"})
public final class SnapshotCommand extends BaseCommand {
    /** How long COMMAND gets to exit after it is asked to stop. */
    private static final long GRACE_SECONDS = 10;

    // Required, but checked in call(): picocli would demand them for 'snapshot cleanup' too.
    @Option(names = {"-d", "--device"}, paramLabel = "DEVICE",
            description = "Device to snapshot; repeatable. All are taken at one point in time.")
    List<Path> devices = new ArrayList<>();

    @Option(names = {"-s", "--storage"}, paramLabel = "DIR|FILE|DEVICE",
            description = "Difference storage: a directory (an unnamed file is made in it), a file, or a "
                    + "block device that no --device lives on (default: a file of --limit bytes preallocated on "
                    + "the mounted ext4 or xfs with the most free space, removed afterwards).")
    Path storage;

    @Option(names = {"-l", "--limit"}, paramLabel = "SIZE", converter = Converters.Size.class,
            description = "Most space the difference storage may use, e.g. 4G (default: 10%% of the devices' "
                    + "size, at least 256M).")
    Long limit;

    @Parameters(arity = "0..*", paramLabel = "COMMAND", description = "The command to run, after '--'.")
    List<String> command = new ArrayList<>();

    /** The check picocli would make, in its words, for the required options this command cannot declare. */
    private void requireArguments() {
        List<String> options = new ArrayList<>();
        if (devices.isEmpty()) {
            options.add("'--device=DEVICE'");
        }
        List<String> all = new ArrayList<>(options);
        if (command.isEmpty()) {
            all.add("'COMMAND'");
        }
        if (all.isEmpty()) {
            return;
        }
        String what = options.isEmpty() ? "parameter" : command.isEmpty() ? "options and parameters"
                : options.size() == 1 ? "option" : "options";
        throw new ParameterException(spec.commandLine(), "Missing required " + what + ": " + String.join(", ", all));
    }

    @Override
    public Integer call() throws Exception {
        requireArguments();
        long limitBytes = limit != null ? limit : BackupCreateCommand.defaultLimit(devices);
        try (PreallocatedStorage.Choice chosen = PreallocatedStorage.choose(storage, limitBytes, this::note)) {
            return run(chosen.storage(), limitBytes);
        }
    }

    /* The storage file, if blksnap made it, is removed after this: the snapshot is gone by then. */
    private int run(DiffStorage diff, long limitBytes) throws Exception {
        Cleanup cleanup = new Cleanup();
        Thread hook = Thread.ofPlatform().name("blksnap-cleanup").unstarted(cleanup::onShutdown);
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            synchronized (cleanup) {
                cleanup.session = Session.builder().storage(diff).limit(limitBytes)
                        .onEvent(e -> note(Texts.describe(e)))
                        .device(devices.getFirst()).devicesFrom(devices.subList(1, devices.size()))
                        .open();
            }
            Session session = cleanup.session;
            note("snapshot " + session.id() + " taken: " + describe(session.images()));
            Process child;
            try {
                ProcessBuilder pb = new ProcessBuilder(command).inheritIO();
                environment(pb.environment(), session);
                synchronized (cleanup) {
                    child = pb.start();
                    cleanup.child = child;
                }
            } catch (IOException e) {
                note("cannot run " + command.getFirst() + ": " + e.getMessage());
                return 127;
            }
            int rc = child.waitFor();
            List<Image> after = session.refreshImages();
            for (Image i : after) {
                if (i.corrupted()) {
                    note("snapshot of " + i.device() + " broke while COMMAND ran ("
                            + Errno.name(-i.errorCode()) + "): its image content is not valid");
                    if (rc == 0) {
                        rc = ExitCodes.CORRUPTED;
                    }
                }
            }
            return rc;
        } finally {
            cleanup.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or ran already: it did the cleanup.
            }
        }
    }

    private static void environment(Map<String, String> env, Session session) {
        List<Image> images = session.images();
        env.put("BLKSNAP_SNAPSHOT_ID", session.id().toString());
        env.put("BLKSNAP_IMAGE_COUNT", String.valueOf(images.size()));
        StringBuilder all = new StringBuilder();
        for (int n = 0; n < images.size(); n++) {
            env.put("BLKSNAP_IMAGE_" + n, images.get(n).image().toString());
            env.put("BLKSNAP_DEVICE_" + n, images.get(n).device().toString());
            all.append(n == 0 ? "" : " ").append(images.get(n).image());
        }
        env.put("BLKSNAP_IMAGES", all.toString());
    }

    private static String describe(List<Image> images) {
        StringBuilder b = new StringBuilder();
        for (Image i : images) {
            b.append(b.isEmpty() ? "" : ", ").append(i.device()).append(" -> ").append(i.image());
        }
        return b.toString();
    }

    /**
     * Destroys the snapshot exactly once, from the main thread or from the
     * shutdown hook (Ctrl-C, SIGTERM, SIGHUP), whichever comes first. Opening
     * the session holds the same lock, so a signal during the take waits for
     * it and then undoes it.
     */
    private final class Cleanup {
        Session session;
        Process child;
        private boolean done;

        void onShutdown() {
            Process c;
            synchronized (this) {
                c = child;
            }
            if (c != null && c.isAlive()) {
                // A terminal's Ctrl-C reaches COMMAND itself; a kill of this
                // process does not, so pass it on and give COMMAND time to stop.
                c.destroy();
                try {
                    if (!c.waitFor(GRACE_SECONDS, TimeUnit.SECONDS)) {
                        c.destroyForcibly().waitFor(GRACE_SECONDS, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            close();
        }

        synchronized void close() {
            if (done) {
                return;
            }
            done = true;
            if (session == null) {
                return;
            }
            try {
                session.close();
                note("snapshot " + session.id() + " destroyed");
            } catch (BlkSnapException e) {
                note("could not destroy snapshot " + session.id() + ": " + e.getMessage()
                        + " (retry: blksnap snapshot_destroy --id " + session.id() + ")");
            }
        }
    }
}
