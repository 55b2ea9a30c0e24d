package org.blksnap.backup.repo;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.github.luben.zstd.Zstd;

/**
 * The bytes of a manifest and of a summary.
 *
 * <pre>
 * manifest: "BSM2" | int32 n | n bytes of the summary (JSON) | per device: int32 m | m bytes:
 *           zstd frame of its raw chunk ids (32 bytes each, all zero for an all-zero chunk)
 *           | int32 CRC32C of all before
 * summary:  the same JSON, alone
 * </pre>
 *
 * Chunk ids are raw and compressed (runs of all-zero chunks of a sparse
 * device cost almost nothing), never hex: 32 bytes per chunk at most.
 */
public final class ManifestCodec {
    private static final byte[] MAGIC = {'B', 'S', 'M', '2'};
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private ManifestCodec() {
    }

    /**
     * @param s a summary
     * @return its JSON bytes
     */
    public static byte[] encodeSummary(BackupSummary s) {
        try {
            return JSON.writeValueAsBytes(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * @param bytes JSON
     * @param id    the backup it should be
     * @return the summary
     * @throws RepositoryException if it is damaged
     */
    public static BackupSummary decodeSummary(byte[] bytes, String id) throws RepositoryException {
        BackupSummary s;
        try {
            s = JSON.readValue(bytes, BackupSummary.class);
        } catch (IOException | RuntimeException e) {
            throw damaged(id, "summary", firstLine(e));
        }
        String problem = problem(s, id);
        if (problem != null) {
            throw damaged(id, "summary", problem);
        }
        return s;
    }

    /**
     * @param m a manifest
     * @return its bytes
     */
    public static byte[] encode(Manifest m) {
        byte[] head = encodeSummary(m.summary());
        List<byte[]> frames = new ArrayList<>();
        int len = MAGIC.length + 4 + head.length + 4;
        for (ChunkIds ids : m.chunks()) {
            byte[] f = Zstd.compress(ids.raw(), 1);
            frames.add(f);
            len += 4 + f.length;
        }
        ByteBuffer bb = ByteBuffer.allocate(len);
        bb.put(MAGIC).putInt(head.length).put(head);
        for (byte[] f : frames) {
            bb.putInt(f.length).put(f);
        }
        bb.putInt(PackFormat.crc(bb.array(), 0, bb.position()));
        return bb.array();
    }

    /**
     * @param bytes a manifest
     * @param id    the backup it should be
     * @return the manifest
     * @throws RepositoryException if it is damaged
     */
    public static Manifest decode(byte[] bytes, String id) throws RepositoryException {
        if (bytes.length < MAGIC.length + 8 || !Arrays.equals(bytes, 0, 4, MAGIC, 0, 4)) {
            throw damaged(id, "manifest", "not a blksnap manifest");
        }
        int end = bytes.length - 4;
        if (PackFormat.crc(bytes, 0, end) != ByteBuffer.wrap(bytes, end, 4).getInt()) {
            throw damaged(id, "manifest", "it fails its checksum");
        }
        try {
            ByteBuffer bb = ByteBuffer.wrap(bytes, 4, end - 4);
            int headLen = bb.getInt();
            if (headLen < 0 || headLen > bb.remaining()) {
                throw damaged(id, "manifest", "bad header length");
            }
            BackupSummary s = decodeSummary(Arrays.copyOfRange(bytes, bb.position(), bb.position() + headLen), id);
            bb.position(bb.position() + headLen);
            List<ChunkIds> chunks = new ArrayList<>();
            for (BackupSummary.DeviceSummary d : s.devices()) {
                int n = bb.getInt();
                if (n < 0 || n > bb.remaining()) {
                    throw damaged(id, "manifest", d.name() + ": bad length of its chunk ids");
                }
                byte[] raw = new byte[Math.multiplyExact(d.chunks(), ChunkId.BYTES)];
                long got = Zstd.decompressByteArray(raw, 0, raw.length, bytes, bb.position(), n);
                if (Zstd.isError(got) || got != raw.length) {
                    throw damaged(id, "manifest", d.name() + ": its chunk ids do not decompress");
                }
                bb.position(bb.position() + n);
                chunks.add(new ChunkIds(raw));
            }
            return new Manifest(s, chunks);
        } catch (BufferUnderflowException e) {
            throw damaged(id, "manifest", "it is cut short");
        }
    }

    /**
     * @param s  a summary
     * @param id the backup it should be
     * @return what is wrong with it, or null
     */
    static String problem(BackupSummary s, String id) {
        if (s.format() != BackupSummary.FORMAT) {
            return "format " + s.format() + ", expected " + BackupSummary.FORMAT;
        }
        if (!id.equals(s.id())) {
            return "it says it is backup " + s.id();
        }
        if (s.chunkSize() < Repository.MIN_CHUNK_SIZE || s.chunkSize() > Repository.MAX_CHUNK_SIZE
                || s.started() == null) {
            return "bad chunk size or start time";
        }
        try {
            s.startedAt();
        } catch (RuntimeException e) {
            return "bad start time " + s.started();
        }
        if (s.devices().isEmpty()) {
            return "no device";
        }
        for (BackupSummary.DeviceSummary d : s.devices()) {
            if (d.sizeBytes() <= 0 || d.chunks() != Math.ceilDiv(d.sizeBytes(), s.chunkSize())) {
                return d.name() + ": " + d.chunks() + " chunks do not cover " + d.sizeBytes() + " bytes";
            }
        }
        return null;
    }

    private static RepositoryException damaged(String id, String what, String why) {
        return new RepositoryException("backup " + id + ": its " + what + " is damaged (" + why + ")");
    }

    private static String firstLine(Throwable e) {
        String m = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage()
                : e.getMessage();
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
