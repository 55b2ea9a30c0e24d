package org.blksnap.backup;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback in front of an S3 server that misbehaves on
 * purpose, as a busy service and a flaky network do: the next connections
 * are answered 503 SlowDown without reaching the server, or cut in the
 * middle of whatever they carry once a number of bytes went through.
 */
final class FaultProxy implements AutoCloseable {
    private static final byte[] SLOW_DOWN_BODY = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown"
            + "</Code><Message>Please reduce your request rate.</Message></Error>").getBytes(StandardCharsets.UTF_8);

    private final int upstream;
    private final ServerSocket listener;
    private final Thread acceptor;
    private final AtomicInteger slowDowns = new AtomicInteger();
    private final AtomicInteger cuts = new AtomicInteger();
    private final AtomicLong cutAfter = new AtomicLong();
    private final AtomicInteger slowedDown = new AtomicInteger();
    private final AtomicInteger cutShort = new AtomicInteger();
    private volatile long delayMillis;

    FaultProxy(int upstreamPort) throws IOException {
        this.upstream = upstreamPort;
        this.listener = new ServerSocket();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        this.acceptor = Thread.ofVirtual().start(this::accept);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** The next {@code n} connections get 503 SlowDown for their first request, and are closed. */
    void slowDown(int n) {
        slowDowns.set(n);
    }

    /** The next {@code n} connections are cut once {@code bytes} went through them, either way. */
    void cut(int n, long bytes) {
        cutAfter.set(bytes);
        cuts.set(n);
    }

    /** Every later read of 8 KiB or less waits this long first: a slow link, so a test can kill a command mid-upload. */
    void delay(long millis) {
        delayMillis = millis;
    }

    int slowedDown() {
        return slowedDown.get();
    }

    int cutShort() {
        return cutShort.get();
    }

    private void accept() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return;
            }
            Thread.ofVirtual().start(() -> serve(client));
        }
    }

    private void serve(Socket client) {
        try (client) {
            if (slowDowns.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                slowedDown.incrementAndGet();
                readHead(client.getInputStream());
                OutputStream out = client.getOutputStream();
                out.write(("HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: "
                        + SLOW_DOWN_BODY.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(SLOW_DOWN_BODY);
                out.flush();
                return;
            }
            long limit = cuts.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? cutAfter.get() : Long.MAX_VALUE;
            try (Socket server = new Socket(InetAddress.getLoopbackAddress(), upstream)) {
                AtomicLong through = new AtomicLong();
                Thread up = Thread.ofVirtual().start(() -> pipe(client, server, through, limit));
                pipe(server, client, through, limit);
                up.join();
                if (through.get() >= limit) {
                    cutShort.incrementAndGet();
                }
            }
        } catch (IOException | InterruptedException e) {
            // The client or the server went away: so does this connection.
        }
    }

    /** Copies until either side closes or the connection's byte budget is spent, then closes both. */
    private void pipe(Socket from, Socket to, AtomicLong through, long limit) {
        byte[] buf = new byte[8192];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                if (delayMillis > 0) {
                    Thread.sleep(delayMillis);
                }
                long before = through.getAndAdd(n);
                if (before + n >= limit) {
                    int part = (int) Math.max(0, limit - before);
                    out.write(buf, 0, part);
                    out.flush();
                    break;
                }
                out.write(buf, 0, n);
            }
        } catch (IOException | InterruptedException e) {
            // Closed by the other direction.
        }
        closeQuietly(from);
        closeQuietly(to);
    }

    private static void readHead(InputStream in) throws IOException {
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        for (int i = 0; i < 65536 && matched < 4; i++) {
            int c = in.read();
            if (c < 0) {
                return;
            }
            matched = c == end[matched] ? matched + 1 : (c == '\r' ? 1 : 0);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // Already closed.
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        try {
            acceptor.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
