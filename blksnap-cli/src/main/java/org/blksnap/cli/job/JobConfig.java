package org.blksnap.cli.job;

import java.util.List;

/**
 * A backup job as written in {@code /etc/blksnap/jobs/NAME.conf} (TOML,
 * snake_case keys). Values are kept as written; {@link JobFile} checks them
 * with the same rules as the command line's options.
 *
 * @param devices         block devices, snapshotted together (required)
 * @param repository      a directory or s3:... (required)
 * @param passwordFile    a file whose first line is the repository's password
 * @param keyFile         a key file instead of a password
 * @param passwordCommand a command printing the password
 * @param encryption      for a new repository: aes-256-gcm (default) or none
 * @param tag             a label for the job's backups
 * @param lockWait        how long each step waits for the repository (default 10m)
 * @param schedule        when the timer runs the job (systemd OnCalendar, default daily)
 * @param storage         the snapshot's difference storage
 * @param hooks           application-consistency hooks
 * @param retention       what prune keeps after a successful backup; none: no prune
 * @param check           the check after prune; none: no check
 */
public record JobConfig(List<String> devices, String repository, String passwordFile, String keyFile,
        String passwordCommand, String encryption, String tag, String lockWait, String schedule, Storage storage,
        Hooks hooks, Retention retention, Check check) {

    /**
     * @param path  directory, file or block device (default: /var/tmp)
     * @param limit most space it may take, e.g. 4G (default: 10 % of the devices)
     */
    public record Storage(String path, String limit) {
    }

    /**
     * @param dir     the hooks directory (default /etc/blksnap/hooks.d, if it exists)
     * @param timeout per hook, e.g. 60s
     * @param failure abort or ignore
     */
    public record Hooks(String dir, String timeout, String failure) {
    }

    /**
     * The rules of 'backup prune'. A count is a number or "unlimited".
     *
     * @param keepLast    the N newest
     * @param keepHourly  one per hour, N hours
     * @param keepDaily   one per day
     * @param keepWeekly  one per ISO week
     * @param keepMonthly one per month
     * @param keepYearly  one per year
     * @param keepWithin  every backup within the span of the newest, e.g. 2w
     * @param groupBy     device, device-tags or none
     * @param maxUnused   prune's --max-unused: unused pack space to tolerate (5%, 500M or unlimited)
     */
    public record Retention(String keepLast, String keepHourly, String keepDaily, String keepWeekly,
            String keepMonthly, String keepYearly, String keepWithin, String groupBy, String maxUnused) {
    }

    /**
     * @param readData       read every chunk
     * @param readDataSubset read the chunks of this share of the packs, e.g. 5%
     */
    public record Check(Boolean readData, String readDataSubset) {
    }
}
