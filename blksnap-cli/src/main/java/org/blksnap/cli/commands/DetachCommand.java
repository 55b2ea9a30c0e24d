package org.blksnap.cli.commands;

import org.blksnap.api.Filter;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap detach}. */
@Command(name = "detach", mixinStandardHelpOptions = true,
        description = "Detach the blksnap filter from a block device: tracking stops and its CBT map is dropped.",
        footer = {"", "Examples:", "  blksnap detach --device /dev/vdb"})
public final class DetachCommand extends BaseCommand {
    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws Exception {
        try (Filter f = Filter.open(device.device)) {
            f.detach();
        }
        return 0;
    }
}
