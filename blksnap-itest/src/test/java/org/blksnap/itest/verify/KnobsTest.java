package org.blksnap.itest.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class KnobsTest {
    @Test
    void durationsReadAsMakeSoakTakesThem() {
        assertEquals(Duration.ofSeconds(90), Knobs.parseDuration("90"));
        assertEquals(Duration.ofSeconds(90), Knobs.parseDuration("90s"));
        assertEquals(Duration.ofMinutes(30), Knobs.parseDuration("30m"));
        assertEquals(Duration.ofHours(2), Knobs.parseDuration("2h"));
        assertEquals(Duration.ofDays(1), Knobs.parseDuration("1d"));
        assertThrows(IllegalArgumentException.class, () -> Knobs.parseDuration("2 hours"));
        assertThrows(IllegalArgumentException.class, () -> Knobs.parseDuration("-5m"));
    }

    @Test
    void theCiRunStopsAfterItsRoundsAndTheSoakAfterItsTime() {
        Knobs.Deadline ci = new Knobs(Duration.ZERO, Duration.ofMillis(1), 2, 1, 8).deadline(0.5);
        assertEquals(true, ci.more(1));
        assertEquals(false, ci.more(2));
        Knobs.Deadline over = new Knobs(Duration.ofNanos(1), Duration.ofMillis(1), 2, 1, 8).deadline(0.5);
        assertEquals(true, over.more(0), "a soak does at least one round");
        assertEquals(false, over.more(1));
    }
}
