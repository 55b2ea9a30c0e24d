package org.blksnap.backup.repo.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.blksnap.backup.repo.RepositoryException;
import org.junit.jupiter.api.Test;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain;
import software.amazon.awssdk.auth.credentials.SystemPropertyCredentialsProvider;

/**
 * A repository on S3 without credentials: one short line that says what to
 * set, not the SDK's list of every provider it tried and why each failed.
 */
class S3CredentialsTest {
    @Test
    void noCredentialsSaysWhatToSetInOneShortLine() {
        // Nothing listens there: the credentials are looked for before any connection.
        S3Location where = S3Location.parse("s3:http://127.0.0.1:9/bucket/prefix");
        AwsCredentialsProviderChain none = AwsCredentialsProviderChain.of(SystemPropertyCredentialsProvider.create());
        try (S3Store store = S3Store.connect(where, S3Options.defaults(), none)) {
            RepositoryException e = assertThrows(RepositoryException.class, store::exists);
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            assertTrue(e.getMessage().contains("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
                    e.getMessage());
            assertTrue(e.getMessage().length() < 250, e.getMessage().length() + " characters: " + e.getMessage());
        }
    }
}
