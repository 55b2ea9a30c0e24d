package org.blksnap.nbd;

import static org.blksnap.nbd.Protocol.*;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.blksnap.nbd.Session.SelectedContext;

/**
 * The handshake and option haggling of one connection (fixed newstyle only).
 * Ends with a {@link Session} (NBD_OPT_GO or NBD_OPT_EXPORT_NAME) or with
 * nothing when the client aborts or must be dropped.
 *
 * <p>With TLS configured the server is in the protocol's FORCEDTLS mode:
 * before NBD_OPT_STARTTLS only NBD_OPT_ABORT is served, every other option
 * gets NBD_REP_ERR_TLS_REQD and NBD_OPT_EXPORT_NAME, which has no error
 * reply, drops the connection. Without TLS it is NOTLS mode and STARTTLS is
 * answered NBD_REP_ERR_UNSUP. There is no mode that offers TLS and also
 * serves plaintext: a client could then be talked out of TLS by whoever sits
 * in between.
 */
final class Negotiation {
    /** Largest option payload buffered; larger ones get NBD_REP_ERR_TOO_BIG and the connection closes. */
    static final int MAX_OPTION_BYTES = 65536;

    private final Exports exports;
    private final Optional<StartTls> tls;
    private Wire wire;
    private boolean secure;
    private boolean noZeroes;
    private boolean structured;
    private String contextsExport;
    private List<SelectedContext> contexts = List.of();

    Negotiation(Wire wire, Exports exports, Optional<StartTls> tls) {
        this.wire = wire;
        this.exports = exports;
        this.tls = tls;
    }

    /** @return the wire the transmission phase uses: the TLS one after STARTTLS */
    Wire wire() {
        return wire;
    }

    Optional<Session> run() throws IOException {
        ByteBuffer hello = ByteBuffer.allocate(18);
        hello.putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES));
        wire.write(hello.flip());
        int clientFlags = wire.read(4).getInt();
        if ((clientFlags & ~(CLIENT_FLAG_FIXED_NEWSTYLE | CLIENT_FLAG_NO_ZEROES)) != 0) {
            throw new ProtocolException("unknown client flags 0x" + Integer.toHexString(clientFlags));
        }
        if ((clientFlags & CLIENT_FLAG_FIXED_NEWSTYLE) == 0) {
            throw new ProtocolException("client does not speak fixed newstyle");
        }
        noZeroes = (clientFlags & CLIENT_FLAG_NO_ZEROES) != 0;
        while (true) {
            ByteBuffer head = wire.read(16);
            long magic = head.getLong();
            if (magic != IHAVEOPT) {
                throw new ProtocolException("bad option magic 0x" + Long.toHexString(magic));
            }
            int option = head.getInt();
            long length = Integer.toUnsignedLong(head.getInt());
            if (length > MAX_OPTION_BYTES) {
                if (option != OPT_EXPORT_NAME) {
                    reply(option, REP_ERR_TOO_BIG, "option data of " + length + " bytes is too long");
                }
                throw new ProtocolException("option " + option + " with " + length + " bytes of data");
            }
            ByteBuffer data = wire.read((int) length);
            try {
                Optional<Session> done = option(option, data);
                if (done != null) {
                    return done;
                }
            } catch (BufferUnderflowException | Malformed e) {
                reply(option, REP_ERR_INVALID, "malformed option data");
            }
        }
    }

    /** @return null to go on haggling, else the outcome */
    private Optional<Session> option(int option, ByteBuffer data) throws IOException, Malformed {
        if (tls.isPresent() && !secure && option != OPT_STARTTLS && option != OPT_ABORT) {
            if (option == OPT_EXPORT_NAME) {
                throw new ProtocolException("NBD_OPT_EXPORT_NAME before NBD_OPT_STARTTLS, and TLS is required");
            }
            reply(option, REP_ERR_TLS_REQD, "TLS is required: send NBD_OPT_STARTTLS first");
            return null;
        }
        switch (option) {
            case OPT_EXPORT_NAME -> {
                String name = Wire.string(bytes(data, data.remaining()));
                Optional<Export> export = exports.find(name);
                if (export.isEmpty()) {
                    // This option has no error reply: dropping the connection is the answer.
                    throw new ProtocolException("no export named '" + name + "'");
                }
                ByteBuffer b = ByteBuffer.allocate(noZeroes ? 10 : 134);
                b.putLong(export.get().size()).putShort((short) Session.transmissionFlags(structured));
                wire.write(b.position(b.capacity()).flip());
                return Optional.of(session(name, export.get()));
            }
            case OPT_ABORT -> {
                reply(option, REP_ACK, new byte[0]);
                return Optional.empty();
            }
            case OPT_LIST -> {
                requireEmpty(data);
                for (String name : exports.names()) {
                    byte[] n = name.getBytes(StandardCharsets.UTF_8);
                    reply(option, REP_SERVER, ByteBuffer.allocate(4 + n.length).putInt(n.length).put(n).array());
                }
                reply(option, REP_ACK, new byte[0]);
            }
            case OPT_STRUCTURED_REPLY -> {
                requireEmpty(data);
                structured = true;
                reply(option, REP_ACK, new byte[0]);
            }
            case OPT_INFO, OPT_GO -> {
                return info(option, data);
            }
            case OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> metaContext(option, data);
            case OPT_STARTTLS -> startTls(option, data);
            default -> reply(option, REP_ERR_UNSUP, "option " + option + " is not supported");
        }
        return null;
    }

    private void startTls(int option, ByteBuffer data) throws IOException, Malformed {
        if (tls.isEmpty()) {
            reply(option, REP_ERR_UNSUP, "TLS is not offered by this server");
            return;
        }
        if (secure) {
            reply(option, REP_ERR_INVALID, "TLS is already on");
            return;
        }
        requireEmpty(data);
        reply(option, REP_ACK, new byte[0]);
        // In FORCEDTLS mode nothing was negotiated before this, so there is no state to reset.
        wire = wire.startTls(tls.get());
        secure = true;
    }

    private Optional<Session> info(int option, ByteBuffer data) throws IOException, Malformed {
        String name = readString(data);
        int count = Short.toUnsignedInt(data.getShort());
        if (data.remaining() != 2 * count) {
            throw new Malformed();
        }
        Set<Integer> asked = new LinkedHashSet<>();
        for (int i = 0; i < count; i++) {
            asked.add(Short.toUnsignedInt(data.getShort()));
        }
        Optional<Export> found = exports.find(name);
        if (found.isEmpty()) {
            reply(option, REP_ERR_UNKNOWN, "no export named '" + name + "'");
            return null;
        }
        Export export = found.get();
        reply(option, REP_INFO, ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(export.size())
                .putShort((short) Session.transmissionFlags(structured)).array());
        if (asked.contains(INFO_NAME)) {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            reply(option, REP_INFO, ByteBuffer.allocate(2 + n.length).putShort((short) INFO_NAME).put(n).array());
        }
        if (asked.contains(INFO_DESCRIPTION) && !export.description().isEmpty()) {
            byte[] d = export.description().getBytes(StandardCharsets.UTF_8);
            reply(option, REP_INFO,
                    ByteBuffer.allocate(2 + d.length).putShort((short) INFO_DESCRIPTION).put(d).array());
        }
        // Sent unasked too: a client that knows it honours the limits.
        reply(option, REP_INFO, ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE).putInt(1)
                .putInt(4096).putInt(Transmission.MAX_PAYLOAD).array());
        reply(option, REP_ACK, new byte[0]);
        return option == OPT_GO ? Optional.of(session(name, export)) : null;
    }

    private void metaContext(int option, ByteBuffer data) throws IOException, Malformed {
        String name = readString(data);
        int count = data.getInt();
        if (count < 0) {
            throw new Malformed();
        }
        List<String> queries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            queries.add(readString(data));
        }
        if (data.hasRemaining()) {
            throw new Malformed();
        }
        boolean set = option == OPT_SET_META_CONTEXT;
        if (set && !structured) {
            reply(option, REP_ERR_INVALID, "structured replies must be negotiated before meta contexts");
            return;
        }
        Optional<Export> found = exports.find(name);
        if (found.isEmpty()) {
            reply(option, REP_ERR_UNKNOWN, "no export named '" + name + "'");
            return;
        }
        Export export = found.get();
        if (set) {
            List<SelectedContext> chosen = new ArrayList<>();
            for (String q : new LinkedHashSet<>(queries)) {
                Optional<BlockStatus> status = resolve(export, q);
                if (status.isPresent()) {
                    SelectedContext c = new SelectedContext(chosen.size() + 1, q, status.get());
                    chosen.add(c);
                    reply(option, REP_META_CONTEXT, context(c.id(), q));
                }
            }
            contexts = List.copyOf(chosen);
            contextsExport = name;
        } else {
            for (String n : list(export, queries)) {
                reply(option, REP_META_CONTEXT, context(0, n));
            }
        }
        reply(option, REP_ACK, new byte[0]);
    }

    private static Optional<BlockStatus> resolve(Export export, String name) {
        return name.equals(BASE_ALLOCATION) ? Optional.of(export.allocation()) : export.metaContext(name);
    }

    /** Names matching the queries: all with none, a namespace's with "ns:", else the exact names we have. */
    private static Set<String> list(Export export, List<String> queries) {
        List<String> all = new ArrayList<>();
        all.add(BASE_ALLOCATION);
        all.addAll(export.metaContextNames());
        Set<String> out = new LinkedHashSet<>();
        if (queries.isEmpty()) {
            out.addAll(all);
        }
        for (String q : queries) {
            if (q.endsWith(":") && q.indexOf(':') == q.length() - 1) {
                all.stream().filter(n -> n.startsWith(q)).forEach(out::add);
            } else if (resolve(export, q).isPresent()) {
                out.add(q);
            }
        }
        return out;
    }

    private Session session(String name, Export export) {
        // Contexts chosen for another export do not carry over.
        List<SelectedContext> chosen = name.equals(contextsExport) ? contexts : List.of();
        return new Session(name, export, structured, structured ? chosen : List.of());
    }

    private static byte[] context(int id, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + n.length).putInt(id).put(n).array();
    }

    private static String readString(ByteBuffer data) throws Malformed {
        int length = data.getInt();
        if (length < 0 || length > MAX_STRING || length > data.remaining()) {
            throw new Malformed();
        }
        try {
            return Wire.string(bytes(data, length));
        } catch (ProtocolException e) {
            throw new Malformed();
        }
    }

    private static byte[] bytes(ByteBuffer data, int n) {
        byte[] b = new byte[n];
        data.get(b);
        return b;
    }

    private static void requireEmpty(ByteBuffer data) throws Malformed {
        if (data.hasRemaining()) {
            throw new Malformed();
        }
    }

    private void reply(int option, int type, String message) throws IOException {
        reply(option, type, message.getBytes(StandardCharsets.UTF_8));
    }

    private void reply(int option, int type, byte[] data) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(20).putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type)
                .putInt(data.length);
        wire.write(head.flip(), ByteBuffer.wrap(data));
    }

    /** Option data that does not parse: answered with NBD_REP_ERR_INVALID. */
    private static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed() {
            super(null, null, false, false);
        }
    }
}
