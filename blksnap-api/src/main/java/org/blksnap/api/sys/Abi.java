package org.blksnap.api.sys;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.util.List;

/**
 * Every structure of the blksnap user ABI ({@code <linux/blk-filter.h>} and
 * {@code <linux/blksnap.h>}) as a {@link StructLayout}, declared once.
 *
 * <p>Layout and member names are those of the C header, so that a test can
 * compare them one by one with what gcc computes from the header. Padding
 * the C compiler inserts implicitly is spelled out here as unnamed padding.
 * Unsigned C fields use the signed Java layout of the same width; readers
 * widen them with {@code Integer.toUnsignedLong} and friends.
 */
public final class Abi {
    /** Name of the blksnap block device filter. */
    public static final String FILTER_NAME = "blksnap";
    /** Path of the module's control device. */
    public static final String CONTROL_DEVICE = "/dev/blksnap-control";
    /** Size of the filter name field, NUL padded. */
    public static final int BLKFILTER_NAME_LENGTH = 32;
    /** Size of the image name field of {@code blksnap_snapshotinfo}. */
    public static final int IMAGE_DISK_NAME_LEN = 32;
    /** Size of a snapshot or generation identifier. */
    public static final int UUID_SIZE = 16;

    /** {@code BLKFILTER_CTL} commands of the blksnap filter. */
    public static final int CTL_CBTINFO = 0;
    public static final int CTL_CBTMAP = 1;
    public static final int CTL_CBTDIRTY = 2;
    public static final int CTL_SNAPSHOTADD = 3;
    public static final int CTL_SNAPSHOTINFO = 4;

    /** Event codes of {@code blksnap_snapshot_event}. */
    public static final int EVENT_CODE_CORRUPTED = 0;
    public static final int EVENT_CODE_NO_SPACE = 1;

    public static final StructLayout BLKFILTER_ATTACH = structLayout(
            sequenceLayout(BLKFILTER_NAME_LENGTH, JAVA_BYTE).withName("name"),
            JAVA_LONG.withName("opt"),
            JAVA_INT.withName("optlen"),
            paddingLayout(4)).withName("blkfilter_attach");

    public static final StructLayout BLKFILTER_DETACH = structLayout(
            sequenceLayout(BLKFILTER_NAME_LENGTH, JAVA_BYTE).withName("name"))
            .withName("blkfilter_detach");

    public static final StructLayout BLKFILTER_CTL = structLayout(
            sequenceLayout(BLKFILTER_NAME_LENGTH, JAVA_BYTE).withName("name"),
            JAVA_INT.withName("cmd"),
            JAVA_INT.withName("optlen"),
            JAVA_LONG.withName("opt")).withName("blkfilter_ctl");

    public static final StructLayout BLKSNAP_UUID = structLayout(
            sequenceLayout(UUID_SIZE, JAVA_BYTE).withName("b")).withName("blksnap_uuid");

    public static final StructLayout BLKSNAP_CBTINFO = structLayout(
            JAVA_LONG.withName("device_capacity"),
            JAVA_INT.withName("block_size"),
            JAVA_INT.withName("block_count"),
            BLKSNAP_UUID.withName("generation_id"),
            JAVA_BYTE.withName("changes_number"),
            paddingLayout(7)).withName("blksnap_cbtinfo");

    public static final StructLayout BLKSNAP_CBTMAP = structLayout(
            JAVA_INT.withName("offset"),
            JAVA_INT.withName("length"),
            JAVA_LONG.withName("buffer")).withName("blksnap_cbtmap");

    public static final StructLayout BLKSNAP_SECTORS = structLayout(
            JAVA_LONG.withName("offset"),
            JAVA_LONG.withName("count")).withName("blksnap_sectors");

    public static final StructLayout BLKSNAP_CBTDIRTY = structLayout(
            JAVA_INT.withName("count"),
            paddingLayout(4),
            JAVA_LONG.withName("dirty_sectors")).withName("blksnap_cbtdirty");

    public static final StructLayout BLKSNAP_SNAPSHOTADD = structLayout(
            BLKSNAP_UUID.withName("id")).withName("blksnap_snapshotadd");

    public static final StructLayout BLKSNAP_SNAPSHOTINFO = structLayout(
            JAVA_INT.withName("error_code"),
            sequenceLayout(IMAGE_DISK_NAME_LEN, JAVA_BYTE).withName("image"))
            .withName("blksnap_snapshotinfo");

    public static final StructLayout BLKSNAP_VERSION = structLayout(
            JAVA_SHORT.withName("major"),
            JAVA_SHORT.withName("minor"),
            JAVA_SHORT.withName("revision"),
            JAVA_SHORT.withName("build")).withName("blksnap_version");

    public static final StructLayout BLKSNAP_SNAPSHOT_CREATE = structLayout(
            JAVA_LONG.withName("diff_storage_limit_sect"),
            JAVA_LONG.withName("diff_storage_filename"),
            BLKSNAP_UUID.withName("id")).withName("blksnap_snapshot_create");

    public static final StructLayout BLKSNAP_SNAPSHOT_COLLECT = structLayout(
            JAVA_INT.withName("count"),
            paddingLayout(4),
            JAVA_LONG.withName("ids")).withName("blksnap_snapshot_collect");

    /** Size of the whole event structure, fixed by the ABI. */
    public static final int SNAPSHOT_EVENT_SIZE = 4096;

    public static final StructLayout BLKSNAP_SNAPSHOT_EVENT = structLayout(
            BLKSNAP_UUID.withName("id"),
            JAVA_INT.withName("timeout_ms"),
            JAVA_INT.withName("code"),
            JAVA_LONG.withName("time_label"),
            sequenceLayout(SNAPSHOT_EVENT_SIZE - 32, JAVA_BYTE).withName("data"))
            .withName("blksnap_snapshot_event");

    public static final StructLayout BLKSNAP_EVENT_CORRUPTED = structLayout(
            JAVA_INT.withName("dev_id_mj"),
            JAVA_INT.withName("dev_id_mn"),
            JAVA_INT.withName("err_code")).withName("blksnap_event_corrupted");

    public static final StructLayout BLKSNAP_EVENT_NO_SPACE = structLayout(
            JAVA_LONG.withName("requested_nr_sect")).withName("blksnap_event_no_space");

    /** Every structure of the ABI, for exhaustive checks. */
    public static final List<StructLayout> ALL = List.of(
            BLKFILTER_ATTACH, BLKFILTER_DETACH, BLKFILTER_CTL,
            BLKSNAP_UUID, BLKSNAP_CBTINFO, BLKSNAP_CBTMAP, BLKSNAP_SECTORS, BLKSNAP_CBTDIRTY,
            BLKSNAP_SNAPSHOTADD, BLKSNAP_SNAPSHOTINFO, BLKSNAP_VERSION,
            BLKSNAP_SNAPSHOT_CREATE, BLKSNAP_SNAPSHOT_COLLECT, BLKSNAP_SNAPSHOT_EVENT,
            BLKSNAP_EVENT_CORRUPTED, BLKSNAP_EVENT_NO_SPACE);

    private Abi() {
    }

    /**
     * @param struct one of the layouts of this class
     * @param field  a member name as in the C header
     * @return the byte offset of the member
     */
    public static long offset(StructLayout struct, String field) {
        return struct.byteOffset(PathElement.groupElement(field));
    }
}
