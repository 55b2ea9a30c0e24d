package org.blksnap.cli.commands;

import org.blksnap.cli.UsageException;

import picocli.CommandLine.Command;

/** {@code blksnap backup}: the group of backup commands (listed in org.blksnap.cli.CommandTree). */
@Command(name = "backup", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = {"Consistent, incremental, deduplicated image backups of live block devices, and their "
                + "restore.",
            "",
            "'create' takes one blksnap snapshot of all --device at one point in time, reads the images and stores "
                    + "them in a repository directory as compressed, encrypted chunks named by a keyed hash "
                    + "(identical chunks are stored once, all-zero chunks not at all), then destroys the snapshot. When the "
                    + "device's change tracker is in the generation the previous backup recorded, only the blocks "
                    + "changed since then are read; everything else is taken from the previous backup.",
            "",
            "A backup is visible only when all its chunks are on disk: a backup that fails or is killed leaves "
                    + "the repository as it was.",
            "",
            "New repositories are encrypted (AES-256-GCM; 'create --encryption none' opts out). The password "
                    + "comes from $BLKSNAP_PASSWORD_FILE, --password-command or the terminal, or --key-file "
                    + "replaces it; 'key' manages them. Lose every password and key file, and the backups are "
                    + "lost."},
        footer = {"", "Examples:",
            "  blksnap backup create --device /dev/vdb --repo /backup/vdb",
            "  blksnap backup list --repo /backup/vdb",
            "  blksnap backup restore latest --repo /backup/vdb --to /dev/vdc --verify",
            "  blksnap backup mount latest --repo /backup/vdb /mnt/restore",
            "  blksnap backup umount /mnt/restore",
            "  blksnap backup verify --repo /backup/vdb --read-data",
            "  blksnap backup prune --repo /backup/vdb --keep-last 7",
            "  blksnap backup forget 20261123-101500-3fa2 --repo /backup/vdb",
            "  blksnap backup check --repo /backup/vdb --read-data-subset 10%%",
            "  blksnap backup migrate --repo /backup/vdb   # a repository of blksnap before format 2",
            "  blksnap backup run web1                # the job /etc/blksnap/jobs/web1.conf"})
public final class BackupCommand extends BaseCommand {
    @Override
    public Integer call() {
        throw new UsageException("missing command: create, list, restore, serve, mount, umount, verify, prune, "
                + "forget, check, migrate, key or run (see 'blksnap backup --help')");
    }
}
