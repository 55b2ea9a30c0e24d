package org.blksnap.s3server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

class LoopbackS3Test {
    @TempDir
    Path tmp;

    private static S3Client client(LoopbackS3 server, String secret) {
        return S3Client.builder().endpointOverride(server.endpoint()).forcePathStyle(true).region(Region.US_EAST_1)
                .httpClientBuilder(Apache5HttpClient.builder())
                // As blksnap's store: S3Proxy does not accept the SDK's newer default checksums.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", secret)))
                .build();
    }

    @Test
    void objectsAreFilesUnderTheDirectoryAndTheSignatureIsChecked() throws Exception {
        Path dir = tmp.resolve("store");
        byte[] data = "pack bytes".getBytes(StandardCharsets.UTF_8);
        try (LoopbackS3 server = LoopbackS3.start(dir, "k", "secret", 0);
                S3Client s3 = client(server, "secret"); S3Client wrong = client(server, "not the secret")) {
            assertTrue(server.port() > 0);
            s3.createBucket(b -> b.bucket("demo"));
            s3.putObject(b -> b.bucket("demo").key("packs/ab/cd"), RequestBody.fromBytes(data));
            assertArrayEquals(data, s3.getObjectAsBytes(b -> b.bucket("demo").key("packs/ab/cd")).asByteArray());
            assertArrayEquals(data, Files.readAllBytes(dir.resolve("demo/packs/ab/cd")));
            S3Exception e = assertThrows(S3Exception.class,
                    () -> wrong.getObjectAsBytes(b -> b.bucket("demo").key("packs/ab/cd")));
            assertEquals(403, e.statusCode());
        }
    }

    private static int run(StringBuilder err, String... args) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        CommandLine cl = new CommandLine(new LoopbackS3.Cli());
        cl.setErr(new PrintWriter(b, true, StandardCharsets.UTF_8));
        int rc = cl.execute(args);
        err.append(b.toString(StandardCharsets.UTF_8));
        return rc;
    }

    @Test
    void withoutCredentialsItSaysSoAndExits2() {
        StringBuilder err = new StringBuilder();
        assertEquals(2, run(err, "--dir", tmp.toString(), "--access-key", "", "--secret-key", ""));
        assertTrue(err.toString().startsWith("no credentials: set AWS_ACCESS_KEY_ID"), err.toString());
    }

    @Test
    void aFileForItsDirectoryIsRefusedWithExit2() throws Exception {
        Path f = Files.writeString(tmp.resolve("f"), "x");
        StringBuilder err = new StringBuilder();
        assertEquals(2, run(err, "--dir", f.toString(), "--access-key", "k", "--secret-key", "s"));
        assertTrue(err.toString().startsWith(f + " is not a directory"), err.toString());
    }
}
