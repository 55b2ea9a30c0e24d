package org.blksnap.cli.commands;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.blksnap.backup.engine.RestoreEngine;
import org.blksnap.backup.repo.ImageReader;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.blksnap.cli.UsageException;
import org.blksnap.nbd.Export;
import org.blksnap.nbd.RepositoryExport;

/**
 * The NBD exports of a backup's devices, read from the repository: each
 * device by the last part of its name ({@code /dev/vdb} is {@code vdb}).
 *
 * @param manifest the backup
 * @param byName   its exports
 */
record BackupExports(Manifest manifest, Map<String, Export> byName) {

    /**
     * @param repo     an open repository
     * @param backup   a backup id, or latest
     * @param device   the one device to export, or null for every device
     * @param warnings told of every chunk that could not be read
     * @return the exports
     * @throws IOException if the backup or device does not exist, or the repository cannot be read
     */
    static BackupExports open(Repository repo, String backup, String device, Consumer<String> warnings)
            throws IOException {
        List<String> skipped = new ArrayList<>();
        Manifest m = "latest".equals(backup) ? repo.latestManifest(skipped) : repo.manifest(backup);
        skipped.forEach(w -> warnings.accept("warning: " + w));
        List<Manifest.DeviceImage> devices = device == null ? m.devices()
                : List.of(RestoreEngine.select(m, device));
        Map<String, Export> byName = new LinkedHashMap<>();
        for (Manifest.DeviceImage d : devices) {
            String name = exportName(d);
            String description = "blksnap backup " + m.id() + " of " + d.name() + " (" + m.summary().started() + ")";
            Export old = byName.put(name, new RepositoryExport(new ImageReader(repo, d, ImageReader.DEFAULT_CACHE_CHUNKS),
                    description, warnings));
            if (old != null) {
                throw new UsageException("two devices of backup " + m.id() + " would both be exported as '" + name
                        + "': give --device");
            }
        }
        return new BackupExports(m, byName);
    }

    /**
     * @param d a device of a backup
     * @return its export name: the last part of its name
     */
    static String exportName(Manifest.DeviceImage d) {
        Path p = Path.of(d.name()).getFileName();
        return p == null ? "disk" : p.toString();
    }
}
