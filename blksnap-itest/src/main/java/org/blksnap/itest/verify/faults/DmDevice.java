package org.blksnap.itest.verify.faults;

import java.io.IOException;
import java.nio.file.Path;

import org.blksnap.itest.support.Shell;

/**
 * A device-mapper device made with dmsetup. The guest runs no udev, so
 * there is no /dev/mapper link: the device is used through the /dev/dm-N
 * node devtmpfs makes. Closing removes it if a test has not already.
 */
final class DmDevice implements AutoCloseable {
    private final String name;
    private final Path node;

    private DmDevice(String name, Path node) {
        this.name = name;
        this.node = node;
    }

    static DmDevice create(String name, String table) throws IOException {
        Shell.sh("dmsetup", "create", name, "--table", table);
        String dm = Shell.sh("dmsetup", "info", "-c", "--noheadings", "-o", "blkdevname", name);
        return new DmDevice(name, Path.of("/dev", dm));
    }

    Path node() {
        return node;
    }

    /** Swaps the table atomically (suspend, load, resume). */
    void reload(String table) throws IOException {
        Shell.sh("dmsetup", "suspend", name);
        Shell.sh("dmsetup", "load", name, "--table", table);
        Shell.sh("dmsetup", "resume", name);
    }

    /** dmsetup remove: the disk goes away as on a hot unplug. */
    void remove() throws IOException {
        Shell.sh("dmsetup", "remove", name);
    }

    @Override
    public void close() throws IOException {
        if (Shell.run("dmsetup", "info", name).ok()) {
            Shell.sh("dmsetup", "remove", "--retry", name);
        }
    }
}
