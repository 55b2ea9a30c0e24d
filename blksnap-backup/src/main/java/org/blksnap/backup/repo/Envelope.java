package org.blksnap.backup.repo;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import javax.crypto.AEADBadTagException;

import org.blksnap.backup.repo.ChunkStore.Kind;

/**
 * What a repository does to its objects between the engine and the
 * {@link ChunkStore}: nothing ({@link Plain}) or AES-256-GCM
 * ({@link Encrypted}). It sits above the store, so every store (a local
 * directory, an object service) gets the same encryption, and the store only
 * ever sees ciphertext.
 *
 * <p>Small objects (index, manifest, summary) are sealed whole. A pack is
 * sealed per chunk blob, not as one object, so that restoring one chunk still
 * reads only that chunk's bytes (a ranged read) and authenticates them alone;
 * the pack's own list of chunks at its end is one more sealed blob. The
 * associated data of each sealed piece is its kind and name (and for a blob
 * its pack and chunk id): an object copied over another, or a blob moved to
 * another place, fails to open.
 */
public sealed interface Envelope {
    /** @return the name recorded in the repository config */
    String scheme();

    /**
     * @param data   plain chunk data
     * @param length bytes of it
     * @return its id
     */
    ChunkId chunkId(byte[] data, int length);

    /**
     * @param kind  namespace
     * @param name  object name
     * @param plain content
     * @return what to store
     */
    byte[] seal(Kind kind, String name, byte[] plain);

    /**
     * @param kind   namespace
     * @param name   object name
     * @param stored what was stored
     * @param what   the object, for messages ("index X")
     * @return the content
     * @throws RepositoryException if it does not authenticate
     */
    byte[] open(Kind kind, String name, byte[] stored, String what) throws RepositoryException;

    /**
     * @param pack   the pack
     * @param id     the chunk
     * @param frame  its zstd frame
     * @param length bytes of the frame
     * @return the bytes to append to the pack, or null to append the frame itself
     */
    byte[] sealBlob(String pack, ChunkId id, byte[] frame, int length);

    /**
     * @param pack   the pack
     * @param id     the chunk
     * @param stored the stored blob
     * @param length bytes of it
     * @param frame  where its frame goes (may be {@code stored} when nothing is sealed)
     * @return bytes of the frame
     * @throws ChunkException if it does not authenticate
     */
    int openBlob(String pack, ChunkId id, byte[] stored, int length, byte[] frame) throws ChunkException;

    /** No encryption: ids are SHA-256, objects are stored as they are. */
    record Plain() implements Envelope {
        /** Recorded in the config. */
        public static final String SCHEME = "none";

        @Override
        public String scheme() {
            return SCHEME;
        }

        @Override
        public ChunkId chunkId(byte[] data, int length) {
            return ChunkId.of(data, length);
        }

        @Override
        public byte[] seal(Kind kind, String name, byte[] plain) {
            return plain;
        }

        @Override
        public byte[] open(Kind kind, String name, byte[] stored, String what) {
            return stored;
        }

        @Override
        public byte[] sealBlob(String pack, ChunkId id, byte[] frame, int length) {
            return null;
        }

        @Override
        public int openBlob(String pack, ChunkId id, byte[] stored, int length, byte[] frame) {
            if (frame != stored) {
                System.arraycopy(stored, 0, frame, 0, length);
            }
            return length;
        }
    }

    /**
     * AES-256-GCM of every object and blob, HMAC-SHA-256 chunk ids.
     *
     * @param key the repository's master key
     */
    record Encrypted(MasterKey key) implements Envelope {
        /** Recorded in the config. */
        public static final String SCHEME = "aes-256-gcm+hmac-sha256";

        @Override
        public String scheme() {
            return SCHEME;
        }

        @Override
        public ChunkId chunkId(byte[] data, int length) {
            return key.chunkId(data, length);
        }

        @Override
        public byte[] seal(Kind kind, String name, byte[] plain) {
            return key.seal(aad(kind, name), plain, 0, plain.length);
        }

        @Override
        public byte[] open(Kind kind, String name, byte[] stored, String what) throws RepositoryException {
            byte[] out = new byte[Math.max(0, stored.length - MasterKey.OVERHEAD)];
            try {
                int n = key.open(stored, 0, stored.length, aad(kind, name), out);
                return n == out.length ? out : Arrays.copyOf(out, n);
            } catch (AEADBadTagException e) {
                throw new RepositoryException(what + " is damaged: it fails authentication (AES-GCM)");
            }
        }

        @Override
        public byte[] sealBlob(String pack, ChunkId id, byte[] frame, int length) {
            return key.seal(blobAad(pack, id), frame, 0, length);
        }

        @Override
        public int openBlob(String pack, ChunkId id, byte[] stored, int length, byte[] frame)
                throws ChunkException {
            try {
                return key.open(stored, 0, length, blobAad(pack, id), frame);
            } catch (AEADBadTagException e) {
                throw new ChunkException(id, "chunk " + id + " in pack " + pack
                        + " is damaged: it fails authentication (AES-GCM)");
            }
        }

        private static byte[] aad(Kind kind, String name) {
            return ("blksnap " + kind.name().toLowerCase() + " " + name).getBytes(StandardCharsets.US_ASCII);
        }

        private static byte[] blobAad(String pack, ChunkId id) {
            return ("blksnap chunk " + pack + " " + id).getBytes(StandardCharsets.US_ASCII);
        }
    }
}
