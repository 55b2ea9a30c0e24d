package org.blksnap.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/**
 * Attaches an export of an NBD server listening on a Unix socket to a
 * {@code /dev/nbdN} of the kernel's NBD client, without nbd-client: the
 * handshake (fixed newstyle, NBD_OPT_GO) runs here, then the connected socket
 * is handed to the kernel with the ioctls of {@code <linux/nbd.h>} and a
 * platform thread sits in NBD_DO_IT for as long as the device is attached.
 * The device goes away when this process asks ({@link #close()}), when anyone
 * sends NBD_DISCONNECT ({@link #disconnect(Path)}: {@code blksnap backup
 * umount}), or when this process dies.
 */
public final class KernelClient implements AutoCloseable {
    /** Devices the nbd module makes when loaded without nbds_max. */
    static final int DEVICES = 16;
    private static final long NBD_SET_SOCK = 0xab00;
    private static final long NBD_SET_BLKSIZE = 0xab01;
    private static final long NBD_SET_SIZE = 0xab02;
    private static final long NBD_DO_IT = 0xab03;
    private static final long NBD_CLEAR_SOCK = 0xab04;
    private static final long NBD_DISCONNECT = 0xab08;
    private static final long NBD_SET_FLAGS = 0xab0a;
    /**
     * The logical block size given to the kernel. 512, not 4096: an xfs made
     * with 512-byte sectors does not mount on a device with larger ones.
     */
    private static final int BLOCK_SIZE = 512;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    /**
     * Read-ahead of the attached device. The kernel's default, 128 KiB,
     * makes a file read from a mounted backup one 128 KiB request after the
     * other, each a round trip to the server that answers them in order;
     * 1 MiB (four chunks of the default size) sends fewer, larger requests
     * and lets the server's read-ahead of chunks work on a whole window.
     */
    static final int READ_AHEAD_KB = 1024;

    private final Path device;
    private final int deviceFd;
    private final UnixSocketFd socket;
    private final long size;
    private final Thread doIt;
    private final CompletableFuture<SysResult> ended = new CompletableFuture<>();

    private KernelClient(Path device, int deviceFd, UnixSocketFd socket, long size) {
        this.device = device;
        this.deviceFd = deviceFd;
        this.socket = socket;
        this.size = size;
        this.doIt = Thread.ofPlatform().daemon().name("nbd-do-it-" + device.getFileName()).unstarted(this::run);
    }

    /**
     * Negotiates {@code exportName} on the server at {@code socketPath} and
     * attaches it read-only to the first free {@code /dev/nbdN}, loading the
     * nbd module first if needed.
     *
     * @param socketPath the server's Unix socket
     * @param exportName the export
     * @return the attached device, its size visible
     * @throws IOException if the module, a free device, the server or the
     *                     export is missing, or the kernel refuses
     */
    public static KernelClient attach(Path socketPath, String exportName) throws IOException {
        Objects.requireNonNull(exportName, "exportName");
        loadModule();
        UnixSocketFd socket = UnixSocketFd.connect(socketPath);
        try {
            Handshake h = negotiate(socket, exportName);
            if (h.size() % BLOCK_SIZE != 0) {
                throw new IOException("export '" + exportName + "' is " + h.size() + " bytes, not a whole number of "
                        + BLOCK_SIZE + "-byte sectors: the kernel's NBD client cannot attach it");
            }
            for (int n = 0; n < DEVICES; n++) {
                Path dev = Path.of("/dev/nbd" + n);
                if (!Files.exists(dev) || Files.exists(sysfs(dev).resolve("pid"))) {
                    continue;
                }
                SysResult fd = Linux.open(dev.toString(), Linux.O_RDWR | Linux.O_CLOEXEC);
                if (!fd.ok()) {
                    throw sysFailure(dev, "open", fd);
                }
                KernelClient c = new KernelClient(dev, fd.intValue(), socket, h.size());
                if (c.start(h.flags())) {
                    return c;
                }
            }
            throw new IOException("no free NBD device: /dev/nbd0../dev/nbd" + (DEVICES - 1)
                    + " are all attached ('blksnap backup umount' frees those of backups)");
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Claims this device; false if another process took it first. */
    private boolean start(int flags) throws IOException {
        CompletableFuture<Boolean> claimed = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("nbd-setup").start(() -> {
            // SET_SOCK first: it fails with EBUSY on a device someone else is setting up.
            SysResult r = Linux.ioctl(deviceFd, NBD_SET_SOCK, socket.fd());
            if (r.errno() == Errno.EBUSY) {
                claimed.complete(false);
                return;
            }
            if (r.ok()) {
                r = Linux.ioctl(deviceFd, NBD_SET_BLKSIZE, BLOCK_SIZE);
            }
            if (r.ok()) {
                r = Linux.ioctl(deviceFd, NBD_SET_SIZE, size);
            }
            if (r.ok()) {
                r = Linux.ioctl(deviceFd, NBD_SET_FLAGS, flags);
            }
            if (!r.ok()) {
                claimed.completeExceptionally(sysFailure(device, "setup", r));
                Linux.ioctl(deviceFd, NBD_CLEAR_SOCK, 0L);
                return;
            }
            claimed.complete(true);
        });
        boolean ok;
        try {
            ok = claimed.get();
        } catch (ExecutionException e) {
            Linux.close(deviceFd);
            throw (IOException) e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Linux.close(deviceFd);
            throw new IOException("interrupted while attaching " + device);
        }
        if (!ok) {
            Linux.close(deviceFd);
            return false;
        }
        doIt.start();
        awaitSize();
        // After the size: setting it applies the queue's limits, which reset the read-ahead on newer kernels.
        setReadAhead(sysfs(device), READ_AHEAD_KB);
        return true;
    }

    private void run() {
        // NBD_DO_IT shuts the device down when a signal interrupts it: let
        // the JVM's other threads take every signal (SIGTERM still reaches
        // the process, whose shutdown hook detaches the device in order).
        UnixSocketFd.blockSignalsOfThisThread();
        SysResult r = Linux.ioctl(deviceFd, NBD_DO_IT, 0L);
        Linux.ioctl(deviceFd, NBD_CLEAR_SOCK, 0L);
        Linux.close(deviceFd);
        socket.close();
        ended.complete(r);
    }

    /**
     * Raises the read-ahead of the device whose directory in /sys/block is
     * {@code sysDir} to {@code kb}, never lowers it (an administrator's udev
     * rule may have set more). One that cannot be read or set keeps what it
     * has: reads are slower, not wrong, so the attach goes on.
     *
     * @return the read-ahead in KiB the device has now, -1 if unknown
     */
    static long setReadAhead(Path sysDir, int kb) {
        Path f = sysDir.resolve("queue/read_ahead_kb");
        try {
            long now = Long.parseLong(Files.readString(f).strip());
            if (now >= kb) {
                return now;
            }
            Files.writeString(f, Integer.toString(kb));
            return kb;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** NBD_DO_IT makes the size visible once it has started the device. */
    private void awaitSize() throws IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (ended.isDone()) {
                SysResult r = ended.join();
                throw sysFailure(device, "NBD_DO_IT", r.ok() ? new SysResult(-1, Errno.EIO) : r);
            }
            if (sectors(device) * 512 == size) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        close();
        throw new IOException(device + " did not come up within " + START_TIMEOUT.toSeconds() + " s");
    }

    /** @return e.g. /dev/nbd0 */
    public Path device() {
        return device;
    }

    /** @return true while the kernel has the device attached */
    public boolean attached() {
        return !ended.isDone();
    }

    /**
     * Waits until the device is detached (by {@link #disconnect(Path)} from
     * any process, or because the server went away).
     *
     * @param timeout how long at most
     * @return true if it is detached
     * @throws InterruptedException if interrupted
     */
    public boolean awaitDetached(Duration timeout) throws InterruptedException {
        try {
            ended.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    /**
     * Asks the kernel to detach a device: it sends NBD_CMD_DISC to the server
     * and NBD_DO_IT returns in the process that attached it.
     *
     * @param device e.g. /dev/nbd0
     * @throws IOException if the device cannot be opened or refuses
     */
    public static void disconnect(Path device) throws IOException {
        SysResult fd = Linux.open(device.toString(), Linux.O_RDWR | Linux.O_CLOEXEC);
        if (!fd.ok()) {
            throw sysFailure(device, "open", fd);
        }
        try {
            SysResult r = Linux.ioctl(fd.intValue(), NBD_DISCONNECT, 0L);
            if (!r.ok()) {
                throw sysFailure(device, "NBD_DISCONNECT", r);
            }
        } finally {
            Linux.close(fd.intValue());
        }
    }

    /**
     * @param device e.g. /dev/nbd0
     * @return true if a process has it attached (the kernel shows that process's pid)
     */
    public static boolean isAttached(Path device) {
        return Files.exists(sysfs(device).resolve("pid"));
    }

    /**
     * @param device e.g. /dev/nbd0
     * @return the id the kernel shows for the attachment of a device: the
     *         thread that sits in NBD_DO_IT (not its process), which tells
     *         this attachment from a later one of the same device
     */
    public static OptionalLong attacher(Path device) {
        return attacherIn(sysfs(device));
    }

    /** {@link #attacher(Path)} of the device whose directory in /sys/block is {@code sysDir}. */
    static OptionalLong attacherIn(Path sysDir) {
        try {
            return OptionalLong.of(Long.parseLong(Files.readString(sysDir.resolve("pid")).strip()));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * Waits until the kernel has let go of one attachment of a device after
     * NBD_DISCONNECT. NBD_DO_IT returning is not enough: the kernel keeps the
     * device's configuration, its pid file and, while anyone else has it
     * open, its size, until the last opener (a mount, a probe, the attaching
     * process's own descriptor) closes it.
     *
     * @param device   e.g. /dev/nbd0
     * @param attacher what {@link #attacher(Path)} showed for that attachment
     * @param timeout  how long at most
     * @return true once the device shows that attachment no more: no pid
     *         file and a size of 0, or attached anew by someone else
     * @throws InterruptedException if interrupted
     */
    public static boolean awaitReleased(Path device, long attacher, Duration timeout) throws InterruptedException {
        return awaitReleasedIn(sysfs(device), attacher, timeout);
    }

    /** {@link #awaitReleased(Path, long, Duration)} of the device whose directory in /sys/block is {@code sysDir}. */
    static boolean awaitReleasedIn(Path sysDir, long attacher, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            OptionalLong now = attacherIn(sysDir);
            if (now.isPresent() ? now.getAsLong() != attacher : sectorsIn(sysDir) == 0) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(20);
        }
    }

    /** Detaches the device and waits for the kernel to let go of it. */
    @Override
    public void close() {
        if (ended.isDone()) {
            return;
        }
        try {
            disconnect(device);
            if (!awaitDetached(Duration.ofSeconds(30))) {
                System.getLogger(KernelClient.class.getName()).log(System.Logger.Level.WARNING,
                        device + " is still attached 30 s after NBD_DISCONNECT");
            }
        } catch (IOException e) {
            System.getLogger(KernelClient.class.getName()).log(System.Logger.Level.WARNING,
                    "cannot detach " + device + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- the handshake

    /**
     * What NBD_OPT_GO told.
     *
     * @param size  the export's size
     * @param flags its transmission flags, as NBD_SET_FLAGS takes them
     */
    record Handshake(long size, int flags) {
    }

    /** The client's side of the fixed newstyle handshake, up to the start of transmission. */
    static Handshake negotiate(UnixSocketFd s, String exportName) throws IOException {
        ByteBuffer hello = ByteBuffer.wrap(s.readFully(18));
        if (hello.getLong() != Protocol.NBDMAGIC || hello.getLong() != Protocol.IHAVEOPT) {
            throw new IOException("the server does not speak newstyle NBD");
        }
        int serverFlags = hello.getShort() & 0xffff;
        if ((serverFlags & Protocol.FLAG_FIXED_NEWSTYLE) == 0) {
            throw new IOException("the server does not speak fixed newstyle NBD");
        }
        int clientFlags = Protocol.CLIENT_FLAG_FIXED_NEWSTYLE
                | ((serverFlags & Protocol.FLAG_NO_ZEROES) != 0 ? Protocol.CLIENT_FLAG_NO_ZEROES : 0);
        byte[] name = exportName.getBytes(StandardCharsets.UTF_8);
        ByteBuffer go = ByteBuffer.allocate(4 + 8 + 4 + 4 + 4 + name.length + 2);
        go.putInt(clientFlags);
        go.putLong(Protocol.IHAVEOPT).putInt(Protocol.OPT_GO).putInt(4 + name.length + 2);
        go.putInt(name.length).put(name).putShort((short) 0);
        s.writeFully(go.array());
        long size = -1;
        int flags = 0;
        while (true) {
            ByteBuffer head = ByteBuffer.wrap(s.readFully(20));
            if (head.getLong() != Protocol.OPTION_REPLY_MAGIC || head.getInt() != Protocol.OPT_GO) {
                throw new IOException("the server sent a malformed reply to NBD_OPT_GO");
            }
            int type = head.getInt();
            int length = head.getInt();
            if (length < 0 || length > Protocol.MAX_STRING + 64) {
                throw new IOException("the server sent a reply of " + Integer.toUnsignedString(length) + " bytes");
            }
            ByteBuffer data = ByteBuffer.wrap(s.readFully(length));
            if (type == Protocol.REP_ACK) {
                break;
            }
            if ((type & 0x80000000) != 0) {
                throw new IOException("the server refused export '" + exportName + "': "
                        + (length > 0 ? new String(data.array(), StandardCharsets.UTF_8) : "error " + type));
            }
            if (type == Protocol.REP_INFO && length >= 12 && data.getShort() == Protocol.INFO_EXPORT) {
                size = data.getLong();
                flags = data.getShort() & 0xffff;
            }
        }
        if (size < 0) {
            throw new IOException("the server did not say the size of export '" + exportName + "'");
        }
        return new Handshake(size, flags);
    }

    // ---- helpers

    private static void loadModule() throws IOException {
        if (Files.exists(Path.of("/sys/module/nbd"))) {
            return;
        }
        Process p = new ProcessBuilder("modprobe", "nbd").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (p.waitFor() != 0) {
                throw new IOException("cannot load the nbd kernel module (modprobe nbd: " + out + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while loading the nbd kernel module");
        }
    }

    private static Path sysfs(Path device) {
        return Path.of("/sys/block", device.getFileName().toString());
    }

    private static long sectors(Path device) {
        return sectorsIn(sysfs(device));
    }

    private static long sectorsIn(Path sysDir) {
        try {
            return Long.parseLong(Files.readString(sysDir.resolve("size")).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    private static IOException sysFailure(Path device, String what, SysResult r) {
        String hint = r.errno() == Errno.EACCES || r.errno() == Errno.EPERM ? " (run as root)" : "";
        return new IOException(device + ": " + what + ": " + Linux.strerror(r.errno()) + hint);
    }
}
