package org.blksnap.cli.commands;

import org.blksnap.api.Filter;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;
import org.blksnap.cli.Texts;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap cbtinfo}. */
@Command(name = "cbtinfo", mixinStandardHelpOptions = true,
        description = {"Print the change tracker state of a device: block size and count, capacity, "
                + "generation id and changes number.",
            "A new generation id means the map is not comparable with older ones: a full backup is due."},
        footer = {"", "Examples:", "  blksnap cbtinfo --device /dev/vdb",
            "  blksnap cbtinfo -d /dev/vdb -j | jq .changes_number"})
public final class CbtInfoCommand extends BaseCommand {
    @Mixin
    DeviceOption device;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws Exception {
        try (Filter f = Filter.open(device.device)) {
            new Output(out(), json.json).print(Texts.cbtInfo(f.cbtInfo()));
        }
        return 0;
    }
}
