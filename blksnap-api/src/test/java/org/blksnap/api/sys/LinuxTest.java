package org.blksnap.api.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

/** The raw calls report errno exactly and never throw for a failed call. */
class LinuxTest {
    private static final long FIONREAD = 0x541B;

    @Test
    void openOfMissingFileGivesEnoent() {
        SysResult r = Linux.open("/nonexistent/blksnap-test", Linux.O_RDONLY);
        assertFalse(r.ok());
        assertEquals(Errno.ENOENT, r.errno());
        assertEquals(-1, r.value());
    }

    @Test
    void openIoctlClose() {
        SysResult fd = Linux.open("/dev/null", Linux.O_RDONLY | Linux.O_CLOEXEC);
        assertTrue(fd.ok(), fd::toString);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocate(ValueLayout.JAVA_INT);
            // /dev/null is no tty: the terminal ioctl reports ENOTTY.
            SysResult bad = Linux.ioctl(fd.intValue(), 0x5401, n);
            assertEquals(Errno.ENOTTY, bad.errno());
            SysResult unknown = Linux.ioctl(fd.intValue(), Ioctl.IOCTL_BLKSNAP_VERSION, n);
            assertEquals(Errno.ENOTTY, unknown.errno());
        }
        assertTrue(Linux.close(fd.intValue()).ok());
        assertEquals(Errno.EBADF, Linux.close(fd.intValue()).errno());
    }

    @Test
    void badPointerGivesEfault() throws Exception {
        // A pipe answers FIONREAD by writing an int to the argument: an
        // unmapped address must come back as EFAULT, not crash the JVM.
        java.nio.file.Path tmp = java.nio.file.Files.createTempFile("blksnap", ".fifo");
        java.nio.file.Files.delete(tmp);
        assertEquals(0, new ProcessBuilder("mkfifo", tmp.toString()).start().waitFor());
        try {
            SysResult fd = Linux.open(tmp.toString(), Linux.O_RDWR | Linux.O_NONBLOCK);
            assertTrue(fd.ok(), fd::toString);
            assertEquals(Errno.EFAULT, Linux.ioctl(fd.intValue(), FIONREAD, 8L).errno());
            Linux.close(fd.intValue());
        } finally {
            java.nio.file.Files.delete(tmp);
        }
    }

    @Test
    void strerrorAndNames() {
        assertEquals("Operation not permitted", Linux.strerror(Errno.EPERM));
        assertEquals("EALREADY", Errno.name(Errno.EALREADY));
        assertEquals("errno 4095", Errno.name(4095));
    }
}
