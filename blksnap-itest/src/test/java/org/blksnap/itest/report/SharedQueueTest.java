package org.blksnap.itest.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.launcher.core.LauncherFactory;

class SharedQueueTest {
    @TempDir
    Path claims;

    @Test
    void aClassIsClaimedOnce() throws Exception {
        assertTrue(SharedQueue.claim(claims, "a.BIT"));
        assertFalse(SharedQueue.claim(claims, "a.BIT"), "a second guest must not run it again");
        assertTrue(Files.isDirectory(claims.resolve("a.BIT")));
    }

    @Test
    void theLongClassesComeFirstAndUnknownNamesAreDropped() {
        List<String> order = SharedQueue.order(Set.of("a.AIT", "a.BIT", "a.CIT"), List.of("a.CIT", "gone.XIT"));
        assertEquals(List.of("a.CIT", "a.AIT", "a.BIT"), order);
    }

    /** Two queues over one directory: each class runs in exactly one of them. */
    @Test
    void twoGuestsSplitTheClasses() throws Exception {
        List<String> order = List.of(Sample.class.getName(), Other.class.getName());
        Files.createDirectory(claims.resolve(Other.class.getName()));
        var buf = new ByteArrayOutputStream();
        boolean green = SharedQueue.run(LauncherFactory.create(), claims, order, "g1",
                new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(green, out);
        assertTrue(out.contains("g1: " + Sample.class.getName() + ": 1 tests, 1 passed"), out);
        assertFalse(out.contains("g1: " + Other.class.getName() + ":"), out);
        assertTrue(out.contains("ran 1 of 2 classes"), out);
    }

    @Test
    void aFailedTestFailsTheGuest() throws Exception {
        var buf = new ByteArrayOutputStream();
        boolean green = SharedQueue.run(LauncherFactory.create(), claims, List.of(Failing.class.getName()), "g2",
                new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertFalse(green, out);
        assertTrue(out.contains("g2:   FAILED fails()"), out);
        assertTrue(out.contains("failed: " + Failing.class.getName()), out);
    }

    static class Sample {
        @Test
        void passes() {
        }
    }

    static class Other {
        @Test
        void wouldFail() {
            throw new AssertionError("ran in the wrong guest");
        }
    }

    static class Failing {
        @Test
        void fails() {
            throw new AssertionError("expected");
        }
    }
}
