package org.blksnap.cli;

import java.util.Map;

import org.blksnap.api.CbtInfo;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.api.SnapshotInfo;
import org.blksnap.api.Version;
import org.blksnap.api.sys.Errno;

/** The fields printed for each kind of result, shared by text and JSON output. */
public final class Texts {
    private Texts() {
    }

    /** @param v version @return its fields */
    public static Map<String, Object> version(Version v) {
        Map<String, Object> m = Output.record();
        m.put("version", v.toString());
        m.put("major", v.major());
        m.put("minor", v.minor());
        m.put("revision", v.revision());
        m.put("build", v.build());
        return m;
    }

    /** @param i tracker state @return its fields, in the upstream tool's order */
    public static Map<String, Object> cbtInfo(CbtInfo i) {
        Map<String, Object> m = Output.record();
        m.put("block_size", i.blockSize());
        m.put("device_capacity", i.capacityBytes());
        m.put("block_count", i.blockCount());
        m.put("generation_id", i.generationId().toString());
        m.put("changes_number", i.changesNumber());
        return m;
    }

    /** @param i snapshot state @return its fields */
    public static Map<String, Object> snapshotInfo(SnapshotInfo i) {
        Map<String, Object> m = Output.record();
        m.put("error_code", i.errorCode());
        m.put("image", i.imagePath().map(Object::toString).orElse(""));
        return m;
    }

    /** @param e an event @return its fields */
    public static Map<String, Object> event(SnapshotEvent e) {
        Map<String, Object> m = Output.record();
        m.put("result", "ok");
        m.put("time", e.timeLabel());
        switch (e) {
            case SnapshotEvent.Corrupted c -> {
                m.put("event", "corrupted");
                m.put("device", c.major() + ":" + c.minor());
                m.put("error", Errno.name(c.errno()));
                m.put("err_code", -c.errno());
            }
            case SnapshotEvent.NoSpace n -> {
                m.put("event", "no_space");
                m.put("requested_nr_sect", n.requestedSectors());
            }
            case SnapshotEvent.Unknown u -> m.put("event", u.code());
        }
        return m;
    }

    /** @param e an event @return one human line */
    public static String describe(SnapshotEvent e) {
        return switch (e) {
            case SnapshotEvent.Corrupted c -> "snapshot corrupted on device " + c.major() + ":" + c.minor()
                    + " (" + Errno.name(c.errno()) + "): its image is no longer valid";
            case SnapshotEvent.NoSpace n -> "difference storage full (wanted " + n.requestedSectors()
                    + " more sectors): raise --limit or use a bigger storage";
            case SnapshotEvent.Unknown u -> "event " + u.code();
        };
    }
}
