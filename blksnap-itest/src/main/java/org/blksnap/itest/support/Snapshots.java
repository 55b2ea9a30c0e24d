package org.blksnap.itest.support;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.api.SnapshotId;

/** The module's snapshot list, for tests that must leave none behind. */
public final class Snapshots {
    private Snapshots() {
    }

    public static List<SnapshotId> list() throws IOException {
        try (BlkSnap blksnap = BlkSnap.open()) {
            return blksnap.collect();
        }
    }

    /** Destroys whatever a failed test left behind, so it cannot break the next one. */
    public static void destroyAll() throws IOException {
        try (BlkSnap blksnap = BlkSnap.open()) {
            for (SnapshotId id : blksnap.collect()) {
                blksnap.destroy(id);
            }
        }
    }

    /**
     * The snapshot's events, read until each of wanted matched one of them or
     * none came for 2 s. Stopping at the last wanted event instead of always
     * waiting out the 2 s of silence saves that wait in every passing run; a
     * missing event still ends the read after the same silence.
     */
    public static List<SnapshotEvent> eventsUntil(BlkSnap blksnap, SnapshotId id,
            List<Predicate<SnapshotEvent>> wanted) throws IOException {
        List<SnapshotEvent> events = new ArrayList<>();
        while (!wanted.stream().allMatch(w -> events.stream().anyMatch(w))) {
            Optional<SnapshotEvent> e = blksnap.waitEvent(id, Duration.ofSeconds(2));
            if (e.isEmpty()) {
                break;
            }
            events.add(e.get());
        }
        return events;
    }
}
