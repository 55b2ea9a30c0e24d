package org.blksnap.api;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;

import org.blksnap.api.sys.Abi;

/** Decodes {@code struct blksnap_snapshot_event}. */
final class Events {
    private Events() {
    }

    static SnapshotEvent decode(MemorySegment e) {
        int code = e.get(JAVA_INT, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "code"));
        long time = e.get(JAVA_LONG, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "time_label"));
        long data = Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "data");
        return switch (code) {
            case Abi.EVENT_CODE_CORRUPTED -> new SnapshotEvent.Corrupted(
                    e.get(JAVA_INT, data + Abi.offset(Abi.BLKSNAP_EVENT_CORRUPTED, "dev_id_mj")),
                    e.get(JAVA_INT, data + Abi.offset(Abi.BLKSNAP_EVENT_CORRUPTED, "dev_id_mn")),
                    Math.abs(e.get(JAVA_INT, data + Abi.offset(Abi.BLKSNAP_EVENT_CORRUPTED, "err_code"))),
                    time);
            case Abi.EVENT_CODE_NO_SPACE -> new SnapshotEvent.NoSpace(
                    e.get(JAVA_LONG, data + Abi.offset(Abi.BLKSNAP_EVENT_NO_SPACE, "requested_nr_sect")), time);
            default -> new SnapshotEvent.Unknown(code, time);
        };
    }
}
