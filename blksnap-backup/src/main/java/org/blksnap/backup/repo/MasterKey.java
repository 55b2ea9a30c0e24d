package org.blksnap.backup.repo;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The random key of an encrypted repository and the two keys derived from
 * it: one for AES-256-GCM of every object, one for HMAC-SHA-256 chunk ids.
 * Deriving both from one secret keeps a single thing to wrap per password
 * or key file; separate labels keep the id key from ever being used to
 * encrypt and the other way round.
 *
 * <p>A sealed object is {@code nonce (12) | ciphertext | tag (16)}. Nonces
 * are random: with at most 2^32 objects and blobs under one key the chance
 * that two of them ever share a nonce stays below 2^-32 (NIST SP 800-38D),
 * which is 1 PiB of 256 KiB chunks.
 */
public final class MasterKey {
    /** Bytes of the master key and of each derived key. */
    public static final int BYTES = 32;
    /** Bytes a sealed object has more than its plain content. */
    public static final int OVERHEAD = 12 + 16;

    static final String ENC_LABEL = "blksnap object key v1";
    static final String ID_LABEL = "blksnap chunk id key v1";
    private static final int NONCE = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] raw;
    private final SecretKeySpec encKey;
    private final Mac idPrototype;
    private final ThreadLocal<Mac> idMac;

    /** @param raw {@link #BYTES} secret bytes (copied) */
    public MasterKey(byte[] raw) {
        if (raw.length != BYTES) {
            throw new IllegalArgumentException("a master key has " + BYTES + " bytes, not " + raw.length);
        }
        this.raw = raw.clone();
        this.encKey = new SecretKeySpec(derive(this.raw, ENC_LABEL), "AES");
        this.idPrototype = hmac(derive(this.raw, ID_LABEL));
        this.idMac = ThreadLocal.withInitial(() -> {
            try {
                return (Mac) idPrototype.clone();
            } catch (CloneNotSupportedException e) {
                throw new IllegalStateException("the Java runtime's HMAC cannot be cloned", e);
            }
        });
    }

    /** @return a fresh random master key */
    public static MasterKey random() {
        byte[] b = new byte[BYTES];
        RANDOM.nextBytes(b);
        return new MasterKey(b);
    }

    /** @return the secret bytes (a copy), only for wrapping */
    byte[] raw() {
        return raw.clone();
    }

    /**
     * @param key   a secret
     * @param label what the derived key is for
     * @return HMAC-SHA-256(key, label)
     */
    static byte[] derive(byte[] key, String label) {
        return hmac(key).doFinal(label.getBytes(StandardCharsets.US_ASCII));
    }

    static Mac hmac(byte[] key) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the Java runtime has no HMAC-SHA-256", e);
        }
    }

    /**
     * @param data   plain chunk data
     * @param length bytes of it
     * @return its keyed id: HMAC-SHA-256 with the id key
     */
    public ChunkId chunkId(byte[] data, int length) {
        Mac m = idMac.get();
        m.update(data, 0, length);
        return ChunkId.read(m.doFinal(), 0);
    }

    /**
     * @param aad   what the content is (bound, not stored)
     * @param plain content
     * @param off   where it starts
     * @param len   bytes of it
     * @return {@code nonce | ciphertext | tag}
     */
    public byte[] seal(byte[] aad, byte[] plain, int off, int len) {
        return seal(encKey, aad, plain, off, len);
    }

    /**
     * @param sealed {@code nonce | ciphertext | tag}
     * @param off    where it starts
     * @param len    bytes of it
     * @param aad    what it must be
     * @param dst    at least {@code len - OVERHEAD} bytes
     * @return plain bytes written to {@code dst}
     * @throws AEADBadTagException if it was not sealed as {@code aad} with this key, or is damaged
     */
    public int open(byte[] sealed, int off, int len, byte[] aad, byte[] dst) throws AEADBadTagException {
        return open(encKey, sealed, off, len, aad, dst);
    }

    static byte[] seal(SecretKeySpec key, byte[] aad, byte[] plain, int off, int len) {
        byte[] out = new byte[NONCE + len + TAG_BITS / 8];
        byte[] nonce = new byte[NONCE];
        RANDOM.nextBytes(nonce);
        System.arraycopy(nonce, 0, out, 0, NONCE);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(aad);
            c.doFinal(plain, off, len, out, NONCE);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-256-GCM failed", e);
        }
    }

    static int open(SecretKeySpec key, byte[] sealed, int off, int len, byte[] aad, byte[] dst)
            throws AEADBadTagException {
        if (len < OVERHEAD) {
            throw new AEADBadTagException("shorter than a nonce and a tag");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, Arrays.copyOfRange(sealed, off,
                    off + NONCE)));
            c.updateAAD(aad);
            return c.doFinal(sealed, off + NONCE, len - NONCE, dst, 0);
        } catch (AEADBadTagException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-256-GCM failed", e);
        }
    }
}
