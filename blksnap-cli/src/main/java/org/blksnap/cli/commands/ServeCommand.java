package org.blksnap.cli.commands;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.blksnap.api.CbtInfo;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.NotBlockDeviceException;
import org.blksnap.api.Sizes;
import org.blksnap.backup.engine.BlkSnapSource;
import org.blksnap.backup.engine.SourceDevice;
import org.blksnap.backup.engine.Targets;
import org.blksnap.cli.ExitCodes;
import org.blksnap.cli.UsageException;
import org.blksnap.nbd.ChangedBlocks;
import org.blksnap.nbd.ConnectionListener;
import org.blksnap.nbd.Export;
import org.blksnap.nbd.Exports;
import org.blksnap.nbd.FileExport;
import org.blksnap.nbd.ListenAddress;
import org.blksnap.nbd.NbdServer;
import org.blksnap.nbd.TlsCredentials;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code blksnap serve}: a live snapshot's images over NBD, read-only, with their CBT. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Take one snapshot of the devices and serve each image read-only over NBD (the Network "
                + "Block Device protocol), for NBD clients such as nbdcopy, nbdinfo and qemu-img. The export "
                + "of /dev/NAME is named NAME. The snapshot is destroyed when the last client "
                + "disconnects, or on Ctrl-C or SIGTERM.",
            "",
            "Each export offers the meta context blksnap:changed:N for N = 0..255 (NBD block status): bit 0 set "
                    + "on the blocks written after the take whose changes number was N (as 'blksnap cbtinfo' and "
                    + "'backup create' record it), clear on the others; blksnap:changed:0 marks every block "
                    + "written since the tracker was attached. Compare the CBT generation printed here with the "
                    + "one recorded: a different one means the map says nothing about older numbers, read all. "
                    + "base:allocation reports every block as data.",
            "",
            "Listens on a Unix socket (owner-only) unless --listen names a TCP address. One line per device on "
                    + "stdout gives its NBD URI. If the difference storage fills up, the snapshot breaks: reads "
                    + "fail with EIO from then on, a line says so, and the exit status is 7."},
        footer = {"", "Examples:",
            "  blksnap serve --device /dev/vdb &",
            "  nbdcopy 'nbd+unix:///vdb?socket=/run/blksnap/serve.sock' /backup/vdb.img",
            "  blksnap serve -d /dev/vdb -d /dev/vdc --since 3 --socket /tmp/s.sock",
            "  nbdinfo --map=blksnap:changed:3 'nbd+unix:///vdb?socket=/tmp/s.sock'",
            "  blksnap serve -d /dev/vdb --listen 127.0.0.1:10809 &",
            "  qemu-img convert -O qcow2 nbd://127.0.0.1:10809/vdb vdb.qcow2",
            "  blksnap serve -d /dev/vdb --listen 192.0.2.7:10809 --tls-certificates /etc/blksnap/tls &",
            "  nbdcopy 'nbds://192.0.2.7:10809/vdb?tls-certificates=/etc/pki/libnbd' /backup/vdb.img"})
public final class ServeCommand extends BaseCommand {
    static final Path DEFAULT_SOCKET = Path.of("/run/blksnap/serve.sock");

    @Option(names = {"-d", "--device"}, required = true, paramLabel = "DEVICE",
            description = "Block device to snapshot and serve; repeatable. All are taken at one point in time.")
    List<Path> devices = new ArrayList<>();

    @Option(names = "--since", paramLabel = "CHANGES_NUMBER",
            description = "List only blksnap:changed:CHANGES_NUMBER to clients that ask which contexts there "
                    + "are, and print how much changed since; it must not be newer than any device's tracker.")
    Integer since;

    @Option(names = "--socket", paramLabel = "PATH",
            description = "Unix socket to listen on (default: " + "/run/blksnap/serve.sock" + ").")
    Path socket;

    @Option(names = "--listen", paramLabel = "ADDR:PORT",
            description = "Listen on TCP instead, on this address only ([::1]:10809 for IPv6). Without "
                    + "--tls-certificates anyone who reaches it reads the devices, in plain text.")
    String listen;

    @Option(names = "--tls-certificates", paramLabel = "DIR",
            description = "Require TLS (NBD_OPT_STARTTLS; no plain-text fallback) with DIR/server-cert.pem and "
                    + "DIR/server-key.pem, the layout of qemu-nbd's and nbdkit's certificate directories. "
                    + "Clients are not asked for certificates: TLS encrypts and proves the server, it does "
                    + "not choose who may read.")
    Path tlsCertificates;

    @Option(names = {"-s", "--storage"}, paramLabel = "DIR|FILE|DEVICE",
            description = "Difference storage of the snapshot (default: as for 'backup create', a preallocated "
                    + "file removed afterwards); a block device must not be on "
                    + "a --device.")
    Path storage;

    @Option(names = {"-l", "--limit"}, paramLabel = "SIZE", converter = org.blksnap.cli.Converters.Size.class,
            description = "Most space the difference storage may use (default: 10%% of the devices' size, at "
                    + "least 256M).")
    Long limit;

    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile NbdServer server;

    @Override
    public Integer call() throws Exception {
        ListenAddress address = address();
        Optional<TlsCredentials> tls = tlsCredentials(tlsCertificates);
        if (since != null && (since < 0 || since > 255)) {
            throw new UsageException("--since must be a changes number from 0 to 255, not " + since);
        }
        Map<String, Path> names = new LinkedHashMap<>();
        for (Path d : devices) {
            if (!Targets.isBlockDevice(d)) {
                throw new NotBlockDeviceException(d + (Files.exists(d) ? " is not a block device"
                        : ": no such device"), 0);
            }
            Path old = names.put(d.getFileName().toString(), d);
            if (old != null) {
                throw new UsageException(old + " and " + d + " would both be exported as '" + d.getFileName()
                        + "'");
            }
        }
        long limitBytes = limit != null ? limit : BackupCreateCommand.defaultLimit(devices);
        try (PreallocatedStorage.Choice chosen = PreallocatedStorage.choose(storage, limitBytes, this::note)) {
            return serveSnapshot(chosen.storage(), limitBytes, address, tls);
        }
    }

    private Integer serveSnapshot(DiffStorage diff, long limitBytes, ListenAddress address,
            Optional<TlsCredentials> tls) throws Exception {
        return new SignalSafe<Integer>() {
            @Override
            BlkSnapSource open() throws IOException {
                return BlkSnapSource.take(devices, diff, limitBytes);
            }

            @Override
            Integer use(BlkSnapSource source) throws IOException {
                note("snapshot " + source.id() + " taken");
                return serve(source, address, tls);
            }

            @Override
            void interrupted() {
                stop();
            }
        }.run();
    }

    private ListenAddress address() throws IOException {
        return listenAddress(listen, socket, DEFAULT_SOCKET);
    }

    /**
     * The address of --listen or --socket, else the default socket, whose
     * directory is made owner-only if it is missing.
     *
     * @param listen        --listen ADDR:PORT, or null
     * @param socket        --socket PATH, or null
     * @param defaultSocket the socket when neither is given
     * @return where to listen
     * @throws IOException if the default socket's directory cannot be made
     */
    static ListenAddress listenAddress(String listen, Path socket, Path defaultSocket) throws IOException {
        if (listen != null && socket != null) {
            throw new UsageException("--socket and --listen exclude each other");
        }
        if (listen != null) {
            try {
                return ListenAddress.parseTcp(listen);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--listen: " + e.getMessage());
            }
        }
        Path path = socket != null ? socket : defaultSocket;
        if (socket == null && !Files.isDirectory(path.getParent())) {
            Files.createDirectories(path.getParent(),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        return new ListenAddress.Unix(path);
    }

    /**
     * The credentials of --tls-certificates, read before anything is taken or
     * bound, so a bad directory costs nothing.
     *
     * @param dir --tls-certificates DIR, or null
     * @return the credentials, empty without the option
     * @throws UsageException with one line naming the file and the problem
     */
    static Optional<TlsCredentials> tlsCredentials(Path dir) {
        if (dir == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(TlsCredentials.load(dir));
        } catch (IOException e) {
            throw new UsageException("--tls-certificates: " + e.getMessage());
        }
    }

    private int serve(BlkSnapSource source, ListenAddress address, Optional<TlsCredentials> tls)
            throws IOException {
        Map<String, Export> byName = new LinkedHashMap<>();
        List<SnapshotImageExport> exports = new ArrayList<>();
        try {
            for (SourceDevice d : source.devices()) {
                CbtInfo info = d.cbt().info();
                if (since != null && since > info.changesNumber()) {
                    throw new UsageException("--since " + since + " is newer than the changes number "
                            + info.changesNumber() + " of " + d.name());
                }
                String description = "blksnap snapshot " + source.id() + " of " + d.name() + ", CBT generation "
                        + info.generationId() + ", changes number " + info.changesNumber();
                SnapshotImageExport e = new SnapshotImageExport(FileExport.open(d.image(), d.sizeBytes(),
                        Optional.of(new ChangedBlocks(d.cbt())), description),
                        since == null ? OptionalInt.empty() : OptionalInt.of(since));
                exports.add(e);
                byName.put(Path.of(d.name()).getFileName().toString(), e);
            }
            server = NbdServer.start(address, new Exports(byName), new ConnectionListener() {
                @Override
                public void disconnected(long id, int active, Optional<Throwable> failure) {
                    if (active == 0) {
                        finished.countDown();
                    }
                }
            }, tls);
            int i = 0;
            for (Map.Entry<String, Export> e : byName.entrySet()) {
                SourceDevice d = source.devices().get(i++);
                CbtInfo info = d.cbt().info();
                String changed = since == null ? "" : ", " + Sizes.format(changedBytes(d, since)) + " changed since "
                        + since;
                note(d.name() + ": " + Sizes.format(d.sizeBytes()) + ", CBT generation " + info.generationId()
                        + ", changes number " + info.changesNumber() + changed);
                out().println(e.getKey() + " " + server.uri(e.getKey()));
            }
            out().flush();
            note("serving until the last client disconnects (or Ctrl-C)");
            return watch(source, exports);
        } finally {
            stop();
            for (SnapshotImageExport e : exports) {
                e.close();
            }
        }
    }

    /** Waits for the end, checking the snapshot meanwhile. */
    private int watch(BlkSnapSource source, List<SnapshotImageExport> exports) throws IOException {
        boolean broken = false;
        try {
            while (!finished.await(500, TimeUnit.MILLISECONDS)) {
                if (!broken && !intact(source)) {
                    broken = true;
                    String why = "the difference storage of snapshot " + source.id() + " is full: the snapshot "
                            + "broke, reads fail with EIO (give a larger --limit)";
                    exports.forEach(e -> e.markBroken(why));
                    note(why);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!broken && !intact(source)) {
            broken = true;
            note("the snapshot " + source.id() + " broke while it was served: what clients read is not valid");
        }
        note(server.acceptedConnections() + " connection(s) served; destroying snapshot " + source.id());
        return broken ? ExitCodes.CORRUPTED : ExitCodes.OK;
    }

    private static boolean intact(BlkSnapSource source) {
        try {
            source.checkIntact();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static long changedBytes(SourceDevice d, int n) {
        return d.cbt().changedExtents(n).stream().mapToLong(org.blksnap.api.Extent::length).sum();
    }

    /** Stops serving (idempotent): from the main thread or the shutdown hook. */
    private void stop() {
        NbdServer s = server;
        if (s != null) {
            s.close();
        }
        finished.countDown();
    }
}
