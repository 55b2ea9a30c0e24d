package org.blksnap.cli.commands;

import java.util.Map;

import org.blksnap.api.Filter;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;
import org.blksnap.cli.Texts;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code blksnap snapshot_info}. */
@Command(name = "snapshot_info", mixinStandardHelpOptions = true,
        description = {"Print the snapshot state of a device: error_code (0, or the negative errno that broke "
                + "the snapshot) and image (the snapshot image device; empty before the take, and for a device in "
                + "no snapshot)."},
        footer = {"", "Examples:", "  blksnap snapshot_info --device /dev/vdb",
            "  blksnap snapshot_info -d /dev/vdb --field image", "  blksnap snapshot_info -d /dev/vdb -j"})
public final class SnapshotInfoCommand extends BaseCommand {
    /** The fields --field may select. */
    public enum Field { image, error_code }

    @Mixin
    DeviceOption device;
    @Mixin
    JsonOption json;

    @Option(names = "--field", paramLabel = "FIELD",
            description = "Print only this field's value: ${COMPLETION-CANDIDATES}.")
    Field field;

    @Override
    public Integer call() throws Exception {
        Map<String, Object> info;
        try (Filter f = Filter.open(device.device)) {
            info = Texts.snapshotInfo(f.snapshotInfo());
        }
        if (field != null && !json.json) {
            out().println(info.get(field.name()));
            out().flush();
        } else if (field != null) {
            new Output(out(), true).print(Map.of(field.name(), info.get(field.name())));
        } else {
            new Output(out(), json.json).print(info);
        }
        return 0;
    }
}
