package org.blksnap.api.sys;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Request numbers of the blksnap ioctls, computed from the structure sizes
 * in {@link Abi} with the kernel's {@code _IOC} encoding (asm-generic:
 * 8 bits number, 8 bits type, 14 bits size, 2 bits direction).
 */
public final class Ioctl {
    /** Direction bits of {@code _IOC}. */
    public static final int NONE = 0;
    public static final int WRITE = 1;
    public static final int READ = 2;

    private static final int NR_SHIFT = 0;
    private static final int TYPE_SHIFT = 8;
    private static final int SIZE_SHIFT = 16;
    private static final int DIR_SHIFT = 30;
    private static final long SIZE_MASK = (1 << 14) - 1;

    /** Block layer ioctl type used by the blkfilter interface. */
    public static final int BLOCK_TYPE = 0x12;
    /** ioctl type of /dev/blksnap-control. */
    public static final int BLKSNAP_TYPE = 'V';

    public static final long BLKFILTER_ATTACH = iowr(BLOCK_TYPE, 142, Abi.BLKFILTER_ATTACH.byteSize());
    public static final long BLKFILTER_DETACH = iowr(BLOCK_TYPE, 143, Abi.BLKFILTER_DETACH.byteSize());
    public static final long BLKFILTER_CTL = iowr(BLOCK_TYPE, 144, Abi.BLKFILTER_CTL.byteSize());

    public static final long IOCTL_BLKSNAP_VERSION = ior(BLKSNAP_TYPE, 0, Abi.BLKSNAP_VERSION.byteSize());
    public static final long IOCTL_BLKSNAP_SNAPSHOT_CREATE =
            iowr(BLKSNAP_TYPE, 1, Abi.BLKSNAP_SNAPSHOT_CREATE.byteSize());
    public static final long IOCTL_BLKSNAP_SNAPSHOT_DESTROY = iow(BLKSNAP_TYPE, 2, Abi.BLKSNAP_UUID.byteSize());
    public static final long IOCTL_BLKSNAP_SNAPSHOT_TAKE = iow(BLKSNAP_TYPE, 3, Abi.BLKSNAP_UUID.byteSize());
    public static final long IOCTL_BLKSNAP_SNAPSHOT_COLLECT =
            ior(BLKSNAP_TYPE, 4, Abi.BLKSNAP_SNAPSHOT_COLLECT.byteSize());
    public static final long IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT =
            ior(BLKSNAP_TYPE, 5, Abi.BLKSNAP_SNAPSHOT_EVENT.byteSize());

    private Ioctl() {
    }

    /**
     * The kernel's {@code _IOC(dir, type, nr, size)}.
     *
     * @param dir  {@link #NONE}, {@link #READ}, {@link #WRITE} or both or-ed
     * @param type 8-bit type
     * @param nr   8-bit number
     * @param size argument size, at most 16383
     * @return the request number, as an unsigned 32-bit value in a long
     */
    public static long ioc(int dir, int type, int nr, long size) {
        if ((size & ~SIZE_MASK) != 0) {
            throw new IllegalArgumentException("ioctl argument too large: " + size);
        }
        return ((long) dir << DIR_SHIFT) | (size << SIZE_SHIFT)
                | ((long) (type & 0xff) << TYPE_SHIFT) | ((long) (nr & 0xff) << NR_SHIFT);
    }

    /** {@code _IOR}. @param type type @param nr number @param size size @return request */
    public static long ior(int type, int nr, long size) {
        return ioc(READ, type, nr, size);
    }

    /** {@code _IOW}. @param type type @param nr number @param size size @return request */
    public static long iow(int type, int nr, long size) {
        return ioc(WRITE, type, nr, size);
    }

    /** {@code _IOWR}. @param type type @param nr number @param size size @return request */
    public static long iowr(int type, int nr, long size) {
        return ioc(READ | WRITE, type, nr, size);
    }

    /** @return every request number by its C macro name */
    public static Map<String, Long> all() {
        Map<String, Long> all = new LinkedHashMap<>();
        all.put("BLKFILTER_ATTACH", BLKFILTER_ATTACH);
        all.put("BLKFILTER_DETACH", BLKFILTER_DETACH);
        all.put("BLKFILTER_CTL", BLKFILTER_CTL);
        all.put("IOCTL_BLKSNAP_VERSION", IOCTL_BLKSNAP_VERSION);
        all.put("IOCTL_BLKSNAP_SNAPSHOT_CREATE", IOCTL_BLKSNAP_SNAPSHOT_CREATE);
        all.put("IOCTL_BLKSNAP_SNAPSHOT_DESTROY", IOCTL_BLKSNAP_SNAPSHOT_DESTROY);
        all.put("IOCTL_BLKSNAP_SNAPSHOT_TAKE", IOCTL_BLKSNAP_SNAPSHOT_TAKE);
        all.put("IOCTL_BLKSNAP_SNAPSHOT_COLLECT", IOCTL_BLKSNAP_SNAPSHOT_COLLECT);
        all.put("IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT", IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT);
        return Collections.unmodifiableMap(all);
    }
}
