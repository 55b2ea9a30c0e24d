package org.blksnap.api;

import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Linux;

/**
 * Turns a failed system call into the exception a person can act on. All
 * wording lives here so that the library and the command agree.
 */
final class Errors {
    static final String MODULE_NOT_LOADED = "blksnap module not loaded: modprobe blksnap";
    static final String PERMISSION_DENIED = "permission denied: run as root";
    private static final Path MODULE_SYSFS = Path.of("/sys/module/blksnap");

    private Errors() {
    }

    static boolean moduleLoaded() {
        return Files.isDirectory(MODULE_SYSFS);
    }

    /** Failures every operation shares; null when the errno needs context. */
    private static BlkSnapException common(int errno) {
        return switch (errno) {
            case Errno.EPERM, Errno.EACCES -> new PermissionDeniedException(PERMISSION_DENIED, errno);
            default -> null;
        };
    }

    static BlkSnapException openControl(int errno) {
        BlkSnapException e = common(errno);
        if (e != null) {
            return e;
        }
        if (errno == Errno.ENOENT || errno == Errno.ENODEV || errno == Errno.ENXIO) {
            return new ModuleNotLoadedException(MODULE_NOT_LOADED, errno);
        }
        return generic("cannot open " + BlkSnap.CONTROL_DEVICE, errno);
    }

    static BlkSnapException openDevice(Path device, int errno) {
        BlkSnapException e = common(errno);
        if (e != null) {
            return e;
        }
        if (errno == Errno.ENOENT || errno == Errno.ENXIO || errno == Errno.ENODEV) {
            return new NotBlockDeviceException(device + " is not a block device (no such device)", errno);
        }
        return generic("cannot open " + device, errno);
    }

    /** A BLKFILTER_* ioctl on a device failed. */
    static BlkSnapException filter(Path device, String what, int errno) {
        BlkSnapException e = common(errno);
        if (e != null) {
            return e;
        }
        // Without the module the block layer knows no BLKFILTER_* ioctl and
        // a driver answers ENOTTY or EINVAL; the filter name is unknown: ENOENT.
        if (!moduleLoaded() && (errno == Errno.ENOTTY || errno == Errno.EINVAL || errno == Errno.ENOENT
                || errno == Errno.EOPNOTSUPP)) {
            return new ModuleNotLoadedException(MODULE_NOT_LOADED, errno);
        }
        return switch (errno) {
            case Errno.EALREADY, Errno.EEXIST -> new FilterAlreadyAttachedException(
                    device + ": blksnap filter already attached", errno);
            case Errno.ENOENT -> new FilterNotAttachedException(
                    device + ": blksnap filter not attached: blksnap attach --device " + device, errno);
            case Errno.EBUSY -> new DeviceBusyException("detach".equals(what)
                    ? device + ": device is in a snapshot: destroy the snapshot first"
                    : device + ": device already in a snapshot or busy", errno);
            default -> generic(device + ": " + what + " failed", errno);
        };
    }

    /** A control-device ioctl about a snapshot failed. */
    static BlkSnapException snapshot(SnapshotId id, String what, int errno) {
        BlkSnapException e = common(errno);
        if (e != null) {
            return e;
        }
        return switch (errno) {
            case Errno.ENOENT, Errno.ESRCH -> snapshotNotFound(id, errno);
            case Errno.EALREADY -> new SnapshotStateException("snapshot " + id + " already taken", errno);
            case Errno.EBUSY -> new SnapshotStateException("snapshot " + id + " is busy", errno);
            case Errno.ENODEV -> new SnapshotStateException(
                    "snapshot " + id + " has no devices: blksnap snapshot_add first", errno);
            default -> generic(what + " of snapshot " + id + " failed", errno);
        };
    }

    /**
     * SNAPSHOT_DESTROY failed. Its errno for an unknown id is ENODEV, as
     * upstream's module says, where every other command says ESRCH and
     * TAKE's ENODEV means "no devices".
     */
    static BlkSnapException destroy(SnapshotId id, int errno) {
        return errno == Errno.ENODEV ? snapshotNotFound(id, errno) : snapshot(id, "destroy", errno);
    }

    private static SnapshotNotFoundException snapshotNotFound(SnapshotId id, int errno) {
        return new SnapshotNotFoundException("snapshot " + id + " not found (blksnap snapshot_collect lists them)",
                errno);
    }

    /** Any other failure; still the permission message for EPERM/EACCES. */
    static BlkSnapException generic(String what, int errno) {
        BlkSnapException e = common(errno);
        if (e != null) {
            return e;
        }
        return new BlkSnapException(what + ": " + Linux.strerror(errno) + " (" + Errno.name(errno) + ")", errno);
    }
}
