package org.blksnap.cli.commands;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.BlkSnapException;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.SectorRange;
import org.blksnap.api.Snapshot;
import org.blksnap.cli.Converters;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code blksnap snapshot_create}. */
@Command(name = "snapshot_create", mixinStandardHelpOptions = true,
        description = {"Create a snapshot with its difference storage and print its id. Devices given with "
                + "--device are added to it (else use snapshot_add); take it with snapshot_take.",
            "The storage may be a regular file (grown as needed up to --limit), a directory (an unnamed "
                    + "file is made in it and vanishes with the snapshot) or a block device."},
        footer = {"", "Examples:",
            "  blksnap snapshot_create --device /dev/vdb --device /dev/vdc --file /var/tmp --limit 4G",
            "  blksnap snapshot_create -d /dev/vdb -f /dev/vdd -l 1G --json"})
public final class SnapshotCreateCommand extends BaseCommand {
    @Mixin
    JsonOption json;

    @Option(names = {"-d", "--device"}, arity = "1..*", paramLabel = "DEVICE",
            description = "Device to add; repeatable, several after one -d.")
    List<Path> devices = new ArrayList<>();

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE|DIR|DEVICE",
            description = "Difference storage: file, directory or block device.")
    Path file;

    @Option(names = {"-l", "--limit"}, required = true, paramLabel = "SIZE", converter = Converters.Size.class,
            description = "Most space the difference storage may use, with K, M, G or T suffix, e.g. 4G.")
    long limit;

    @Override
    public Integer call() throws Exception {
        try (BlkSnap blksnap = BlkSnap.open()) {
            Snapshot s = Snapshot.create(blksnap, DiffStorage.of(file), Math.ceilDiv(limit, SectorRange.SECTOR_SIZE));
            try {
                for (Path d : devices) {
                    s.add(d);
                }
            } catch (BlkSnapException | RuntimeException e) {
                // A half-built snapshot would hold its storage until someone
                // finds and destroys it: undo it here.
                try {
                    s.destroy();
                } catch (BlkSnapException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            if (json.json) {
                new Output(out(), true).print(Map.of("id", s.id().toString()));
            } else {
                out().println(s.id());
                out().flush();
            }
        }
        return 0;
    }
}
