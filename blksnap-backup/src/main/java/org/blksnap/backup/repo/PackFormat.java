package org.blksnap.backup.repo;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The bytes of pack files and index objects.
 *
 * <pre>
 * pack:   "BSP2" | blob ... | list | int32 list's length | int32 CRC32C of list | "BSPE"
 * blob:   a zstd frame of one chunk; encrypted: nonce | AES-GCM of the frame | tag
 * list:   entries; encrypted: nonce | AES-GCM of the entries | tag
 * entries: int32 count | count x entry
 * entry:  32-byte chunk id | int64 offset in the pack | int32 stored length (of the blob) | int32 plain length
 *         | int32 CRC32C of the stored bytes (the blob)
 * index:  "BSI2" | int32 packs | packs x (int8 name length | name | entries) | int32 CRC32C of all before
 * </pre>
 *
 * A pack carries its own entries at its end, so an index lost or damaged can
 * be rebuilt from the packs alone. All integers are big-endian. CRC32C (a
 * cheap, hardware-assisted checksum) guards the stored bytes; SHA-256 is only
 * the chunk's name.
 */
public final class PackFormat {
    /** First bytes of a pack. */
    static final byte[] PACK_MAGIC = {'B', 'S', 'P', '2'};
    /** Last bytes of a complete pack. */
    static final byte[] PACK_END = {'B', 'S', 'P', 'E'};
    /** First bytes of an index object. */
    static final byte[] INDEX_MAGIC = {'B', 'S', 'I', '2'};
    /** Bytes of one entry. */
    static final int ENTRY_BYTES = ChunkId.BYTES + 8 + 4 + 4 + 4;
    /** Bytes after a pack's entries. */
    static final int PACK_TAIL = 12;

    private PackFormat() {
    }

    /**
     * Where one chunk is in its pack.
     *
     * @param id          the chunk
     * @param offset      first byte in the pack
     * @param length      stored bytes (the zstd frame)
     * @param plainLength bytes of plain data
     * @param crc         CRC32C of the stored bytes
     */
    public record Entry(ChunkId id, long offset, int length, int plainLength, int crc) {
    }

    /**
     * One pack and the chunks it holds.
     *
     * @param name    the pack's object name
     * @param entries its chunks, in pack order
     */
    public record PackEntries(String name, List<Entry> entries) {
        /** Copies the list. */
        public PackEntries {
            entries = List.copyOf(entries);
        }
    }

    /**
     * @param b bytes
     * @param off start
     * @param len count
     * @return their CRC32C
     */
    public static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /**
     * @param entries chunks a pack holds
     * @param sealed  true if its list of chunks is sealed (encrypted repository)
     * @return bytes of the pack that are not chunk blobs: its magic and its list of chunks with its tail
     */
    public static long overhead(int entries, boolean sealed) {
        return PACK_MAGIC.length + 4L + (long) entries * ENTRY_BYTES + (sealed ? MasterKey.OVERHEAD : 0) + PACK_TAIL;
    }

    private static void putEntries(ByteBuffer bb, List<Entry> entries) {
        bb.putInt(entries.size());
        byte[] id = new byte[ChunkId.BYTES];
        for (Entry e : entries) {
            e.id().write(id, 0);
            bb.put(id).putLong(e.offset()).putInt(e.length()).putInt(e.plainLength()).putInt(e.crc());
        }
    }

    private static List<Entry> getEntries(ByteBuffer bb, String what) throws RepositoryException {
        int n = bb.getInt();
        if (n < 0 || (long) n * ENTRY_BYTES > bb.remaining()) {
            throw new RepositoryException(what + " is damaged: it claims " + n + " chunks");
        }
        List<Entry> out = new ArrayList<>(n);
        byte[] id = new byte[ChunkId.BYTES];
        for (int i = 0; i < n; i++) {
            bb.get(id);
            Entry e = new Entry(ChunkId.read(id, 0), bb.getLong(), bb.getInt(), bb.getInt(), bb.getInt());
            if (e.offset() < PACK_MAGIC.length || e.length() <= 0 || e.plainLength() <= 0) {
                throw new RepositoryException(what + " is damaged: chunk " + e.id() + " has a bad place");
            }
            out.add(e);
        }
        return out;
    }

    /**
     * @param entries the pack's chunks
     * @return their list, as a pack carries it (before sealing)
     */
    static byte[] encodeEntries(List<Entry> entries) {
        ByteBuffer bb = ByteBuffer.allocate(4 + entries.size() * ENTRY_BYTES);
        putEntries(bb, entries);
        return bb.array();
    }

    /**
     * @param body the pack's list of chunks (sealed when the repository is encrypted)
     * @return the bytes that end the pack
     */
    static byte[] packTrailer(byte[] body) {
        int len = body.length;
        ByteBuffer bb = ByteBuffer.allocate(len + PACK_TAIL);
        bb.put(body).putInt(len).putInt(crc(body, 0, len)).put(PACK_END);
        return bb.array();
    }

    /**
     * @param tail the last {@link #PACK_TAIL} bytes of a pack
     * @param name the pack, for messages
     * @return the length of its list of chunks, which precedes the tail
     * @throws RepositoryException if the pack is not complete
     */
    static int trailerLength(byte[] tail, String name) throws RepositoryException {
        if (!Arrays.equals(tail, 8, 12, PACK_END, 0, 4)) {
            throw new RepositoryException("pack " + name + " is damaged or incomplete: no end marker");
        }
        return ByteBuffer.wrap(tail).getInt();
    }

    /**
     * @param trailer the list of chunks and the tail of a pack
     * @param name    the pack
     * @return the list of chunks, checked against its CRC32C (still sealed when encrypted)
     * @throws RepositoryException if it is damaged
     */
    static byte[] trailerBody(byte[] trailer, String name) throws RepositoryException {
        int len = trailer.length - PACK_TAIL;
        int crc = ByteBuffer.wrap(trailer, len + 4, 4).getInt();
        if (len < 4 || crc(trailer, 0, len) != crc) {
            throw new RepositoryException("pack " + name + " is damaged: its list of chunks fails its checksum");
        }
        return Arrays.copyOf(trailer, len);
    }

    /**
     * @param body a pack's list of chunks
     * @param name the pack
     * @return its chunks
     * @throws RepositoryException if the list is damaged
     */
    static List<Entry> parseEntries(byte[] body, String name) throws RepositoryException {
        try {
            return getEntries(ByteBuffer.wrap(body), "pack " + name);
        } catch (BufferUnderflowException e) {
            throw new RepositoryException("pack " + name + " is damaged: its list of chunks is cut short");
        }
    }

    /**
     * @param packs packs and their chunks
     * @return an index object
     */
    public static byte[] encodeIndex(List<PackEntries> packs) {
        int len = INDEX_MAGIC.length + 4 + 4;
        for (PackEntries p : packs) {
            len += 1 + p.name().length() + 4 + p.entries().size() * ENTRY_BYTES;
        }
        ByteBuffer bb = ByteBuffer.allocate(len);
        bb.put(INDEX_MAGIC).putInt(packs.size());
        for (PackEntries p : packs) {
            byte[] n = p.name().getBytes(StandardCharsets.US_ASCII);
            bb.put((byte) n.length).put(n);
            putEntries(bb, p.entries());
        }
        bb.putInt(crc(bb.array(), 0, bb.position()));
        return bb.array();
    }

    /**
     * @param bytes an index object
     * @param name  its name, for messages
     * @return the packs it describes
     * @throws RepositoryException if it is damaged
     */
    public static List<PackEntries> decodeIndex(byte[] bytes, String name) throws RepositoryException {
        String what = "index " + name;
        if (bytes.length < INDEX_MAGIC.length + 8 || !Arrays.equals(bytes, 0, 4, INDEX_MAGIC, 0, 4)) {
            throw new RepositoryException(what + " is damaged: not a blksnap index");
        }
        int end = bytes.length - 4;
        if (crc(bytes, 0, end) != ByteBuffer.wrap(bytes, end, 4).getInt()) {
            throw new RepositoryException(what + " is damaged: it fails its checksum");
        }
        try {
            ByteBuffer bb = ByteBuffer.wrap(bytes, 4, end - 4);
            int packs = bb.getInt();
            List<PackEntries> out = new ArrayList<>();
            for (int i = 0; i < packs; i++) {
                byte[] n = new byte[bb.get() & 0xff];
                bb.get(n);
                out.add(new PackEntries(new String(n, StandardCharsets.US_ASCII), getEntries(bb, what)));
            }
            return out;
        } catch (BufferUnderflowException e) {
            throw new RepositoryException(what + " is damaged: it is cut short");
        }
    }
}
