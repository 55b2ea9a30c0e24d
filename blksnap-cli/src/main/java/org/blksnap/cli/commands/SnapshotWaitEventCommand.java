package org.blksnap.cli.commands;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.cli.Converters;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;
import org.blksnap.cli.Texts;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code blksnap snapshot_waitevent}. */
@Command(name = "snapshot_waitevent", mixinStandardHelpOptions = true,
        description = {"Wait for one event of a snapshot and print it: result=ok with the event, or "
                + "result=timeout."},
        footer = {"", "Examples:", "  blksnap snapshot_waitevent --id $id --timeout 1000",
            "  blksnap snapshot_waitevent -i $id -t 0 -j"})
public final class SnapshotWaitEventCommand extends BaseCommand {
    @Mixin
    IdOption id;
    @Mixin
    JsonOption json;

    @Option(names = {"-t", "--timeout"}, required = true, paramLabel = "MILLISECONDS",
            converter = Converters.Millis.class, description = "How long to wait for an event.")
    long timeout;

    @Override
    public Integer call() throws Exception {
        Optional<SnapshotEvent> e;
        try (BlkSnap blksnap = BlkSnap.open()) {
            e = blksnap.waitEvent(id.id, Duration.ofMillis(timeout));
        }
        Map<String, Object> m = e.map(Texts::event).orElseGet(() -> {
            Map<String, Object> t = Output.record();
            t.put("result", "timeout");
            return t;
        });
        new Output(out(), json.json).print(m);
        return 0;
    }
}
