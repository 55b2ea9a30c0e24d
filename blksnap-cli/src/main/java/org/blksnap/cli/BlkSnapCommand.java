package org.blksnap.cli;


import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The top-level {@code blksnap} command; its subcommands are in {@link CommandTree}. */
@Command(name = "blksnap",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        synopsisSubcommandLabel = "COMMAND",
        description = {
            "Point-in-time snapshots and change-block tracking of live Linux block devices, "
                    + "through the blksnap kernel module.",
            "",
            "Low-level commands keep the names and options of the upstream blksnap tool; "
                    + "'snapshot', 'backup' and 'status' are the everyday workflow."},
        footer = {
            "",
            "Examples:",
            "  blksnap status",
            "  blksnap snapshot --device /dev/vdb --storage /var/tmp --limit 4G -- \\",
            "      sh -c 'dd if=$BLKSNAP_IMAGE_0 of=/backup/vdb.img bs=1M'",
            "  blksnap cbtinfo --device /dev/vdb --json",
            "  blksnap backup create --device /dev/vdb --repo /backup/vdb",
            "  blksnap serve --device /dev/vdb",
            "  blksnap COMMAND --help"})
public final class BlkSnapCommand {
    /** Read by the error handler through the parse result. */
    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Print stack traces of errors and progress details.")
    boolean verbose;
}
