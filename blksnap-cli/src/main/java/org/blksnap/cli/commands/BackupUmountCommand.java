package org.blksnap.cli.commands;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import org.blksnap.cli.ExitCodes;
import org.blksnap.nbd.KernelClient;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code blksnap backup umount}: undoes {@code backup mount}. */
@Command(name = "umount", mixinStandardHelpOptions = true,
        description = {"Unmount a backup that 'backup mount' mounted, detach its /dev/nbdN and end the process "
                + "that served it.",
            "",
            "Nothing is torn down while the file system is in use (a process with a file open or its working "
                    + "directory there): the command says so and exits with status 6. After the serving "
                    + "process was killed, it unmounts what is left and detaches the device.",
            "",
            "It waits until the kernel has let go of /dev/nbdN (no pid file in /sys/block/nbdN, size 0). "
                    + "It disconnects only the attachment 'backup mount' made and signals only the process that "
                    + "served it, never a device attached or a process started since. If another process still "
                    + "has the device open 30 s later, it exits with status 1 and keeps its record: run it "
                    + "again once that process closed the device."},
        footer = {"", "Examples:",
            "  blksnap backup umount /mnt/restore"})
public final class BackupUmountCommand extends BaseCommand {
    private static final Duration EXIT_WAIT = Duration.ofSeconds(30);
    /** The serving process has ended: only a stray opener of the device can hold it longer. */
    private static final Duration RELEASE_WAIT = Duration.ofSeconds(30);

    @Parameters(index = "0", paramLabel = "MOUNTPOINT", description = "Where 'backup mount' mounted the backup.")
    Path mountpoint;

    @Override
    public Integer call() throws Exception {
        Path mp = BackupMounts.directory(mountpoint);
        Optional<BackupMounts.Record> record = BackupMounts.read(mp);
        Optional<BackupMounts.Mount> mount = BackupMounts.mounted(mp);
        if (record.isEmpty()) {
            throw new MountException.NotMounted(mp + " is not a backup mounted by 'blksnap backup mount'"
                    + (mount.isPresent() ? " (" + mount.get().source() + " is mounted there)" : ""));
        }
        BackupMounts.Record r = record.get();
        Path nbd = Path.of(r.nbdDevice());
        if (mount.isPresent()) {
            if (!mount.get().source().equals(r.nbdDevice())) {
                throw new MountException.Busy(mp + ": " + mount.get().source() + " is mounted over the backup; "
                        + "unmount it first");
            }
            Optional<String> failed = BackupMounts.run(List.of("umount", mp.toString()));
            if (failed.isPresent()) {
                if (failed.get().contains("busy")) {
                    throw new MountException.Busy(mp + " is in use (a process has a file open or its working "
                            + "directory there): nothing was unmounted");
                }
                throw new IOException("cannot unmount " + mp + ": " + failed.get());
            }
        }
        // Once the server died, the device may be another mount's: disconnect only this mount's attachment.
        if (KernelClient.attacher(nbd).equals(OptionalLong.of(r.nbdAttacher()))) {
            KernelClient.disconnect(nbd);
        }
        Optional<ProcessHandle> server = BackupMounts.server(r);
        if (server.isPresent() && !exited(server.get(), EXIT_WAIT)) {
            server.get().destroy();
            if (!exited(server.get(), EXIT_WAIT)) {
                throw new IOException("the process " + r.pid() + " serving " + mp + " does not end (kill -9 it, "
                        + "then run this again)");
            }
        }
        if (!KernelClient.awaitReleased(nbd, r.nbdAttacher(), RELEASE_WAIT)) {
            // The record stays: once whoever holds the device closes it, this command finishes the job.
            throw new IOException(nbd + " is still attached " + RELEASE_WAIT.toSeconds() + " s after NBD_DISCONNECT: "
                    + "a process has it open ('fuser -v " + nbd + "' names it); run 'blksnap backup umount " + mp
                    + "' again once it is closed");
        }
        BackupMounts.remove(mp);
        out().println("unmounted backup " + r.backup() + " (" + r.device() + ") from " + mp + "; " + nbd
                + " detached");
        out().flush();
        return ExitCodes.OK;
    }

    private static boolean exited(ProcessHandle p, Duration wait) throws InterruptedException {
        try {
            p.onExit().get(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true;
        }
    }
}
