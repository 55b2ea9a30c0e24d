package org.blksnap.cli.commands;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

import org.blksnap.api.Sizes;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Repository;
import org.blksnap.nbd.ConnectionListener;
import org.blksnap.nbd.Export;
import org.blksnap.nbd.Exports;
import org.blksnap.nbd.ListenAddress;
import org.blksnap.nbd.NbdServer;
import org.blksnap.nbd.TlsCredentials;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blksnap backup serve}: a backup's devices over NBD, read from the repository. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve the devices of a backup read-only over NBD (the Network Block Device protocol), "
                + "straight from the repository, without restoring them: for NBD clients such as nbdcopy, "
                + "nbdinfo, qemu-img and the kernel's nbd client. 'backup mount' does the mounting for you.",
            "",
            "The export of /dev/NAME is named NAME. A chunk is read from the repository when a client first "
                    + "reads it, checked against its id, decompressed and kept in a small cache. A chunk that "
                    + "is missing or damaged fails the reads that touch it with EIO and is named once on "
                    + "stderr; the rest of the device stays readable. base:allocation (NBD block status) "
                    + "reports the all-zero chunks, which the repository does not store, as holes.",
            "",
            "Listens on a Unix socket (owner-only) unless --listen names a TCP address. One line per device on "
                    + "stdout gives its NBD URI. Serves until Ctrl-C or SIGTERM, holding the repository "
                    + "shared meanwhile (a prune or forget waits)."},
        footer = {"", "Examples:",
            "  blksnap backup serve latest --repo /backup/vdb &",
            "  nbdcopy 'nbd+unix:///vdb?socket=/run/blksnap/backup-serve.sock' /tmp/vdb.img",
            "  blksnap backup serve 20261123-101500-3fa2 -r /backup/host -d /dev/vdc --socket /tmp/b.sock",
            "  blksnap backup serve latest -r /backup/vdb --listen 127.0.0.1:10809",
            "  blksnap backup serve latest -r /backup/vdb --listen 192.0.2.7:10809 --tls-certificates /etc/tls"})
public final class BackupServeCommand extends BaseCommand {
    static final Path DEFAULT_SOCKET = Path.of("/run/blksnap/backup-serve.sock");

    @Parameters(index = "0", paramLabel = "BACKUP", description = "Backup id as shown by 'backup list', or latest.")
    String backup;

    @Mixin
    RepoOption repo;

    @Option(names = {"-d", "--device"}, paramLabel = "NAME",
            description = "Serve only this device of the backup, as it was given to create (default: every "
                    + "device).")
    String device;

    @Option(names = "--socket", paramLabel = "PATH",
            description = "Unix socket to listen on (default: /run/blksnap/backup-serve.sock).")
    Path socket;

    @Option(names = "--listen", paramLabel = "ADDR:PORT",
            description = "Listen on TCP instead, on this address only ([::1]:10809 for IPv6). Without "
                    + "--tls-certificates anyone who reaches it reads the backup, in plain text.")
    String listen;

    @Option(names = "--tls-certificates", paramLabel = "DIR",
            description = "Require TLS (NBD_OPT_STARTTLS; no plain-text fallback) with DIR/server-cert.pem and "
                    + "DIR/server-key.pem, the layout of qemu-nbd's and nbdkit's certificate directories. "
                    + "Clients are not asked for certificates.")
    Path tlsCertificates;

    private final CountDownLatch stopped = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        ListenAddress address = ServeCommand.listenAddress(listen, socket, DEFAULT_SOCKET);
        Optional<TlsCredentials> tls = ServeCommand.tlsCredentials(tlsCertificates);
        try (Repository r = Repository.open(repo.store(), ChunkStore.LockMode.SHARED, repo.lockWait,
                repo.secrets())) {
            BackupExports exports = BackupExports.open(r, backup, device, this::note);
            // The index is read before the first client, not during its first read.
            r.index();
            NbdServer server = NbdServer.start(address, new Exports(exports.byName()), new ConnectionListener() {
            }, tls);
            Thread hook = Thread.ofPlatform().name("blksnap-backup-serve-stop").unstarted(() -> {
                server.close();
                stopped.countDown();
            });
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                for (Map.Entry<String, Export> e : exports.byName().entrySet()) {
                    note(exports.manifest().id() + " " + e.getKey() + ": " + Sizes.format(e.getValue().size()));
                    out().println(e.getKey() + " " + server.uri(e.getKey()));
                }
                out().flush();
                note("serving backup " + exports.manifest().id() + " until Ctrl-C");
                stopped.await();
            } catch (InterruptedException e) {
                // Stopped by whoever runs this command in-process: as Ctrl-C.
                Thread.currentThread().interrupt();
            } finally {
                server.close();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // The hook is running: it stopped the server.
                }
            }
        }
        return 0;
    }
}
