package org.blksnap.cli.commands;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.blksnap.api.CbtMap;
import org.blksnap.api.Extent;
import org.blksnap.api.Filter;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;
import org.blksnap.cli.Texts;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code blksnap readcbtmap}. */
@Command(name = "readcbtmap", mixinStandardHelpOptions = true,
        description = {"Read the change tracking map of a device.",
            "With --file the raw map is written there: one byte per block, the changes number of the take "
                    + "before which the block last changed. Without --file the blocks changed after "
                    + "changes number --since are printed as merged byte extents."},
        footer = {"", "Examples:", "  blksnap readcbtmap --device /dev/vdb --file /tmp/vdb.cbt",
            "  blksnap readcbtmap -d /dev/vdb --since 3", "  blksnap readcbtmap -d /dev/vdb --since 3 --json"})
public final class ReadCbtMapCommand extends BaseCommand {
    @Mixin
    DeviceOption device;
    @Mixin
    JsonOption json;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Write the raw map to FILE.")
    Path file;

    @Option(names = "--since", paramLabel = "N", defaultValue = "0",
            description = "List blocks whose changes number is greater than N (default: ${DEFAULT-VALUE}).")
    int since;

    @Override
    public Integer call() throws Exception {
        if (since < 0 || since > 255) {
            throw new IllegalArgumentException("--since must be between 0 and 255, not " + since);
        }
        CbtMap map;
        try (Filter f = Filter.open(device.device)) {
            map = CbtMap.read(f);
        }
        if (file != null) {
            Files.write(file, map.bytes());
            if (!json.json) {
                return 0;
            }
        }
        List<Extent> extents = map.changedExtents(since);
        Output output = new Output(out(), json.json);
        if (json.json) {
            Map<String, Object> m = Texts.cbtInfo(map.info());
            m.put("since", since);
            m.put("changed_bytes", extents.stream().mapToLong(Extent::length).sum());
            List<Map<String, Object>> list = new ArrayList<>();
            for (Extent e : extents) {
                Map<String, Object> x = Output.record();
                x.put("offset", e.offset());
                x.put("length", e.length());
                list.add(x);
            }
            m.put("extents", list);
            output.print(m);
        } else {
            List<Map<String, Object>> list = new ArrayList<>();
            for (Extent e : extents) {
                Map<String, Object> x = Output.record();
                x.put("offset", e.offset());
                x.put("length", e.length());
                list.add(x);
            }
            output.printList("extent", list);
        }
        return 0;
    }
}
