package org.blksnap.api.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Compiles a C program against the project's UAPI headers with gcc and
 * checks that every size, offset, ioctl number and constant it prints equals
 * the Java side. gcc missing is a failure, not a skip. UpstreamUapiTest
 * compares the same output with upstream's headers.
 */
class AbiHeaderTest {
    private static AbiDump dump;

    @BeforeAll
    static void compileAndRun() throws IOException, InterruptedException {
        dump = AbiDump.compileAndRun();
    }

    @Test
    void everyStructHasTheHeadersSize() {
        Map<String, Long> java = new TreeMap<>();
        for (StructLayout s : Abi.ALL) {
            java.put(s.name().orElseThrow(), s.byteSize());
        }
        assertEquals(dump.structs(), java);
    }

    @Test
    void everyFieldHasTheHeadersOffsetAndSize() {
        Map<String, List<Long>> java = new TreeMap<>();
        for (StructLayout s : Abi.ALL) {
            for (MemoryLayout m : s.memberLayouts()) {
                if (m.name().isPresent()) {
                    String key = s.name().orElseThrow() + "." + m.name().get();
                    java.put(key, List.of(Abi.offset(s, m.name().get()), m.byteSize()));
                }
            }
        }
        assertEquals(dump.fields(), java);
    }

    @Test
    void everyIoctlNumberMatches() {
        assertEquals(dump.ioctls(), new TreeMap<>(Ioctl.all()));
    }

    @Test
    void ioctlNumbersAreTheUpstreamOnes() {
        // The values the upstream interface defines, written out so that a
        // change to the header itself is caught too.
        assertEquals(0xc030128eL, Ioctl.BLKFILTER_ATTACH);
        assertEquals(0xc020128fL, Ioctl.BLKFILTER_DETACH);
        assertEquals(0xc0301290L, Ioctl.BLKFILTER_CTL);
        assertEquals(0x80085600L, Ioctl.IOCTL_BLKSNAP_VERSION);
        assertEquals(0xc0205601L, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_CREATE);
        assertEquals(0x40105602L, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_DESTROY);
        assertEquals(0x40105603L, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_TAKE);
        assertEquals(0x80105604L, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_COLLECT);
        assertEquals(0x90005605L, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT);
    }

    @Test
    void constantsMatch() {
        assertEquals(dump.consts().get("BLKFILTER_NAME_LENGTH"), (long) Abi.BLKFILTER_NAME_LENGTH);
        assertEquals(dump.consts().get("IMAGE_DISK_NAME_LEN"), (long) Abi.IMAGE_DISK_NAME_LEN);
        assertEquals(dump.consts().get("blkfilter_ctl_blksnap_cbtinfo"), (long) Abi.CTL_CBTINFO);
        assertEquals(dump.consts().get("blkfilter_ctl_blksnap_cbtmap"), (long) Abi.CTL_CBTMAP);
        assertEquals(dump.consts().get("blkfilter_ctl_blksnap_cbtdirty"), (long) Abi.CTL_CBTDIRTY);
        assertEquals(dump.consts().get("blkfilter_ctl_blksnap_snapshotadd"), (long) Abi.CTL_SNAPSHOTADD);
        assertEquals(dump.consts().get("blkfilter_ctl_blksnap_snapshotinfo"), (long) Abi.CTL_SNAPSHOTINFO);
        assertEquals(dump.consts().get("blksnap_event_code_corrupted"), (long) Abi.EVENT_CODE_CORRUPTED);
        assertEquals(dump.consts().get("blksnap_event_code_no_space"), (long) Abi.EVENT_CODE_NO_SPACE);
        assertEquals(dump.consts().get("BLKSNAP_IOCTL_MAGIC"), (long) Ioctl.BLKSNAP_TYPE);
        assertEquals(dump.strings().get("BLKSNAP_FILTER_NAME"), Abi.FILTER_NAME);
        assertNotNull(dump.strings().get("BLKSNAP_CTL"));
        assertEquals("/dev/" + dump.strings().get("BLKSNAP_CTL"), Abi.CONTROL_DEVICE);
    }
}
