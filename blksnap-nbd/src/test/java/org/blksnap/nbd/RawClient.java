package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

import javax.net.ssl.SSLContext;

import tlschannel.ClientTlsChannel;
import tlschannel.TlsChannel;

/**
 * A client that writes the protocol byte by byte, so tests can send what no
 * well-behaved client would.
 */
final class RawClient implements AutoCloseable {
    static final long IHAVEOPT = 0x49484156454f5054L;

    final SocketChannel ch;
    /** What the protocol is spoken on: the socket, or TLS over it after {@link #startTls}. */
    ByteChannel io;

    RawClient(SocketAddress address) throws IOException {
        ch = SocketChannel.open(address);
        io = ch;
    }

    /** Sends NBD_OPT_STARTTLS, expects the ACK and does the client side of the handshake. */
    RawClient startTls(SSLContext context) throws IOException {
        option(5, new byte[0]);
        OptionReply r = optionReply();
        assertEquals(1, r.type(), "STARTTLS answered 0x" + Integer.toHexString(r.type()));
        TlsChannel tls = ClientTlsChannel.newBuilder(ch, context).build();
        tls.handshake();
        io = tls;
        return this;
    }

    /** Reads the server's greeting and checks it. */
    RawClient greeting() throws IOException {
        ByteBuffer b = read(18);
        assertEquals(0x4e42444d41474943L, b.getLong());
        assertEquals(IHAVEOPT, b.getLong());
        assertEquals(3, b.getShort());
        return this;
    }

    /** Greeting and client flags fixed newstyle + no zeroes. */
    RawClient handshake() throws IOException {
        greeting();
        write(ByteBuffer.allocate(4).putInt(3).flip());
        return this;
    }

    void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            io.write(b);
        }
    }

    void write(byte[] b) throws IOException {
        write(ByteBuffer.wrap(b));
    }

    ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (io.read(b) < 0) {
                throw new EOFException("server closed after " + b.position() + " of " + n + " bytes");
            }
        }
        return b.flip();
    }

    /** @return true when the server closed the connection (nothing more to read) */
    boolean closedByServer() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1);
        try {
            return io.read(b) < 0;
        } catch (IOException e) {
            return true; // reset by peer
        }
    }

    void option(int option, byte[] data) throws IOException {
        write(ByteBuffer.allocate(16 + data.length).putLong(IHAVEOPT).putInt(option).putInt(data.length).put(data)
                .flip());
    }

    record OptionReply(int option, int type, byte[] data) {
    }

    OptionReply optionReply() throws IOException {
        ByteBuffer h = read(20);
        assertEquals(0x0003e889045565a9L, h.getLong(), "option reply magic");
        int option = h.getInt();
        int type = h.getInt();
        int len = h.getInt();
        byte[] d = new byte[len];
        read(len).get(d);
        return new OptionReply(option, type, d);
    }

    /** Sends a GO for {@code name} (after STRUCTURED_REPLY and SET_META_CONTEXT if asked); reads to the ACK. */
    void go(String name, boolean structured, String... contexts) throws IOException {
        if (structured) {
            option(8, new byte[0]);
            assertEquals(1, optionReply().type());
        }
        if (contexts.length > 0) {
            option(10, metaContextData(name, contexts));
            OptionReply r;
            while ((r = optionReply()).type() == 4) {
                // one per context
            }
            assertEquals(1, r.type(), "ACK after the contexts");
        }
        option(7, goData(name));
        OptionReply r;
        while ((r = optionReply()).type() == 3) {
            // NBD_REP_INFO
        }
        assertEquals(1, r.type(), "GO ends with ACK, got 0x" + Integer.toHexString(r.type()));
    }

    static byte[] goData(String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(6 + n.length).putInt(n.length).put(n).putShort((short) 0).array();
    }

    static byte[] metaContextData(String export, String... queries) {
        byte[] e = export.getBytes(StandardCharsets.UTF_8);
        int len = 8 + e.length;
        for (String q : queries) {
            len += 4 + q.getBytes(StandardCharsets.UTF_8).length;
        }
        ByteBuffer b = ByteBuffer.allocate(len).putInt(e.length).put(e).putInt(queries.length);
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            b.putInt(qb.length).put(qb);
        }
        return b.array();
    }

    void request(int flags, int type, long cookie, long offset, long length) throws IOException {
        write(ByteBuffer.allocate(28).putInt(0x25609513).putShort((short) flags).putShort((short) type)
                .putLong(cookie).putLong(offset).putInt((int) length).flip());
    }

    /** Simple reply: returns the error, checks the cookie. */
    int simpleReply(long cookie) throws IOException {
        ByteBuffer h = read(16);
        assertEquals(0x67446698, h.getInt(), "simple reply magic");
        int error = h.getInt();
        assertEquals(cookie, h.getLong(), "cookie");
        return error;
    }

    record Chunk(int flags, int type, byte[] payload) {
        boolean done() {
            return (flags & 1) != 0;
        }

        int error() {
            return ByteBuffer.wrap(payload).getInt();
        }
    }

    Chunk chunk(long cookie) throws IOException {
        ByteBuffer h = read(20);
        assertEquals(0x668e33ef, h.getInt(), "structured reply magic");
        int flags = Short.toUnsignedInt(h.getShort());
        int type = Short.toUnsignedInt(h.getShort());
        assertEquals(cookie, h.getLong(), "cookie");
        int len = h.getInt();
        byte[] p = new byte[len];
        read(len).get(p);
        return new Chunk(flags, type, p);
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
