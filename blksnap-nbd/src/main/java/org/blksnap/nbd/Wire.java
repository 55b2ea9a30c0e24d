package org.blksnap.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Blocking, exact-length reads and writes on a connection's channel. One
 * thread reads; writers take turns (Transmission serializes its replies).
 */
final class Wire implements java.io.Closeable {
    private final ByteChannel channel;

    Wire(ByteChannel channel) {
        this.channel = channel;
    }

    /**
     * Reads exactly {@code n} bytes.
     *
     * @throws EOFException if the peer closes first
     */
    ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        readFully(b);
        return b.flip();
    }

    void readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("peer closed the connection");
            }
        }
    }

    /** Reads and drops {@code n} bytes, a bounded piece at a time. */
    void skip(long n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(n, 65536));
        long left = n;
        while (left > 0) {
            b.clear().limit((int) Math.min(left, b.capacity()));
            readFully(b);
            left -= b.limit();
        }
    }

    /**
     * Writes every byte of the buffers, in order. On a socket that is one
     * writev for a reply's header and its data, not a system call (and for a
     * client, a wake-up) for each.
     */
    void write(ByteBuffer... buffers) throws IOException {
        if (channel instanceof GatheringByteChannel g) {
            int first = 0;
            while (first < buffers.length) {
                if (!buffers[first].hasRemaining()) {
                    first++;
                    continue;
                }
                g.write(buffers, first, buffers.length - first);
            }
            return;
        }
        for (ByteBuffer b : buffers) {
            while (b.hasRemaining()) {
                channel.write(b);
            }
        }
    }

    /**
     * Upgrades to TLS after NBD_OPT_STARTTLS was acknowledged. Nothing the
     * client sent is buffered here (every read takes exact lengths), so the
     * handshake starts with the client's first TLS byte.
     *
     * @return the wire to use from now on
     */
    Wire startTls(StartTls tls) throws IOException {
        return new Wire(tls.handshake(channel));
    }

    /** Closes the channel; over TLS that first sends close_notify. */
    @Override
    public void close() throws IOException {
        channel.close();
    }

    /**
     * @return {@code bytes} as a protocol string
     * @throws ProtocolException if it is not UTF-8 or contains NUL
     */
    static String string(byte[] bytes) throws ProtocolException {
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            if (s.indexOf('\0') >= 0) {
                throw new ProtocolException("string contains NUL");
            }
            return s;
        } catch (CharacterCodingException e) {
            throw new ProtocolException("string is not UTF-8");
        }
    }
}
