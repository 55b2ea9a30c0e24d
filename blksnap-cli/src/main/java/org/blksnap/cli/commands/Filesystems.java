package org.blksnap.cli.commands;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.blksnap.nbd.Export;

/**
 * Which file system a backed-up device holds, from its superblock, and the
 * options that mount it read-only without writing: a backup of a live file
 * system looks like one that crashed, and replaying its journal would write.
 */
final class Filesystems {
    private static final int EXT_MAGIC_OFFSET = 1080;
    private static final int PROBE = 4096;

    private Filesystems() {
    }

    /**
     * @param image the device
     * @return "ext4" (for ext2/3/4), "xfs", or null when mount(8) should find out
     * @throws IOException if the first bytes cannot be read
     */
    static String detect(Export image) throws IOException {
        if (image.size() < PROBE) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(PROBE);
        image.read(0, b);
        if (b.get(0) == 'X' && b.get(1) == 'F' && b.get(2) == 'S' && b.get(3) == 'B') {
            return "xfs";
        }
        if (b.get(EXT_MAGIC_OFFSET) == 0x53 && b.get(EXT_MAGIC_OFFSET + 1) == (byte) 0xef) {
            return "ext4";
        }
        return null;
    }

    /**
     * @param type what {@link #detect} said
     * @return the mount options
     */
    static String options(String type) {
        if ("ext4".equals(type)) {
            return "ro,noload";
        }
        if ("xfs".equals(type)) {
            // nouuid: the backed-up file system may be mounted as well, under the same UUID.
            return "ro,norecovery,nouuid";
        }
        return "ro";
    }
}
