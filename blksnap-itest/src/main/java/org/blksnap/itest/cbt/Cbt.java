package org.blksnap.itest.cbt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.blksnap.api.BlkSnapException;
import org.blksnap.api.CbtInfo;
import org.blksnap.api.CbtMap;
import org.blksnap.api.Filter;
import org.blksnap.api.SectorRange;
import org.blksnap.api.sys.Errno;

/**
 * One-shot filter calls that do not keep the device open: an open
 * descriptor would defer {@code losetup -d} and keep devices busy.
 */
final class Cbt {
    private Cbt() {
    }

    static void attach(Path device) throws IOException {
        try (Filter f = Filter.open(device)) {
            f.attach();
        }
    }

    static void detach(Path device) throws IOException {
        try (Filter f = Filter.open(device)) {
            f.detach();
        }
    }

    /** Cleanup: detaches if attached; a device that is gone is fine too. */
    static void detachQuietly(Path device) throws IOException {
        if (!Files.exists(device)) {
            return;
        }
        try (Filter f = Filter.open(device)) {
            f.detach();
        } catch (BlkSnapException e) {
            if (e.errno() != Errno.ENOENT && e.errno() != Errno.ENXIO && e.errno() != Errno.ENODEV) {
                throw e;
            }
        }
    }

    static CbtInfo info(Path device) throws IOException {
        try (Filter f = Filter.open(device)) {
            return f.cbtInfo();
        }
    }

    /** The map, consistent with one state of the tracker even while the device is resized. */
    static byte[] map(Path device) throws IOException {
        try (Filter f = Filter.open(device)) {
            return CbtMap.read(f).bytes();
        }
    }

    static void markDirty(Path device, List<SectorRange> ranges) throws IOException {
        try (Filter f = Filter.open(device)) {
            f.markDirty(ranges);
        }
    }

    /** Value of a blksnap module parameter. */
    static long param(String name) throws IOException {
        return Long.parseLong(Files.readString(Path.of("/sys/module/blksnap/parameters", name)).strip());
    }

    /** Block size the tracker must choose for a capacity, per the module parameters. */
    static long expectedBlockSize(long capacityBytes) throws IOException {
        long shift = param("tracking_block_minimum_shift");
        long maxShift = param("tracking_block_maximum_shift");
        long maxCount = param("tracking_block_maximum_count");
        while (shift < maxShift && Math.ceilDiv(capacityBytes, 1L << shift) > maxCount) {
            shift++;
        }
        return 1L << shift;
    }

    /** Human-readable list of the blocks where two maps differ, for assertion messages. */
    static String diff(byte[] expected, byte[] actual) {
        StringBuilder sb = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < Math.min(expected.length, actual.length) && shown < 20; i++) {
            if (expected[i] != actual[i]) {
                sb.append(" block ").append(i).append(": expected ").append(expected[i] & 0xff)
                        .append(" got ").append(actual[i] & 0xff).append(';');
                shown++;
            }
        }
        if (expected.length != actual.length) {
            sb.append(" lengths ").append(expected.length).append(" vs ").append(actual.length);
        }
        return sb.toString();
    }
}
