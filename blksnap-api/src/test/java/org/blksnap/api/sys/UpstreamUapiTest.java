package org.blksnap.api.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * module/include/uapi against upstream's current UAPI headers, field by
 * field. Upstream's values live in the tables below: they were worked out
 * by reading include/uapi/linux/blksnap.h and blk-filter.h of upstream's
 * patches for Linux 6.15 (veeam/blksnap, patches/lk6.15) and applying the
 * x86-64 C layout rules; no upstream text is in the tree. The project's
 * side is what gcc makes of our headers (AbiDump), so a change to either
 * side that breaks binary compatibility fails here.
 */
class UpstreamUapiTest {
    /** One member of an upstream struct: where it starts and how big it is. */
    private record Member(String struct, String name, long offset, long size) {
    }

    private static final Map<String, Long> UPSTREAM_STRUCT_SIZES = Map.ofEntries(
            Map.entry("blkfilter_attach", 48L),
            Map.entry("blkfilter_detach", 32L),
            Map.entry("blkfilter_ctl", 48L),
            Map.entry("blksnap_uuid", 16L),
            Map.entry("blksnap_cbtinfo", 40L),
            Map.entry("blksnap_cbtmap", 16L),
            Map.entry("blksnap_sectors", 16L),
            Map.entry("blksnap_cbtdirty", 16L),
            Map.entry("blksnap_snapshotadd", 16L),
            Map.entry("blksnap_snapshotinfo", 36L),
            Map.entry("blksnap_version", 8L),
            Map.entry("blksnap_snapshot_create", 32L),
            Map.entry("blksnap_snapshot_collect", 16L),
            Map.entry("blksnap_snapshot_event", 4096L),
            Map.entry("blksnap_event_corrupted", 12L),
            Map.entry("blksnap_event_no_space", 8L));

    private static final List<Member> UPSTREAM_MEMBERS = List.of(
            new Member("blkfilter_attach", "name", 0, 32),
            new Member("blkfilter_attach", "opt", 32, 8),
            new Member("blkfilter_attach", "optlen", 40, 4),
            new Member("blkfilter_detach", "name", 0, 32),
            new Member("blkfilter_ctl", "name", 0, 32),
            new Member("blkfilter_ctl", "cmd", 32, 4),
            new Member("blkfilter_ctl", "optlen", 36, 4),
            new Member("blkfilter_ctl", "opt", 40, 8),
            new Member("blksnap_uuid", "b", 0, 16),
            new Member("blksnap_cbtinfo", "device_capacity", 0, 8),
            new Member("blksnap_cbtinfo", "block_size", 8, 4),
            new Member("blksnap_cbtinfo", "block_count", 12, 4),
            new Member("blksnap_cbtinfo", "generation_id", 16, 16),
            new Member("blksnap_cbtinfo", "changes_number", 32, 1),
            new Member("blksnap_cbtmap", "offset", 0, 4),
            new Member("blksnap_cbtmap", "length", 4, 4),
            new Member("blksnap_cbtmap", "buffer", 8, 8),
            new Member("blksnap_sectors", "offset", 0, 8),
            new Member("blksnap_sectors", "count", 8, 8),
            new Member("blksnap_cbtdirty", "count", 0, 4),
            new Member("blksnap_cbtdirty", "dirty_sectors", 8, 8),
            new Member("blksnap_snapshotadd", "id", 0, 16),
            new Member("blksnap_snapshotinfo", "error_code", 0, 4),
            new Member("blksnap_snapshotinfo", "image", 4, 32),
            new Member("blksnap_version", "major", 0, 2),
            new Member("blksnap_version", "minor", 2, 2),
            new Member("blksnap_version", "revision", 4, 2),
            new Member("blksnap_version", "build", 6, 2),
            new Member("blksnap_snapshot_create", "diff_storage_limit_sect", 0, 8),
            new Member("blksnap_snapshot_create", "diff_storage_filename", 8, 8),
            new Member("blksnap_snapshot_create", "id", 16, 16),
            new Member("blksnap_snapshot_collect", "count", 0, 4),
            new Member("blksnap_snapshot_collect", "ids", 8, 8),
            new Member("blksnap_snapshot_event", "id", 0, 16),
            new Member("blksnap_snapshot_event", "timeout_ms", 16, 4),
            new Member("blksnap_snapshot_event", "code", 20, 4),
            new Member("blksnap_snapshot_event", "time_label", 24, 8),
            new Member("blksnap_snapshot_event", "data", 32, 4064),
            new Member("blksnap_event_corrupted", "dev_id_mj", 0, 4),
            new Member("blksnap_event_corrupted", "dev_id_mn", 4, 4),
            new Member("blksnap_event_corrupted", "err_code", 8, 4),
            new Member("blksnap_event_no_space", "requested_nr_sect", 0, 8));

    /** _IOWR(0x12, 142..144, ...) in upstream's fs.h; _IOR/_IOW/_IOWR('V', 0..5, ...) in blksnap.h. */
    private static final Map<String, Long> UPSTREAM_IOCTLS = Map.of(
            "BLKFILTER_ATTACH", 0xc030128eL,
            "BLKFILTER_DETACH", 0xc020128fL,
            "BLKFILTER_CTL", 0xc0301290L,
            "IOCTL_BLKSNAP_VERSION", 0x80085600L,
            "IOCTL_BLKSNAP_SNAPSHOT_CREATE", 0xc0205601L,
            "IOCTL_BLKSNAP_SNAPSHOT_DESTROY", 0x40105602L,
            "IOCTL_BLKSNAP_SNAPSHOT_TAKE", 0x40105603L,
            "IOCTL_BLKSNAP_SNAPSHOT_COLLECT", 0x80105604L,
            "IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT", 0x90005605L);

    /** Upstream's enumerators and numeric macros, under upstream's names. */
    private static final Map<String, Long> UPSTREAM_CONSTANTS = Map.ofEntries(
            Map.entry("BLKFILTER_NAME_LENGTH", 32L),
            Map.entry("IMAGE_DISK_NAME_LEN", 32L),
            Map.entry("BLKSNAP", (long) 'V'),
            Map.entry("BLKFILTER_CTL_BLKSNAP_CBTINFO", 0L),
            Map.entry("BLKFILTER_CTL_BLKSNAP_CBTMAP", 1L),
            Map.entry("BLKFILTER_CTL_BLKSNAP_CBTDIRTY", 2L),
            Map.entry("BLKFILTER_CTL_BLKSNAP_SNAPSHOTADD", 3L),
            Map.entry("BLKFILTER_CTL_BLKSNAP_SNAPSHOTINFO", 4L),
            Map.entry("BLKSNAP_IOCTL_VERSION", 0L),
            Map.entry("BLKSNAP_IOCTL_SNAPSHOT_CREATE", 1L),
            Map.entry("BLKSNAP_IOCTL_SNAPSHOT_DESTROY", 2L),
            Map.entry("BLKSNAP_IOCTL_SNAPSHOT_TAKE", 3L),
            Map.entry("BLKSNAP_IOCTL_SNAPSHOT_COLLECT", 4L),
            Map.entry("BLKSNAP_IOCTL_SNAPSHOT_WAIT_EVENT", 5L),
            Map.entry("blksnap_event_code_corrupted", 0L),
            Map.entry("blksnap_event_code_no_space", 1L));

    private static final Map<String, String> UPSTREAM_STRINGS = Map.of(
            "BLKSNAP_CTL", "blksnap-control",
            "BLKSNAP_IMAGE_NAME", "blksnap");

    private static AbiDump ours;

    @BeforeAll
    static void compileOurs() throws IOException, InterruptedException {
        ours = AbiDump.compileAndRun();
    }

    @Test
    void everyStructHasUpstreamsSize() {
        assertEquals(new TreeMap<>(UPSTREAM_STRUCT_SIZES), new TreeMap<>(ours.structs()));
    }

    @Test
    void everyMemberHasUpstreamsOffsetAndSize() {
        Map<String, List<Long>> upstream = new TreeMap<>();
        for (Member m : UPSTREAM_MEMBERS) {
            upstream.put(m.struct() + "." + m.name(), List.of(m.offset(), m.size()));
        }
        assertEquals(upstream, ours.fields());
    }

    @Test
    void everyIoctlHasUpstreamsNumber() {
        assertEquals(new TreeMap<>(UPSTREAM_IOCTLS), ours.ioctls());
    }

    @Test
    void upstreamsNamesHaveUpstreamsValues() {
        Map<String, Long> found = new TreeMap<>();
        UPSTREAM_CONSTANTS.keySet().forEach(name -> found.put(name, ours.consts().get(name)));
        assertEquals(new TreeMap<>(UPSTREAM_CONSTANTS), found);
        Map<String, String> strings = new TreeMap<>();
        UPSTREAM_STRINGS.keySet().forEach(name -> strings.put(name, ours.strings().get(name)));
        assertEquals(new TreeMap<>(UPSTREAM_STRINGS), strings);
    }
}
