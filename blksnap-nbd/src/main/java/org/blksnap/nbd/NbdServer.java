package org.blksnap.nbd;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A read-only NBD server: one virtual thread accepts, one virtual thread per
 * connection negotiates and serves. Closing it stops accepting, drops every
 * connection and removes its Unix socket file.
 */
public final class NbdServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NbdServer.class.getName());
    /**
     * Pending connections the kernel queues. The JDK's default of 50 made a
     * Unix socket refuse (EAGAIN) some of 64 clients that connected at once.
     */
    static final int BACKLOG = 256;

    private final ServerSocketChannel listener;
    private final ListenAddress address;
    private final Exports exports;
    private final ConnectionListener events;
    private final Optional<StartTls> tls;
    private final Map<Long, Connection> connections = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final Thread acceptor;
    private volatile boolean closed;

    private record Connection(SocketChannel channel, Thread thread) {
    }

    private NbdServer(ServerSocketChannel listener, ListenAddress address, Exports exports,
            ConnectionListener events, Optional<StartTls> tls) {
        this.listener = listener;
        this.address = address;
        this.exports = exports;
        this.events = events;
        this.tls = tls;
        this.acceptor = Thread.ofVirtual().name("nbd-accept").unstarted(this::acceptLoop);
    }

    /**
     * Binds and starts serving.
     *
     * @param address where to listen; a Unix socket file is created owner-only,
     *                replacing a stale one that nobody listens on
     * @param exports what to offer
     * @param events  told of connections
     * @return the running server
     * @throws IOException if the address cannot be bound (in use, no permission)
     */
    public static NbdServer start(ListenAddress address, Exports exports, ConnectionListener events)
            throws IOException {
        return start(address, exports, events, Optional.empty());
    }

    /**
     * Binds and starts serving, with TLS required when credentials are given:
     * clients must send NBD_OPT_STARTTLS before anything else, there is no
     * plaintext fallback.
     *
     * @param address where to listen; a Unix socket file is created owner-only,
     *                replacing a stale one that nobody listens on
     * @param exports what to offer
     * @param events  told of connections
     * @param tls     the server's certificate and key, or empty for no TLS
     * @return the running server
     * @throws IOException if the address cannot be bound (in use, no permission)
     */
    public static NbdServer start(ListenAddress address, Exports exports, ConnectionListener events,
            Optional<TlsCredentials> tls) throws IOException {
        Objects.requireNonNull(exports, "exports");
        Objects.requireNonNull(events, "events");
        // Built once, before binding: a bad key fails the start, not every handshake.
        Optional<StartTls> startTls = tls.map(StartTls::new);
        ServerSocketChannel ch;
        ListenAddress bound = address;
        switch (address) {
            case ListenAddress.Unix u -> {
                removeStale(u.path());
                ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    ch.bind(u.socketAddress(), BACKLOG);
                    Files.setPosixFilePermissions(u.path(), PosixFilePermissions.fromString("rw-------"));
                } catch (IOException e) {
                    ch.close();
                    throw new IOException("cannot listen on " + u.path() + ": " + e.getMessage(), e);
                }
            }
            case ListenAddress.Tcp t -> {
                ch = ServerSocketChannel.open();
                try {
                    ch.bind(t.socketAddress(), BACKLOG);
                } catch (IOException e) {
                    ch.close();
                    throw new IOException("cannot listen on " + t.host() + ":" + t.port() + ": " + e.getMessage(), e);
                }
                bound = new ListenAddress.Tcp(t.host(), ((InetSocketAddress) ch.getLocalAddress()).getPort());
            }
        }
        NbdServer server = new NbdServer(ch, bound, exports, events, startTls);
        server.acceptor.start();
        return server;
    }

    private static void removeStale(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class,
                java.nio.file.LinkOption.NOFOLLOW_LINKS).isOther()) {
            throw new IOException("cannot listen on " + path + ": it exists and is not a socket");
        }
        try {
            SocketChannel.open(new ListenAddress.Unix(path).socketAddress()).close();
        } catch (java.net.ConnectException stale) {
            Files.delete(path);
            return;
        }
        throw new IOException("cannot listen on " + path + ": another server is listening there");
    }

    /** @return where the server listens (with the port a TCP bind chose) */
    public ListenAddress address() {
        return address;
    }

    /** @return whether clients must use TLS */
    public boolean tlsRequired() {
        return tls.isPresent();
    }

    /**
     * @param export an export name
     * @return its NBD URI here: {@code nbds} when TLS is required, which
     *         libnbd then insists on
     */
    public String uri(String export) {
        return address.uri(export, tls.isPresent());
    }

    /** @return connections open now */
    public int activeConnections() {
        return connections.size();
    }

    /** @return connections accepted since start */
    public long acceptedConnections() {
        return ids.get();
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                // Out of file descriptors and the like: wait instead of spinning.
                LOG.log(Level.WARNING, "nbd: accept failed: " + e.getMessage());
                sleepQuietly(Duration.ofMillis(100));
                continue;
            }
            long id = ids.incrementAndGet();
            Thread t = Thread.ofVirtual().name("nbd-conn-" + id).unstarted(() -> serve(id, ch));
            connections.put(id, new Connection(ch, t));
            if (closed) {
                connections.remove(id);
                closeQuietly(ch);
                return;
            }
            t.start();
        }
    }

    private void serve(long id, SocketChannel ch) {
        Optional<Throwable> failure = Optional.empty();
        try {
            events.connected(id, connections.size());
            Negotiation negotiation = new Negotiation(new Wire(ch), exports, tls);
            try {
                Optional<Session> session = negotiation.run();
                if (session.isPresent()) {
                    new Transmission(negotiation.wire(), session.get(), () -> closeQuietly(ch)).run();
                }
            } finally {
                // Over TLS this says close_notify before the socket closes.
                closeQuietly(negotiation.wire());
            }
        } catch (java.io.EOFException e) {
            // The client went away; nothing to tell anyone.
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                failure = Optional.of(e);
                LOG.log(Level.DEBUG, "nbd: connection " + id + ": " + e);
            }
        } finally {
            closeQuietly(ch);
            connections.remove(id);
            events.disconnected(id, connections.size(), failure);
        }
    }

    /** Stops accepting, drops every connection, waits for their threads, removes the socket file. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        for (Connection c : connections.values()) {
            closeQuietly(c.channel());
        }
        try {
            acceptor.join();
            for (Connection c : connections.values()) {
                c.thread().join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (address instanceof ListenAddress.Unix u) {
            try {
                Files.deleteIfExists(u.path());
            } catch (IOException e) {
                LOG.log(Level.WARNING, "nbd: cannot remove " + u.path() + ": " + e.getMessage());
            }
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // Closing for cleanup: the error changes nothing.
        }
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
