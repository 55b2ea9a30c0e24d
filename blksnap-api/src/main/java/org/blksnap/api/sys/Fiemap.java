package org.blksnap.api.sys;

import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.StructLayout;

/**
 * {@code FS_IOC_FIEMAP} of {@code <linux/fiemap.h>}: where a file's data
 * lies on its block device. Used to mark a file's blocks dirty in the CBT
 * map ({@code blksnap markdirtyblock --file}).
 */
public final class Fiemap {
    /** Flush dirty data before mapping, so delayed allocations are placed. */
    public static final int FIEMAP_FLAG_SYNC = 0x1;
    /** The extent is the last of the file. */
    public static final int FIEMAP_EXTENT_LAST = 0x1;
    /** Location not known yet (delayed allocation). */
    public static final int FIEMAP_EXTENT_UNKNOWN = 0x2;
    /** Data not block aligned: stored inline or in a tail. */
    public static final int FIEMAP_EXTENT_NOT_ALIGNED = 0x100;
    /** Data encoded (compressed, encrypted): its location is not its bytes. */
    public static final int FIEMAP_EXTENT_ENCODED = 0x8;

    public static final StructLayout FIEMAP_EXTENT = structLayout(
            JAVA_LONG.withName("fe_logical"),
            JAVA_LONG.withName("fe_physical"),
            JAVA_LONG.withName("fe_length"),
            sequenceLayout(2, JAVA_LONG).withName("fe_reserved64"),
            JAVA_INT.withName("fe_flags"),
            sequenceLayout(3, JAVA_INT).withName("fe_reserved")).withName("fiemap_extent");

    /** The header; {@code fm_extents[]} follows it. */
    public static final StructLayout FIEMAP = structLayout(
            JAVA_LONG.withName("fm_start"),
            JAVA_LONG.withName("fm_length"),
            JAVA_INT.withName("fm_flags"),
            JAVA_INT.withName("fm_mapped_extents"),
            JAVA_INT.withName("fm_extent_count"),
            JAVA_INT.withName("fm_reserved")).withName("fiemap");

    /** {@code _IOWR('f', 11, struct fiemap)}. */
    public static final long FS_IOC_FIEMAP = Ioctl.iowr('f', 11, FIEMAP.byteSize());

    private Fiemap() {
    }
}
