package org.blksnap.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.Version;
import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;
import org.junit.jupiter.api.Test;

/** The loaded module answers the version ioctl with what it tells sysfs. */
class VersionIT {

    @Test
    void controlDeviceIsACharacterDevice() throws IOException {
        Path control = Path.of(BlkSnap.CONTROL_DEVICE);
        assertTrue(Files.exists(control), control + " missing: is blksnap.ko loaded?");
        int mode = (Integer) Files.getAttribute(control, "unix:mode");
        assertEquals(0020000, mode & 0170000, control + " is not a character device");
    }

    @Test
    void versionIoctlMatchesSysfs() throws IOException {
        String sysfs = Files.readString(Path.of("/sys/module/blksnap/version")).strip();
        try (BlkSnap blksnap = BlkSnap.open()) {
            Version v = blksnap.version();
            assertEquals(sysfs, v.toString());
            assertTrue(v.major() >= 1, "major version " + v.major());
        }
    }

    @Test
    void versionIoctlIsStable() throws IOException {
        try (BlkSnap blksnap = BlkSnap.open()) {
            assertEquals(blksnap.version(), blksnap.version());
        }
    }

    @Test
    void versionIntoBadPointerIsEfault() throws IOException {
        try (BlkSnap blksnap = BlkSnap.open()) {
            SysResult r = Linux.ioctl(blksnap.fd(), Ioctl.IOCTL_BLKSNAP_VERSION, 8L);
            assertEquals(Errno.EFAULT, r.errno(), r::toString);
        }
    }

    @Test
    void versionWithWrongSizeIsRejected() throws IOException {
        try (BlkSnap blksnap = BlkSnap.open(); Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(64);
            long wrongSize = Ioctl.ior(Ioctl.BLKSNAP_TYPE, 0, Abi.BLKSNAP_VERSION.byteSize() + 4);
            SysResult r = Linux.ioctl(blksnap.fd(), wrongSize, buf);
            assertEquals(Errno.ENOTTY, r.errno(), r::toString);
            assertEquals(0, buf.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0), "kernel wrote into the buffer");
        }
    }
}
