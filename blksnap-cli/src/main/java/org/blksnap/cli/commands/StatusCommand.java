package org.blksnap.cli.commands;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.BlkSnapException;
import org.blksnap.api.CbtInfo;
import org.blksnap.api.Filter;
import org.blksnap.api.FilterNotAttachedException;
import org.blksnap.api.ModuleNotLoadedException;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.SnapshotInfo;
import org.blksnap.api.Sizes;
import org.blksnap.api.Version;
import org.blksnap.api.sys.Errno;
import org.blksnap.cli.ExitCodes;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code blksnap status}. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show the module version, every device with the blksnap filter attached (CBT state, "
                + "snapshot image and error) and the snapshots."},
        footer = {"", "Examples:", "  blksnap status", "  blksnap status --json"})
public final class StatusCommand extends BaseCommand {
    private static final Path SYS_BLOCK = Path.of("/sys/class/block");

    @Mixin
    JsonOption json;

    /** One attached device. */
    record Row(String device, long capacity, int blockSize, int blockCount, String generation, int changes,
               String image, int error) {
    }

    @Override
    public Integer call() throws Exception {
        Version version;
        List<SnapshotId> snapshots;
        try (BlkSnap blksnap = BlkSnap.open()) {
            version = blksnap.version();
            snapshots = blksnap.collect();
        } catch (ModuleNotLoadedException e) {
            if (json.json) {
                Map<String, Object> m = Output.record();
                m.put("module", null);
                m.put("error", e.getMessage());
                new Output(out(), true).print(m);
            } else {
                out().println("module     not loaded (modprobe blksnap)");
                out().flush();
            }
            return ExitCodes.MODULE_NOT_LOADED;
        }
        List<Row> rows = attachedDevices();
        if (json.json) {
            printJson(version, rows, snapshots);
        } else {
            printTable(version, rows, snapshots);
        }
        return 0;
    }

    private List<Row> attachedDevices() throws BlkSnapException {
        Map<String, Row> rows = new TreeMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(SYS_BLOCK)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                Path dev = Path.of("/dev", name);
                if (name.startsWith("blksnap-") || !Files.exists(dev) || sectors(entry) == 0) {
                    continue;
                }
                try (Filter f = Filter.open(dev)) {
                    CbtInfo info = f.cbtInfo();
                    SnapshotInfo snap = snapshotInfo(f);
                    rows.put(name, new Row(dev.toString(), info.capacityBytes(), info.blockSize(),
                            info.blockCount(), info.generationId().toString(), info.changesNumber(),
                            snap.imagePath().map(Path::toString).orElse(""), snap.errorCode()));
                } catch (FilterNotAttachedException notAttached) {
                    continue;
                }
            }
        } catch (IOException e) {
            throw new BlkSnapException("cannot list block devices in " + SYS_BLOCK + ": " + e.getMessage(), 0);
        }
        return new ArrayList<>(rows.values());
    }

    private static SnapshotInfo snapshotInfo(Filter f) {
        try {
            return f.snapshotInfo();
        } catch (BlkSnapException notInSnapshot) {
            return new SnapshotInfo(0, "");
        }
    }

    private static long sectors(Path sysEntry) {
        try {
            return Long.parseLong(Files.readString(sysEntry.resolve("size")).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    private void printJson(Version version, List<Row> rows, List<SnapshotId> snapshots) {
        Map<String, Object> m = Output.record();
        m.put("module", version.toString());
        List<Map<String, Object>> devs = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> d = Output.record();
            d.put("device", r.device());
            d.put("device_capacity", r.capacity());
            d.put("block_size", r.blockSize());
            d.put("block_count", r.blockCount());
            d.put("generation_id", r.generation());
            d.put("changes_number", r.changes());
            d.put("image", r.image());
            d.put("error_code", r.error());
            devs.add(d);
        }
        m.put("devices", devs);
        m.put("snapshots", snapshots.stream().map(SnapshotId::toString).toList());
        new Output(out(), true).print(m);
    }

    private void printTable(Version version, List<Row> rows, List<SnapshotId> snapshots) {
        var o = out();
        o.println("module     blksnap " + version);
        o.println();
        if (rows.isEmpty()) {
            o.println("no device has the blksnap filter attached (blksnap attach --device DEVICE)");
        } else {
            List<String[]> table = new ArrayList<>();
            table.add(new String[] {"DEVICE", "SIZE", "BLOCK", "BLOCKS", "CHANGES", "GENERATION", "IMAGE", "ERROR"});
            for (Row r : rows) {
                table.add(new String[] {r.device(), Sizes.format(r.capacity()), Sizes.format(r.blockSize()),
                    String.valueOf(r.blockCount()), String.valueOf(r.changes()), r.generation(),
                    r.image().isEmpty() ? "-" : r.image(),
                    r.error() == 0 ? "-" : Errno.name(-r.error())});
            }
            printColumns(table);
        }
        o.println();
        if (snapshots.isEmpty()) {
            o.println("no snapshots");
        } else {
            o.println("SNAPSHOT");
            snapshots.forEach(o::println);
        }
        o.flush();
    }

    private void printColumns(List<String[]> table) {
        int[] width = new int[table.getFirst().length];
        for (String[] row : table) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : table) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == row.length - 1 ? row[i] : String.format("%-" + (width[i] + 2) + "s", row[i]));
            }
            out().println(line.toString().stripTrailing());
        }
    }
}
