package org.blksnap.cli.commands;

import java.nio.file.Path;

import picocli.CommandLine.Option;

/** The required {@code -d/--device} of commands on one device. */
final class DeviceOption {
    @Option(names = {"-d", "--device"}, required = true, paramLabel = "DEVICE",
            description = "Block device, e.g. /dev/vdb or /dev/loop0p1.")
    Path device;
}
