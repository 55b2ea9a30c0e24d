package org.blksnap.cli.commands;

import java.nio.file.Path;
import java.util.List;

import org.blksnap.api.FileExtents;
import org.blksnap.api.Filter;
import org.blksnap.api.SectorRange;
import org.blksnap.cli.Converters;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code blksnap markdirtyblock}. */
@Command(name = "markdirtyblock", mixinStandardHelpOptions = true,
        description = {"Mark sectors of a device as changed, so the next incremental backup reads them.",
            "Either give the device and its sector ranges, or a file: its device and the sectors it "
                    + "occupies are found with FIEMAP."},
        footer = {"", "Examples:", "  blksnap markdirtyblock --device /dev/vdb --range 0:8 --range 2048:16",
            "  blksnap markdirtyblock -d /dev/vdb --range 0:8 2048:16",
            "  blksnap markdirtyblock --file /mnt/data/db.sqlite"})
public final class MarkDirtyBlockCommand extends BaseCommand {

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE",
                description = "Mark the sectors this file occupies on its device.")
        Path file;

        @ArgGroup(exclusive = false)
        DeviceRanges device;
    }

    static final class DeviceRanges {
        @Option(names = {"-d", "--device"}, required = true, paramLabel = "DEVICE", description = "Block device.")
        Path device;

        @Option(names = "--range", required = true, arity = "1..*", paramLabel = "SECTOR:COUNT",
                converter = Converters.Range.class,
                description = "Sector range in 512-byte sectors; repeatable, several after one --range.")
        List<SectorRange> ranges;
    }

    @Override
    public Integer call() throws Exception {
        Path dev;
        List<SectorRange> ranges;
        if (target.file != null) {
            FileExtents fe = FileExtents.of(target.file);
            dev = fe.device();
            ranges = fe.ranges();
            if (verbose()) {
                note(target.file + " lies on " + dev + " in " + ranges.size() + " ranges");
            }
        } else {
            dev = target.device.device;
            ranges = target.device.ranges;
        }
        try (Filter f = Filter.open(dev)) {
            f.markDirty(ranges);
        }
        return 0;
    }
}
