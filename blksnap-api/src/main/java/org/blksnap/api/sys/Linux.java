package org.blksnap.api.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Raw {@code open}, {@code close}, {@code pread}, {@code pwrite}, {@code fallocate} and {@code ioctl} of the C
 * library, called
 * through the Foreign Function and Memory API.
 *
 * <p>Nothing here throws for a failed call: each method returns a
 * {@link SysResult} carrying the return value and the {@code errno}
 * captured right after the call (the JVM may clobber the thread's errno
 * before Java code could read it, hence {@code captureCallState}). This lets
 * tests issue deliberately wrong calls — short buffers, bad pointers,
 * unknown request numbers — and assert the exact errno.
 *
 * <p>Needs {@code --enable-native-access=ALL-UNNAMED} (or the jar manifest's
 * {@code Enable-Native-Access}) to run without a warning.
 */
// Restricted FFM methods are the point of this class; access is granted at
// run time with --enable-native-access.
@SuppressWarnings("restricted")
public final class Linux {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DIRECT = 040000;
    public static final int O_CLOEXEC = 02000000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    // open(2) and ioctl(2) are variadic in C: the third argument must be
    // passed the way the ABI passes variadic ones.
    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle PREAD = downcall("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle PWRITE = downcall("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle FALLOCATE = downcall("fallocate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle IOCTL_PTR = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_LONG = downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle STRERROR = Linker.nativeLinker().downcallHandle(
            LINKER.defaultLookup().findOrThrow("strerror"),
            FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private Linux() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), fd, options);
    }

    /**
     * {@code open(path, flags, mode)}.
     *
     * @param path  file name
     * @param flags {@code O_*} flags of this class
     * @param mode  permission bits used with {@link #O_CREAT}
     * @return the file descriptor, or the errno
     */
    public static SysResult open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) OPEN.invokeExact(state, arena.allocateFrom(path), flags, mode);
            return result(rc, state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** {@code open(path, flags)}, see {@link #open(String, int, int)}. */
    public static SysResult open(String path, int flags) {
        return open(path, flags, 0);
    }

    /**
     * {@code close(fd)}.
     *
     * @param fd file descriptor
     * @return 0 or the errno
     */
    public static SysResult close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) CLOSE.invokeExact(state, fd);
            return result(rc, state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code pread(fd, buf, count, offset)}. Used where Java's channels
     * cannot go: reads with O_DIRECT, whose buffer must be aligned.
     *
     * @param fd     open file descriptor
     * @param buf    where the bytes go; at least {@code count} long
     * @param count  how many bytes to read at most
     * @param offset where in the file
     * @return the number of bytes read (0 at end of file), or the errno
     */
    public static SysResult pread(int fd, MemorySegment buf, long count, long offset) {
        if (count > buf.byteSize()) {
            throw new IllegalArgumentException("pread of " + count + " bytes into " + buf.byteSize());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long rc = (long) PREAD.invokeExact(state, fd, buf, count, offset);
            if (rc != -1) {
                return new SysResult(rc, 0);
            }
            return new SysResult(-1, (int) ERRNO.get(state, 0L));
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code pwrite(fd, buf, count, offset)}. Used where Java's channels
     * cannot go: writes with O_DIRECT, whose buffer must be aligned.
     *
     * @param fd     file descriptor open for writing
     * @param buf    the bytes; at least {@code count} long
     * @param count  how many bytes to write at most
     * @param offset where in the file
     * @return the number of bytes written, or the errno
     */
    public static SysResult pwrite(int fd, MemorySegment buf, long count, long offset) {
        if (count > buf.byteSize()) {
            throw new IllegalArgumentException("pwrite of " + count + " bytes from " + buf.byteSize());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long rc = (long) PWRITE.invokeExact(state, fd, buf, count, offset);
            if (rc != -1) {
                return new SysResult(rc, 0);
            }
            return new SysResult(-1, (int) ERRNO.get(state, 0L));
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code fallocate(fd, mode, offset, len)}: allocates the blocks of a
     * range of a file, so that later writes to it need no space.
     *
     * @param fd     file descriptor open for writing
     * @param mode   0 (allocate, extending the size) or {@code FALLOC_FL_*} flags
     * @param offset first byte
     * @param len    bytes
     * @return 0 or the errno (ENOSPC: not enough free space)
     */
    public static SysResult fallocate(int fd, int mode, long offset, long len) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) FALLOCATE.invokeExact(state, fd, mode, offset, len);
            return result(rc, state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code ioctl(fd, request, arg)} with a pointer argument.
     *
     * @param fd      open file descriptor
     * @param request request number, see {@link Ioctl}
     * @param arg     memory handed to the kernel; {@link MemorySegment#NULL}
     *                or {@code MemorySegment.ofAddress(x)} for raw pointers
     * @return the ioctl's non-negative return value, or the errno
     */
    public static SysResult ioctl(int fd, long request, MemorySegment arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) IOCTL_PTR.invokeExact(state, fd, request, arg);
            return result(rc, state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code ioctl(fd, request, arg)} with an integer argument, also usable
     * to pass an arbitrary (e.g. invalid) address.
     *
     * @param fd      open file descriptor
     * @param request request number
     * @param arg     the raw argument
     * @return the ioctl's non-negative return value, or the errno
     */
    public static SysResult ioctl(int fd, long request, long arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) IOCTL_LONG.invokeExact(state, fd, request, arg);
            return result(rc, state);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * @param errno a positive error number
     * @return the C library's text for it, e.g. "Operation not permitted"
     */
    public static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static SysResult result(int rc, MemorySegment state) {
        if (rc != -1) {
            return new SysResult(rc, 0);
        }
        int errno = (int) ERRNO.get(state, 0L);
        return new SysResult(-1, errno);
    }

    private static IllegalStateException unexpected(Throwable t) {
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call failed", t);
    }
}
