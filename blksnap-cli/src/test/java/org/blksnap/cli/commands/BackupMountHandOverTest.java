package org.blksnap.cli.commands;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.charset.StandardCharsets;

import org.blksnap.backup.repo.RepositoryException;
import org.blksnap.backup.repo.Secret;
import org.junit.jupiter.api.Test;

/**
 * The secret 'backup mount' hands its background process on standard input
 * must arrive as it was typed: a password that gains bytes opens no key.
 */
class BackupMountHandOverTest {
    private static Secret handOver(Secret s) throws RepositoryException {
        String line = new String(BackupMountCommand.encode(s), StandardCharsets.US_ASCII);
        return BackupMountCommand.decode(line.substring(0, line.length() - 1));
    }

    @Test
    void aPasswordArrivesExactly() throws RepositoryException {
        for (String pw : new String[] {"backup-mount-it password", "x", "pässwörd ✓ with more than ascii"}) {
            Secret got = handOver(new Secret.Password(pw.toCharArray()));
            assertArrayEquals(pw.toCharArray(), assertInstanceOf(Secret.Password.class, got).chars(), pw);
        }
    }

    @Test
    void aKeyFileArrivesExactly() throws RepositoryException {
        byte[] key = new byte[Secret.KeyFile.MIN_BYTES + 3];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (i * 37);
        }
        Secret got = handOver(new Secret.KeyFile(key));
        assertArrayEquals(key, assertInstanceOf(Secret.KeyFile.class, got).bytes());
    }
}
