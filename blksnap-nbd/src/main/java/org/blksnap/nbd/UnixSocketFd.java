package org.blksnap.nbd;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.blksnap.api.sys.Linux;

/**
 * A connected Unix stream socket as a raw file descriptor. The kernel's NBD
 * client takes its socket as a descriptor number (NBD_SET_SOCK), which a Java
 * {@link java.nio.channels.SocketChannel} does not reveal, so the socket the
 * handshake runs on is made with the C library.
 */
@SuppressWarnings("restricted")
final class UnixSocketFd implements AutoCloseable {
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 02000000;
    /** sizeof(struct sockaddr_un): a short family, then 108 bytes of path. */
    private static final int SUN_PATH = 108;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle SOCKET = downcall("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CONNECT = downcall("connect",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle READ = downcall("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE = downcall("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));

    private static final MethodHandle PTHREAD_SIGMASK = LINKER.downcallHandle(
            LINKER.defaultLookup().findOrThrow("pthread_sigmask"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final int SIG_BLOCK = 0;
    /** sizeof(sigset_t) in glibc. */
    private static final int SIGSET_BYTES = 128;

    private final int fd;
    private boolean closed;

    private UnixSocketFd(int fd) {
        this.fd = fd;
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), fd, CAPTURE_ERRNO);
    }

    /**
     * @param path the socket file of a listening server
     * @return the connected socket
     * @throws IOException if it cannot be connected
     */
    static UnixSocketFd connect(Path path) throws IOException {
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH) {
            throw new IOException(path + ": a Unix socket path must be shorter than " + SUN_PATH + " bytes");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int fd = (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw failure("socket", state);
            }
            MemorySegment addr = arena.allocate(2 + SUN_PATH);
            addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, JAVA_BYTE, 2, name.length);
            int rc = (int) CONNECT.invokeExact(state, fd, addr, 2 + name.length + 1);
            if (rc < 0) {
                IOException e = failure("connect to " + path, state);
                Linux.close(fd);
                throw e;
            }
            return new UnixSocketFd(fd);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    /**
     * Blocks every signal that can be blocked in the calling (platform)
     * thread, so that the kernel delivers process signals to another thread
     * and none interrupts a system call this thread sleeps in.
     */
    static void blockSignalsOfThisThread() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment all = arena.allocate(SIGSET_BYTES);
            all.fill((byte) 0xff);
            int rc = (int) PTHREAD_SIGMASK.invokeExact(SIG_BLOCK, all, MemorySegment.NULL);
            if (rc != 0) {
                throw new IllegalStateException("pthread_sigmask: " + Linux.strerror(rc));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    /** @return the descriptor number */
    int fd() {
        return fd;
    }

    /**
     * @param b bytes to send, all of them
     * @throws IOException if the peer is gone
     */
    void writeFully(byte[] b) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment buf = arena.allocateFrom(JAVA_BYTE, b);
            long done = 0;
            while (done < b.length) {
                long n = (long) WRITE.invokeExact(state, fd, buf.asSlice(done), b.length - done);
                if (n < 0) {
                    throw failure("write", state);
                }
                done += n;
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    /**
     * @param length bytes to receive
     * @return exactly that many
     * @throws EOFException if the peer closed first
     * @throws IOException if reading fails
     */
    byte[] readFully(int length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment buf = arena.allocate(Math.max(1, length));
            long done = 0;
            while (done < length) {
                long n = (long) READ.invokeExact(state, fd, buf.asSlice(done), length - done);
                if (n < 0) {
                    throw failure("read", state);
                }
                if (n == 0) {
                    throw new EOFException("the NBD server closed the connection during the handshake");
                }
                done += n;
            }
            return buf.asSlice(0, length).toArray(JAVA_BYTE);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("native call failed", t);
        }
    }

    private static IOException failure(String what, MemorySegment state) {
        int errno = (int) ERRNO.get(state, 0L);
        return new IOException(what + ": " + Linux.strerror(errno));
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Linux.close(fd);
        }
    }
}
