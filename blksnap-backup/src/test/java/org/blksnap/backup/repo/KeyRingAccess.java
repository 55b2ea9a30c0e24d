package org.blksnap.backup.repo;

/** Opens the package-private primitives of the key ring to the known-answer tests. */
public final class KeyRingAccess {
    private KeyRingAccess() {
    }

    /**
     * @return {@link KeyRing#argon2id}
     */
    public static byte[] argon2id(byte[] password, byte[] salt, byte[] secret, byte[] ad, KeyRing.Argon2 cost,
            int length) {
        return KeyRing.argon2id(password, salt, secret, ad, cost, length);
    }

    /**
     * @return {@link MasterKey#derive}: HMAC-SHA-256(key, label)
     */
    public static byte[] derive(byte[] key, String label) {
        return MasterKey.derive(key, label);
    }
}
