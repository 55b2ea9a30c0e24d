package org.blksnap.cli.commands;

import org.blksnap.api.SnapshotId;
import org.blksnap.cli.Converters;

import picocli.CommandLine.Option;

/** The required {@code -i/--id} of commands on one snapshot. */
final class IdOption {
    @Option(names = {"-i", "--id"}, required = true, paramLabel = "UUID", converter = Converters.Id.class,
            description = "Snapshot id, as printed by snapshot_create or snapshot_collect.")
    SnapshotId id;
}
