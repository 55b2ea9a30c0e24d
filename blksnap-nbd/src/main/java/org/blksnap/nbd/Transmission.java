package org.blksnap.nbd;

import static org.blksnap.nbd.Protocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

import org.blksnap.nbd.Session.SelectedContext;

/**
 * The transmission phase of one connection. The connection's thread reads
 * the requests; READ and BLOCK_STATUS are served on virtual threads of their
 * own, several at once, and answered as they finish, so a client with many
 * requests in flight (nbdcopy, qemu-img, the kernel) is not held up behind a
 * slow one. Everything else is answered by the reading thread itself.
 *
 * <p>Replies never interleave: a simple reply, or a structured one with
 * NBD_CMD_FLAG_DF, is written whole under {@link #replies}; the chunks of a
 * structured read are each written whole, and the protocol lets chunks of
 * different requests alternate. A failure after a reply has started cannot
 * be told to the client, so it closes the connection, and the other requests
 * in flight end with it.
 */
final class Transmission {
    /** Largest READ (and WRITE payload) accepted; advertised as the maximum block size. */
    static final int MAX_PAYLOAD = 32 << 20;
    /** Bytes read from the export and sent per step, so a request in flight holds one such buffer. */
    static final int PIECE = 1 << 20;
    /** Descriptors one block status chunk carries at most. */
    static final int MAX_DESCRIPTORS = 16384;
    /**
     * Requests served at once per connection. Each holds at most one
     * {@link #PIECE}, so the buffers of a connection stay under 8 x 1 MiB =
     * 8 MiB of direct memory (32 MiB for nbdcopy's four connections). Eight
     * keeps a disk's or a repository's reads overlapping (qemu-img convert
     * runs 8 requests at a time by default; nbdcopy's 64 per connection are
     * spread over four connections); more would multiply the memory without
     * making the export's reads faster on a small host. When all eight are
     * busy the reading thread waits, and the client's further requests wait
     * in the socket: that is the back-pressure.
     */
    static final int IN_FLIGHT = 8;

    private final Wire wire;
    private final Session session;
    private final Export export;
    private final Runnable abort;
    private final Semaphore slots = new Semaphore(IN_FLIGHT);
    private final ReentrantLock replies = new ReentrantLock();
    /** Buffers of finished requests, for the next reads; see {@link #piece()} for why there are at most 8. */
    private final ConcurrentLinkedQueue<ByteBuffer> pieces = new ConcurrentLinkedQueue<>();
    /** What ended the connection first: a served request's failure, or the reading thread's. */
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /**
     * @param wire    the connection
     * @param session what negotiation agreed
     * @param abort   closes the connection under the reading thread, when a
     *                served request leaves the stream unusable
     */
    Transmission(Wire wire, Session session, Runnable abort) {
        this.wire = wire;
        this.session = session;
        this.export = session.export();
        this.abort = abort;
    }

    /**
     * Serves requests until the client disconnects (NBD_CMD_DISC or end of
     * stream); returns only when no request is being served any more.
     */
    void run() throws IOException {
        try {
            readRequests();
        } catch (IOException | RuntimeException e) {
            if (failure.compareAndSet(null, e)) {
                // Requests still in flight would write into a stream nobody will read correctly.
                abort.run();
                drain();
                throw e;
            }
            // A served request failed and closed the connection; the reader only saw the close.
            drain();
            throw rethrow(failure.get());
        }
        // NBD_CMD_DISC: the replies in flight are sent before the connection closes.
        drain();
        Throwable f = failure.get();
        if (f != null) {
            throw rethrow(f);
        }
    }

    private void readRequests() throws IOException {
        while (true) {
            ByteBuffer head = wire.read(REQUEST_HEADER_BYTES);
            int magic = head.getInt();
            if (magic != REQUEST_MAGIC) {
                throw new ProtocolException("bad request magic 0x" + Integer.toHexString(magic));
            }
            Request r = new Request(Short.toUnsignedInt(head.getShort()), Short.toUnsignedInt(head.getShort()),
                    head.getLong(), head.getLong(), Integer.toUnsignedLong(head.getInt()));
            switch (r.type()) {
                case CMD_READ -> serve(r, true);
                case CMD_BLOCK_STATUS -> serve(r, false);
                case CMD_WRITE -> write(r);
                case CMD_DISC -> {
                    return;
                }
                case CMD_FLUSH -> flush(r);
                case CMD_TRIM, CMD_WRITE_ZEROES -> error(r, NbdError.EPERM, "the export is read-only");
                default -> error(r, NbdError.EINVAL, "unknown command " + r.type());
            }
        }
    }

    /** Starts serving a READ or BLOCK_STATUS once one of the {@link #IN_FLIGHT} slots is free. */
    private void serve(Request r, boolean isRead) {
        slots.acquireUninterruptibly();
        ByteBuffer piece = isRead ? piece() : null;
        Thread.ofVirtual().start(() -> {
            try {
                if (isRead) {
                    read(r, piece);
                } else {
                    blockStatus(r);
                }
            } catch (IOException | RuntimeException e) {
                if (failure.compareAndSet(null, e)) {
                    abort.run();
                }
            } finally {
                if (piece != null) {
                    pieces.add(piece);
                }
                slots.release();
            }
        });
    }

    /**
     * Called with a slot held: every other existing buffer is either pooled
     * or held by one of the other slots (a request pools its buffer before it
     * frees its slot), so allocating when the pool is empty never makes more
     * than {@link #IN_FLIGHT}.
     */
    private ByteBuffer piece() {
        ByteBuffer b = pieces.poll();
        return b != null ? b : ByteBuffer.allocateDirect(PIECE);
    }

    /** Waits until no request is being served. */
    private void drain() {
        slots.acquireUninterruptibly(IN_FLIGHT);
        slots.release(IN_FLIGHT);
    }

    private static IOException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) {
            throw e;
        }
        return (IOException) t;
    }

    /** Writes one reply, or one chunk of one, with no other reply's bytes in between. */
    private void send(ByteBuffer... buffers) throws IOException {
        replies.lock();
        try {
            wire.write(buffers);
        } finally {
            replies.unlock();
        }
    }

    private void write(Request r) throws IOException {
        // The payload follows the header whatever the answer; one too big to drop is not read at all.
        if (r.length() > MAX_PAYLOAD) {
            error(r, NbdError.EPERM, "the export is read-only");
            throw new ProtocolException("write payload of " + r.length() + " bytes");
        }
        wire.skip(r.length());
        error(r, NbdError.EPERM, "the export is read-only");
    }

    private void flush(Request r) throws IOException {
        if (r.flags() != 0) {
            error(r, NbdError.EINVAL, "flush takes no flags");
            return;
        }
        // A flush answers for the requests before it: they finish first. Later ones are not read meanwhile.
        drain();
        try {
            export.flush();
        } catch (IOException e) {
            error(r, errorOf(e), message(e));
            return;
        }
        done(r);
    }

    private boolean checkRange(Request r, int allowedFlags) throws IOException {
        if ((r.flags() & ~allowedFlags) != 0) {
            error(r, NbdError.EINVAL, "flags 0x" + Integer.toHexString(r.flags()) + " not valid here");
            return false;
        }
        if (r.length() == 0) {
            error(r, NbdError.EINVAL, "zero length");
            return false;
        }
        long size = export.size();
        if (r.offset() < 0 || r.offset() > size || r.length() > size - r.offset()) {
            error(r, NbdError.EINVAL, "range " + Long.toUnsignedString(r.offset()) + "+" + r.length()
                    + " is outside the export of " + size + " bytes");
            return false;
        }
        return true;
    }

    private void read(Request r, ByteBuffer piece) throws IOException {
        if (r.length() > MAX_PAYLOAD && (r.flags() & ~CMD_FLAG_DF) == 0) {
            // EOVERFLOW is defined for structured replies; older clients know only EINVAL.
            error(r, session.structured() ? NbdError.EOVERFLOW : NbdError.EINVAL,
                    "read of " + r.length() + " bytes is longer than the maximum " + MAX_PAYLOAD);
            return;
        }
        if (!checkRange(r, session.structured() ? CMD_FLAG_DF : 0)) {
            return;
        }
        int length = (int) r.length();
        boolean chunked = session.structured() && (r.flags() & CMD_FLAG_DF) == 0;
        // Errors can be reported only before the reply's header; later ones must drop the connection.
        int first = Math.min(length, PIECE);
        if (!fill(r, piece, r.offset(), first)) {
            return;
        }
        if (chunked) {
            for (int done = 0; done < length;) {
                int n = Math.min(length - done, PIECE);
                if (done > 0 && !fill(r, piece, r.offset() + done, n)) {
                    return;
                }
                boolean last = done + n == length;
                ByteBuffer h = chunkHeader(r, last ? REPLY_FLAG_DONE : 0, REPLY_TYPE_OFFSET_DATA, 8 + n);
                h.putLong(r.offset() + done);
                send(h.flip(), piece);
                done += n;
            }
            return;
        }
        ByteBuffer h;
        if (session.structured()) {
            h = chunkHeader(r, REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, 8 + length).putLong(r.offset());
        } else {
            h = ByteBuffer.allocate(16).putInt(SIMPLE_REPLY_MAGIC).putInt(0).putLong(r.cookie());
        }
        // One reply of up to 32 MiB in one piece buffer: the lock is held while the later pieces are read.
        replies.lock();
        try {
            wire.write(h.flip(), piece);
            for (int done = first; done < length;) {
                int n = Math.min(length - done, PIECE);
                piece.clear().limit(n);
                try {
                    export.read(r.offset() + done, piece);
                } catch (IOException e) {
                    throw new IOException("read failed after the reply started: " + message(e), e);
                }
                wire.write(piece.flip());
                done += n;
            }
        } finally {
            replies.unlock();
        }
    }

    /** Reads {@code n} bytes into {@code piece}; on failure answers the request with the error. */
    private boolean fill(Request r, ByteBuffer piece, long offset, int n) throws IOException {
        piece.clear().limit(n);
        try {
            export.read(offset, piece);
        } catch (IOException e) {
            error(r, errorOf(e), message(e));
            return false;
        }
        piece.flip();
        return true;
    }

    private void blockStatus(Request r) throws IOException {
        if (session.contexts().isEmpty()) {
            error(r, NbdError.EINVAL, "no meta context was negotiated");
            return;
        }
        if (!checkRange(r, CMD_FLAG_REQ_ONE)) {
            return;
        }
        boolean one = (r.flags() & CMD_FLAG_REQ_ONE) != 0;
        List<ByteBuffer> chunks = new ArrayList<>();
        for (SelectedContext c : session.contexts()) {
            List<StatusExtent> extents;
            try {
                extents = descriptors(c.status().status(r.offset(), r.length()), r.length(), one);
            } catch (IOException e) {
                error(r, errorOf(e), message(e));
                return;
            }
            ByteBuffer b = ByteBuffer.allocate(20 + 4 + 8 * extents.size());
            boolean last = chunks.size() == session.contexts().size() - 1;
            b.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) (last ? REPLY_FLAG_DONE : 0))
                    .putShort((short) REPLY_TYPE_BLOCK_STATUS).putLong(r.cookie()).putInt(4 + 8 * extents.size());
            b.putInt(c.id());
            for (StatusExtent e : extents) {
                b.putInt((int) e.length()).putInt(e.flags());
            }
            chunks.add(b.flip());
        }
        send(chunks.toArray(ByteBuffer[]::new));
    }

    /** Clips to the request, merges equal neighbours, bounds the count; never empty. */
    static List<StatusExtent> descriptors(List<StatusExtent> raw, long length, boolean one) {
        List<StatusExtent> out = new ArrayList<>();
        long covered = 0;
        for (StatusExtent e : raw) {
            if (covered >= length) {
                break;
            }
            long n = Math.min(e.length(), length - covered);
            covered += n;
            int lastIndex = out.size() - 1;
            if (lastIndex >= 0 && out.get(lastIndex).flags() == e.flags()) {
                out.set(lastIndex, new StatusExtent(out.get(lastIndex).length() + n, e.flags()));
            } else {
                if (out.size() == MAX_DESCRIPTORS || (one && out.size() == 1)) {
                    break;
                }
                out.add(new StatusExtent(n, e.flags()));
            }
        }
        if (out.isEmpty()) {
            // The protocol allows status 0 for any range; it needs at least one descriptor.
            out.add(new StatusExtent(length, 0));
        }
        return out;
    }

    private void done(Request r) throws IOException {
        if (session.structured()) {
            send(chunkHeader(r, REPLY_FLAG_DONE, REPLY_TYPE_NONE, 0).flip());
        } else {
            send(ByteBuffer.allocate(16).putInt(SIMPLE_REPLY_MAGIC).putInt(0).putLong(r.cookie()).flip());
        }
    }

    private void error(Request r, NbdError error, String message) throws IOException {
        if (!session.structured()) {
            send(ByteBuffer.allocate(16).putInt(SIMPLE_REPLY_MAGIC).putInt(error.code()).putLong(r.cookie()).flip());
            return;
        }
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        if (m.length > MAX_STRING) {
            m = java.util.Arrays.copyOf(m, MAX_STRING);
        }
        ByteBuffer b = chunkHeader(r, REPLY_FLAG_DONE, REPLY_TYPE_ERROR, 6 + m.length);
        send(b.putInt(error.code()).putShort((short) m.length).flip(), ByteBuffer.wrap(m));
    }

    private static ByteBuffer chunkHeader(Request r, int flags, int type, int length) {
        return ByteBuffer.allocate(28).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) flags).putShort((short) type)
                .putLong(r.cookie()).putInt(length);
    }

    private static NbdError errorOf(IOException e) {
        return e instanceof ExportException x ? x.error() : NbdError.EIO;
    }

    private static String message(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /**
     * One request header.
     *
     * @param flags  command flags
     * @param type   command
     * @param cookie echoed in the reply
     * @param offset byte offset (unsigned on the wire; negative here when past 2^63)
     * @param length byte count, unsigned
     */
    private record Request(int flags, int type, long cookie, long offset, long length) {
    }
}
