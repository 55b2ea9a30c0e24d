package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When 'backup umount' may call a device free, read from a directory laid
 * out as the kernel's /sys/block/nbdN: the kernel drops the pid file and the
 * size only when the device's last opener closes it, some time after
 * NBD_DO_IT returned in the serving process.
 */
class KernelClientReleaseTest {
    private static final long OURS = 4242;

    @TempDir
    Path nbd;

    private void attached(long attacher, long sectors) throws Exception {
        Files.writeString(nbd.resolve("pid"), attacher + "\n");
        Files.writeString(nbd.resolve("size"), sectors + "\n");
    }

    @Test
    void theAttacherIsTheIdInThePidFile() throws Exception {
        assertEquals(OptionalLong.empty(), KernelClient.attacherIn(nbd));
        attached(OURS, 2048);
        assertEquals(OptionalLong.of(OURS), KernelClient.attacherIn(nbd));
    }

    @Test
    void aDeviceLetGoOfLaterIsWaitedFor() throws Exception {
        attached(OURS, 2048);
        Thread lastOpenerCloses = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(300);
                Files.writeString(nbd.resolve("size"), "0\n");
                Files.delete(nbd.resolve("pid"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(KernelClient.awaitReleasedIn(nbd, OURS, Duration.ofSeconds(30)), "released once the pid file went");
        lastOpenerCloses.join();
        assertFalse(Files.exists(nbd.resolve("pid")), "not before");
    }

    @Test
    void aDeviceStillHeldIsNotFree() throws Exception {
        attached(OURS, 2048);
        assertFalse(KernelClient.awaitReleasedIn(nbd, OURS, Duration.ofMillis(200)));
    }

    @Test
    void noPidFileButASizeIsNotFreeYet() throws Exception {
        Files.writeString(nbd.resolve("size"), "2048\n");
        assertFalse(KernelClient.awaitReleasedIn(nbd, OURS, Duration.ofMillis(200)));
    }

    @Test
    void anotherAttachmentOfTheSameDeviceMeansOursIsGone() throws Exception {
        attached(OURS + 1, 4096);
        assertTrue(KernelClient.awaitReleasedIn(nbd, OURS, Duration.ZERO));
    }
}
