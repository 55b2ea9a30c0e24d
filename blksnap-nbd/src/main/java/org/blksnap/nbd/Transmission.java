package org.blksnap.nbd;

import static org.blksnap.nbd.Protocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.blksnap.nbd.Session.SelectedContext;

/**
 * The transmission phase of one connection: requests are served one after the
 * other, in the order they arrive, each answered before the next is read.
 */
final class Transmission {
    /** Largest READ (and WRITE payload) accepted; advertised as the maximum block size. */
    static final int MAX_PAYLOAD = 32 << 20;
    /** Bytes read from the export and sent per step, so a connection holds one such buffer. */
    static final int PIECE = 1 << 20;
    /** Descriptors one block status chunk carries at most. */
    static final int MAX_DESCRIPTORS = 16384;

    private final Wire wire;
    private final Session session;
    private final Export export;
    private ByteBuffer piece;

    Transmission(Wire wire, Session session) {
        this.wire = wire;
        this.session = session;
        this.export = session.export();
    }

    /** Serves requests until the client disconnects (NBD_CMD_DISC or end of stream). */
    void run() throws IOException {
        while (true) {
            ByteBuffer head = wire.read(REQUEST_HEADER_BYTES);
            int magic = head.getInt();
            if (magic != REQUEST_MAGIC) {
                throw new ProtocolException("bad request magic 0x" + Integer.toHexString(magic));
            }
            Request r = new Request(Short.toUnsignedInt(head.getShort()), Short.toUnsignedInt(head.getShort()),
                    head.getLong(), head.getLong(), Integer.toUnsignedLong(head.getInt()));
            switch (r.type()) {
                case CMD_READ -> read(r);
                case CMD_WRITE -> write(r);
                case CMD_DISC -> {
                    return;
                }
                case CMD_FLUSH -> flush(r);
                case CMD_TRIM, CMD_WRITE_ZEROES -> error(r, NbdError.EPERM, "the export is read-only");
                case CMD_BLOCK_STATUS -> blockStatus(r);
                default -> error(r, NbdError.EINVAL, "unknown command " + r.type());
            }
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

    private void read(Request r) throws IOException {
        if (r.length() > MAX_PAYLOAD && (r.flags() & ~CMD_FLAG_DF) == 0) {
            // EOVERFLOW is defined for structured replies; older clients know only EINVAL.
            error(r, session.structured() ? NbdError.EOVERFLOW : NbdError.EINVAL,
                    "read of " + r.length() + " bytes is longer than the maximum " + MAX_PAYLOAD);
            return;
        }
        if (!checkRange(r, session.structured() ? CMD_FLAG_DF : 0)) {
            return;
        }
        if (piece == null) {
            piece = ByteBuffer.allocateDirect(PIECE);
        }
        int length = (int) r.length();
        boolean chunked = session.structured() && (r.flags() & CMD_FLAG_DF) == 0;
        // Errors can be reported only before the reply's header; later ones must drop the connection.
        int first = Math.min(length, PIECE);
        if (!fill(r, r.offset(), first)) {
            return;
        }
        if (chunked) {
            for (int done = 0; done < length;) {
                int n = Math.min(length - done, PIECE);
                if (done > 0 && !fill(r, r.offset() + done, n)) {
                    return;
                }
                boolean last = done + n == length;
                ByteBuffer h = chunkHeader(r, last ? REPLY_FLAG_DONE : 0, REPLY_TYPE_OFFSET_DATA, 8 + n);
                h.putLong(r.offset() + done);
                wire.write(h.flip(), piece);
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
    }

    /** Reads {@code n} bytes into the piece buffer; on failure answers the request with the error. */
    private boolean fill(Request r, long offset, int n) throws IOException {
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
        wire.write(chunks.toArray(ByteBuffer[]::new));
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
            wire.write(chunkHeader(r, REPLY_FLAG_DONE, REPLY_TYPE_NONE, 0).flip());
        } else {
            wire.write(ByteBuffer.allocate(16).putInt(SIMPLE_REPLY_MAGIC).putInt(0).putLong(r.cookie()).flip());
        }
    }

    private void error(Request r, NbdError error, String message) throws IOException {
        if (!session.structured()) {
            wire.write(ByteBuffer.allocate(16).putInt(SIMPLE_REPLY_MAGIC).putInt(error.code()).putLong(r.cookie())
                    .flip());
            return;
        }
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        if (m.length > MAX_STRING) {
            m = java.util.Arrays.copyOf(m, MAX_STRING);
        }
        ByteBuffer b = chunkHeader(r, REPLY_FLAG_DONE, REPLY_TYPE_ERROR, 6 + m.length);
        wire.write(b.putInt(error.code()).putShort((short) m.length).flip(), ByteBuffer.wrap(m));
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
