package org.blksnap.backup.repo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

import javax.crypto.AEADBadTagException;
import javax.crypto.spec.SecretKeySpec;

import org.blksnap.backup.repo.ChunkStore.Kind;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * The key objects of an encrypted repository, kept together in one small
 * object next to the config ({@value #OBJECT}): each key wraps the same
 * random master key with AES-256-GCM under a key-encryption key derived from
 * a password (Argon2id, its parameters stored with it) or from a key file.
 * Changing a password rewrites only this object; the data never needs
 * re-encrypting. Each key carries a SHA-256 of its own fields, so a damaged
 * key object is told apart from a wrong password.
 *
 * <p>Changes are made under the repository's exclusive lock.
 */
public final class KeyRing {
    /** The object's name, in the {@link Kind#CONFIG} namespace. */
    public static final String OBJECT = "blksnap-keys.json";
    /** Key derivation for passwords. */
    public static final String ARGON2ID = "argon2id";
    /** Key derivation for key files. */
    public static final String KEY_FILE = "key-file";

    private static final int SALT = 16;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final ObjectMapper PRETTY = JSON.copy().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * Argon2id cost. The default follows RFC 9106's second recommended
     * option (64 MiB, 3 passes, 4 lanes): 0.5 to 2 s on the development host,
     * costly to guess at scale.
     *
     * @param memoryKib   memory in KiB (at least 8 x parallelism)
     * @param iterations  passes over the memory
     * @param parallelism lanes
     */
    public record Argon2(int memoryKib, int iterations, int parallelism) {
        /** The default cost. */
        public static final Argon2 DEFAULT = new Argon2(64 * 1024, 3, 4);

        /** Rejects costs Argon2 does not accept or that are absurd. */
        public Argon2 {
            if (parallelism < 1 || parallelism > 64 || iterations < 1 || iterations > 100
                    || memoryKib < 8 * parallelism || memoryKib > 4 * 1024 * 1024) {
                throw new IllegalArgumentException("bad Argon2id cost: memory " + memoryKib + " KiB, "
                        + iterations + " iterations, parallelism " + parallelism);
            }
        }
    }

    /**
     * How a key's wrapping key is derived.
     *
     * @param algorithm   {@link #ARGON2ID} or {@link #KEY_FILE}
     * @param memoryKib   Argon2id memory in KiB (null for a key file)
     * @param iterations  Argon2id passes (null for a key file)
     * @param parallelism Argon2id lanes (null for a key file)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Kdf(String algorithm, Integer memoryKib, Integer iterations, Integer parallelism) {
    }

    /**
     * One key.
     *
     * @param id       short random name, for {@code key list/remove}
     * @param created  ISO-8601 instant
     * @param kdf      how the wrapping key is derived
     * @param salt     base64 salt of the derivation
     * @param wrapped  base64 {@code nonce | encrypted master key | tag}
     * @param checksum hex SHA-256 of the key's other fields (damage, not attack: the tag covers that)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Key(String id, String created, Kdf kdf, String salt, String wrapped, String checksum) {
    }

    /**
     * The stored object.
     *
     * @param version 1
     * @param keys    every key, any of which opens the repository
     */
    public record Ring(int version, List<Key> keys) {
        /** Copies the list. */
        public Ring {
            keys = keys == null ? List.of() : List.copyOf(keys);
        }
    }

    /**
     * An opened repository key.
     *
     * @param master the master key
     * @param keyId  which key opened it
     */
    public record Unlocked(MasterKey master, String keyId) {
    }

    private KeyRing() {
    }

    /**
     * @param store a repository
     * @return its keys
     * @throws RepositoryException if there are none or the object is damaged
     * @throws IOException if it cannot be read
     */
    public static Ring read(ChunkStore store) throws IOException {
        byte[] bytes;
        try {
            bytes = store.get(Kind.CONFIG, OBJECT);
        } catch (NoSuchFileException e) {
            throw new RepositoryException(store.location() + " is encrypted but its key object " + OBJECT
                    + " is missing: the repository cannot be opened");
        }
        Ring r;
        try {
            r = JSON.readValue(bytes, Ring.class);
        } catch (IOException e) {
            throw new RepositoryException("key object " + OBJECT + " in " + store.location()
                    + " is damaged: it is not valid JSON");
        }
        if (r.version() != 1 || r.keys().isEmpty()) {
            throw new RepositoryException("key object " + OBJECT + " in " + store.location()
                    + " is damaged: version " + r.version() + ", " + r.keys().size() + " keys");
        }
        return r;
    }

    /**
     * @param store a repository, held exclusively
     * @param ring  its new keys
     * @throws IOException if they cannot be stored
     */
    static void write(ChunkStore store, Ring ring) throws IOException {
        byte[] b = PRETTY.writeValueAsBytes(ring);
        store.put(Kind.CONFIG, OBJECT, b, b.length);
    }

    /**
     * Makes the key ring of a new repository.
     *
     * @param store  the new repository
     * @param secret its first password or key file
     * @param cost   Argon2id cost for a password
     * @return the new master key
     * @throws IOException if it cannot be stored
     */
    static MasterKey create(ChunkStore store, Secret secret, Argon2 cost) throws IOException {
        MasterKey m = MasterKey.random();
        write(store, new Ring(1, List.of(wrap(m, secret, cost))));
        return m;
    }

    /**
     * @param store  a repository
     * @param secret a password or key file
     * @return the master key and the key that opened it
     * @throws WrongKeyException if no key opens with it
     * @throws RepositoryException if the key object is damaged
     * @throws IOException if it cannot be read
     */
    public static Unlocked unlock(ChunkStore store, Secret secret) throws IOException {
        Ring r = read(store);
        String algorithm = secret instanceof Secret.Password ? ARGON2ID : KEY_FILE;
        int tried = 0;
        RepositoryException damaged = null;
        for (Key k : r.keys()) {
            try {
                verifyChecksum(store, k);
            } catch (RepositoryException e) {
                // Another key may still open it; the damage is reported if none does.
                damaged = damaged == null ? e : damaged;
                continue;
            }
            if (k.kdf() == null || !algorithm.equals(k.kdf().algorithm())) {
                continue;
            }
            tried++;
            byte[] master = unwrap(k, secret);
            if (master != null) {
                return new Unlocked(new MasterKey(master), k.id());
            }
        }
        if (damaged != null) {
            throw damaged;
        }
        String what = secret instanceof Secret.Password ? "password" : "key file";
        throw new WrongKeyException(tried == 0 ? store.location() + " has no " + what + " key (key list shows its "
                + "keys)" : "wrong " + what + " for " + store.location() + " (none of its keys opens with it)");
    }

    /**
     * Adds a key that opens the same repository.
     *
     * @param store  a repository, held exclusively
     * @param master its master key
     * @param secret the new password or key file
     * @param cost   Argon2id cost for a password
     * @return the new key's id
     * @throws IOException if it cannot be stored
     */
    public static String add(ChunkStore store, MasterKey master, Secret secret, Argon2 cost) throws IOException {
        Ring r = read(store);
        Key k = wrap(master, secret, cost);
        List<Key> keys = new ArrayList<>(r.keys());
        keys.add(k);
        write(store, new Ring(1, keys));
        return k.id();
    }

    /**
     * Removes a key; the last one cannot be removed.
     *
     * @param store a repository, held exclusively
     * @param id    the key
     * @throws RepositoryException if there is no such key or it is the last one
     * @throws IOException if it cannot be stored
     */
    public static void remove(ChunkStore store, String id) throws IOException {
        Ring r = read(store);
        List<Key> keys = new ArrayList<>(r.keys());
        if (!keys.removeIf(k -> id.equals(k.id()))) {
            throw new RepositoryException("no key '" + id + "' in " + store.location() + " (key list shows them)");
        }
        if (keys.isEmpty()) {
            throw new RepositoryException("refusing to remove the last key of " + store.location()
                    + ": without a key nothing in it can ever be read again");
        }
        write(store, new Ring(1, keys));
    }

    /**
     * Replaces one key by a new password or key file, in one write.
     *
     * @param store  a repository, held exclusively
     * @param opened the key that was opened, and the master key
     * @param secret the new password or key file
     * @param cost   Argon2id cost for a password
     * @return the new key's id
     * @throws IOException if it cannot be stored
     */
    public static String replace(ChunkStore store, Unlocked opened, Secret secret, Argon2 cost) throws IOException {
        Ring r = read(store);
        Key k = wrap(opened.master(), secret, cost);
        List<Key> keys = new ArrayList<>(r.keys());
        keys.removeIf(x -> opened.keyId().equals(x.id()));
        keys.add(k);
        write(store, new Ring(1, keys));
        return k.id();
    }

    private static Key wrap(MasterKey master, Secret secret, Argon2 cost) {
        byte[] salt = new byte[SALT];
        RANDOM.nextBytes(salt);
        byte[] idb = new byte[4];
        RANDOM.nextBytes(idb);
        String id = HexFormat.of().formatHex(idb);
        Kdf kdf = secret instanceof Secret.Password
                ? new Kdf(ARGON2ID, cost.memoryKib(), cost.iterations(), cost.parallelism())
                : new Kdf(KEY_FILE, null, null, null);
        byte[] kek = kek(kdf, salt, secret);
        byte[] raw = master.raw();
        String wrapped = Base64.getEncoder().encodeToString(MasterKey.seal(new SecretKeySpec(kek, "AES"),
                aad(id, kdf), raw, 0, raw.length));
        Arrays.fill(raw, (byte) 0);
        Arrays.fill(kek, (byte) 0);
        Key k = new Key(id, Instant.now().toString(), kdf, Base64.getEncoder().encodeToString(salt), wrapped, null);
        return new Key(id, k.created(), kdf, k.salt(), wrapped, checksum(k));
    }

    private static byte[] unwrap(Key k, Secret secret) {
        byte[] salt = Base64.getDecoder().decode(k.salt());
        byte[] kek = kek(k.kdf(), salt, secret);
        byte[] sealed = Base64.getDecoder().decode(k.wrapped());
        byte[] raw = new byte[MasterKey.BYTES];
        try {
            int n = MasterKey.open(new SecretKeySpec(kek, "AES"), sealed, 0, sealed.length, aad(k.id(), k.kdf()),
                    raw);
            return n == MasterKey.BYTES ? raw : null;
        } catch (AEADBadTagException | IllegalStateException e) {
            return null;
        } finally {
            Arrays.fill(kek, (byte) 0);
        }
    }

    private static byte[] kek(Kdf kdf, byte[] salt, Secret secret) {
        return switch (secret) {
            case Secret.Password p -> {
                byte[] pw = utf8(p.chars());
                try {
                    yield argon2id(pw, salt, null, null,
                            new Argon2(kdf.memoryKib(), kdf.iterations(), kdf.parallelism()), MasterKey.BYTES);
                } finally {
                    Arrays.fill(pw, (byte) 0);
                }
            }
            // A key file already carries full entropy: keyed hashing with the salt is enough.
            case Secret.KeyFile f -> MasterKey.hmac(salt).doFinal(f.bytes());
        };
    }

    /**
     * Argon2id (version 0x13) of RFC 9106.
     *
     * @param password the password bytes
     * @param salt     salt
     * @param secret   optional secret value K (null: none)
     * @param ad       optional associated data X (null: none)
     * @param cost     memory, passes, lanes
     * @param length   bytes of output
     * @return the tag
     */
    static byte[] argon2id(byte[] password, byte[] salt, byte[] secret, byte[] ad, Argon2 cost, int length) {
        Argon2Parameters.Builder b = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13).withSalt(salt)
                .withMemoryAsKB(cost.memoryKib()).withIterations(cost.iterations())
                .withParallelism(cost.parallelism());
        if (secret != null) {
            b.withSecret(secret);
        }
        if (ad != null) {
            b.withAdditional(ad);
        }
        Argon2BytesGenerator g = new Argon2BytesGenerator();
        g.init(b.build());
        byte[] out = new byte[length];
        g.generateBytes(password, out);
        return out;
    }

    private static byte[] utf8(char[] chars) {
        ByteBuffer bb = StandardCharsets.UTF_8.encode(CharBuffer.wrap(chars));
        byte[] b = new byte[bb.remaining()];
        bb.get(b);
        return b;
    }

    private static byte[] aad(String id, Kdf kdf) {
        try {
            return ("blksnap key " + id + " " + JSON.writeValueAsString(kdf)).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String checksum(Key k) {
        try {
            byte[] b = JSON.writeValueAsBytes(new Key(k.id(), k.created(), k.kdf(), k.salt(), k.wrapped(), null));
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void verifyChecksum(ChunkStore store, Key k) throws RepositoryException {
        boolean ok;
        try {
            ok = k.checksum() != null && k.id() != null && k.salt() != null && k.wrapped() != null
                    && k.checksum().equals(checksum(k));
            if (ok) {
                Base64.getDecoder().decode(k.salt());
                Base64.getDecoder().decode(k.wrapped());
            }
        } catch (IllegalArgumentException e) {
            ok = false;
        }
        if (!ok) {
            throw new RepositoryException("key object " + OBJECT + " in " + store.location() + " is damaged: key "
                    + k.id() + " fails its checksum");
        }
    }
}
