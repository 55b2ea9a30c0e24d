package org.blksnap.backup.engine;

import java.nio.file.Path;

import org.blksnap.api.BlkSnapException;
import org.blksnap.api.DeviceBusyException;
import org.blksnap.api.PermissionDeniedException;
import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/**
 * A block device opened with O_EXCL, which the kernel grants only if the
 * device is not mounted, not part of a device-mapper or md device, and not
 * opened exclusively by anyone else; and which keeps it so (a mount attempt
 * fails) until closed.
 */
final class ExclusiveDevice implements AutoCloseable {
    private final int fd;

    private ExclusiveDevice(int fd) {
        this.fd = fd;
    }

    /**
     * @param given  the name the user gave, for messages
     * @param device the device node
     * @return the claim
     * @throws BlkSnapException if the device is busy or cannot be opened
     */
    static ExclusiveDevice open(Path given, Path device) throws BlkSnapException {
        SysResult r = Linux.open(device.toString(), Linux.O_RDWR | Linux.O_EXCL | Linux.O_CLOEXEC);
        if (r.ok()) {
            return new ExclusiveDevice(r.intValue());
        }
        String why = Linux.strerror(r.errno());
        throw switch (r.errno()) {
            case Errno.EBUSY -> new DeviceBusyException(given + " is in use (mounted, or held by another program): "
                    + "free it before restoring to it", r.errno());
            case Errno.EACCES, Errno.EPERM -> new PermissionDeniedException(given + ": permission denied (run as "
                    + "root)", r.errno());
            default -> new BlkSnapException(given + ": cannot open it exclusively: " + why, r.errno());
        };
    }

    /** @return a path that opens the very device this claim holds */
    Path procPath() {
        return Path.of("/proc/self/fd", Integer.toString(fd));
    }

    @Override
    public void close() {
        Linux.close(fd);
    }
}
