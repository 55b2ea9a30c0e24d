package org.blksnap.backup.repo;

import java.io.IOException;

/** What unlocks a key of an encrypted repository. */
public sealed interface Secret {
    /**
     * A password, stretched with Argon2id.
     *
     * @param chars the password (UTF-8 when hashed)
     */
    record Password(char[] chars) implements Secret {
    }

    /**
     * The content of a key file: random bytes, at least 32 of them, used as
     * they are (no stretching: they carry their own entropy).
     *
     * @param bytes the file's content
     */
    record KeyFile(byte[] bytes) implements Secret {
        /** Smallest key file accepted. */
        public static final int MIN_BYTES = 32;

        /** Rejects a file too short to be a key. */
        public KeyFile {
            if (bytes.length < MIN_BYTES) {
                throw new IllegalArgumentException("a key file needs at least " + MIN_BYTES
                        + " random bytes (e.g. head -c 64 /dev/urandom > FILE), this one has " + bytes.length);
            }
        }
    }

    /** Asked for a secret only when a repository turns out to be encrypted (so plain ones never prompt). */
    @FunctionalInterface
    interface Source {
        /** For repositories that are not encrypted: asking fails. */
        Source NONE = () -> {
            throw new RepositoryException("the repository is encrypted: give its password (BLKSNAP_PASSWORD_FILE, "
                    + "--password-command or a terminal) or --key-file");
        };

        /**
         * @return the secret
         * @throws IOException if it cannot be had (no terminal, the command failed)
         */
        Secret get() throws IOException;
    }
}
