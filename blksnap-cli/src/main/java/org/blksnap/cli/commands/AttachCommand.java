package org.blksnap.cli.commands;

import org.blksnap.api.Filter;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap attach}. */
@Command(name = "attach", mixinStandardHelpOptions = true,
        description = {"Attach the blksnap filter to a block device: change tracking starts.",
            "Attaching an attached device is not an error (as with the upstream tool)."},
        footer = {"", "Examples:", "  blksnap attach --device /dev/vdb", "  blksnap attach -d /dev/loop0"})
public final class AttachCommand extends BaseCommand {
    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws Exception {
        try (Filter f = Filter.open(device.device)) {
            try {
                f.attach();
            } catch (org.blksnap.api.FilterAlreadyAttachedException already) {
                if (verbose()) {
                    note(device.device + ": already attached");
                }
            }
        }
        return 0;
    }
}
