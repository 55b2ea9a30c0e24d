package org.blksnap.backup;

import java.net.URI;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;

import org.blksnap.backup.repo.s3.S3Location;
import org.blksnap.backup.repo.s3.S3Options;
import org.blksnap.backup.repo.s3.S3Store;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3 server for tests: S3Proxy over jclouds' in-memory blob store,
 * on 127.0.0.1 at a port the system picks, with signature checking on.
 */
public final class S3Server implements AutoCloseable {
    /** Access key the server accepts. */
    public static final String ACCESS_KEY = "blksnap-test";
    /** Its secret. */
    public static final String SECRET_KEY = "blksnap-test-secret";

    private final S3Proxy proxy;
    private final BlobStoreContext context;

    /** @throws Exception if it does not start */
    public S3Server() throws Exception {
        context = ContextBuilder.newBuilder("transient").credentials("unused", "unused").overrides(new Properties())
                .build(BlobStoreContext.class);
        proxy = S3Proxy.builder().blobStore(context.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).build();
        proxy.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
            }
            Thread.sleep(10);
        }
    }

    /** @return the port it listens on */
    public int port() {
        return proxy.getPort();
    }

    /** @return a repository argument in a fresh bucket, through {@code port} (the server's or a proxy's) */
    public static String freshRepo(int port) {
        return "s3:http://127.0.0.1:" + port + "/b" + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + "/backups/host1";
    }

    /** Test timing: quick retries and heartbeats, notices collected by the caller. */
    public static S3Options testOptions() {
        return S3Options.defaults().withRetries(10, Duration.ofMillis(20), Duration.ofMillis(300))
                .withLockTiming(Duration.ofSeconds(1), Duration.ofSeconds(3));
    }

    /**
     * @param repo    {@code s3:http://...}
     * @param options part sizes, timing
     * @return a store with the test credentials
     */
    public static S3Store store(String repo, S3Options options) {
        return S3Store.connect(S3Location.parse(repo), options,
                StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)));
    }

    /**
     * @param port the server's or a proxy's
     * @return a plain client with the test credentials, to look behind the store's back
     */
    public static S3Client client(int port) {
        return S3Client.builder().endpointOverride(URI.create("http://127.0.0.1:" + port)).forcePathStyle(true)
                .region(Region.US_EAST_1).httpClientBuilder(Apache5HttpClient.builder())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY,
                        SECRET_KEY))).build();
    }

    /**
     * Gives this server's credentials to the SDK's default chain through its
     * first link, the system properties, as a user's environment would: for
     * tests of the command, whose stores are made by the command itself.
     */
    public static void useAsDefaultCredentials() {
        System.setProperty("aws.accessKeyId", ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", SECRET_KEY);
        // Loopback only: the default chains must not reach for an instance role.
        System.setProperty("aws.disableEc2Metadata", "true");
    }

    /** Undoes {@link #useAsDefaultCredentials()}. */
    public static void clearDefaultCredentials() {
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
        System.clearProperty("aws.disableEc2Metadata");
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new IllegalStateException("S3Proxy did not stop", e);
        } finally {
            context.close();
        }
    }
}
