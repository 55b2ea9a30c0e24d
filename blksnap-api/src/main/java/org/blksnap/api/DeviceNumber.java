package org.blksnap.api;

/**
 * Major and minor number of a device.
 *
 * @param major major number
 * @param minor minor number
 */
public record DeviceNumber(int major, int minor) {

    /**
     * Decodes glibc's {@code dev_t} as returned by stat(2).
     *
     * @param rdev the raw value
     * @return major and minor
     */
    public static DeviceNumber decode(long rdev) {
        int major = (int) (((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfffL));
        int minor = (int) (((rdev >>> 12) & 0xffffff00L) | (rdev & 0xffL));
        return new DeviceNumber(major, minor);
    }

    @Override
    public String toString() {
        return major + ":" + minor;
    }
}
