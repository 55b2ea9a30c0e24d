package org.blksnap.backup.repo.s3;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;

import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.RepositoryException;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.AwsProfileRegionProvider;
import software.amazon.awssdk.regions.providers.AwsRegionProvider;
import software.amazon.awssdk.regions.providers.AwsRegionProviderChain;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.regions.providers.SystemSettingsRegionProvider;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A repository in an S3 bucket, under a key prefix:
 *
 * <pre>
 * PREFIX/blksnap-repository.json   what this prefix is (format, chunk size)
 * PREFIX/packs/00 .. ff/NAME       pack objects (multipart uploads of 8 MiB parts)
 * PREFIX/index/NAME                index objects
 * PREFIX/manifests/ID              one binary manifest per backup
 * PREFIX/summaries/ID.json         one summary per backup; makes it visible
 * PREFIX/locks/ID.json             one object per lock holder (see {@link S3Lock})
 * </pre>
 *
 * <p>A PUT is atomic and durable when it returns, and a multipart upload is
 * invisible until completed, so the store needs no temporary objects: an
 * interrupted pack is an incomplete upload, aborted by the writer on failure
 * and by {@link #removeLeftovers} (under the exclusive lock) after a kill.
 * Data objects are written once and never overwritten; only a holder's own
 * lock object is rewritten, by its heartbeat.
 *
 * <p>Every request is retried by the SDK's standard strategy, configured here
 * explicitly from {@link S3Options}: throttling (503 SlowDown), 5xx answers
 * and I/O errors (refused, reset or cut connections) are retried with
 * exponential back-off and full jitter; the retry-quota circuit breaker is off
 * because a backup would rather wait than fail under sustained throttling.
 */
public final class S3Store implements ChunkStore {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");
    private static final List<String> DIRS = List.of("packs/", "index/", "manifests/", "summaries/", "locks/");

    private final S3Client s3;
    private final S3Location where;
    private final S3Options options;
    private final ExecutorService uploads = Executors.newVirtualThreadPerTaskExecutor();
    private final Set<S3Lock> held = ConcurrentHashMap.newKeySet();
    private boolean locksBroken;

    /**
     * @param s3      the client; the store closes it
     * @param where   bucket and prefix
     * @param options part sizes, lock timing
     */
    public S3Store(S3Client s3, S3Location where, S3Options options) {
        this.s3 = s3;
        this.where = where;
        this.options = options;
    }

    /**
     * Connects with the SDK's default credentials chain (system properties
     * aws.accessKeyId/aws.secretAccessKey, environment AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
     * ~/.aws/credentials and its profile, then the instance or container role).
     *
     * @param where   bucket, prefix and endpoint
     * @param options part sizes, retries, lock timing
     * @return the store
     */
    public static S3Store connect(S3Location where, S3Options options) {
        return connect(where, options, DefaultCredentialsProvider.builder().build());
    }

    /**
     * @param where       bucket, prefix and endpoint
     * @param options     part sizes, retries, lock timing
     * @param credentials where the keys come from
     * @return the store
     */
    public static S3Store connect(S3Location where, S3Options options, AwsCredentialsProvider credentials) {
        S3ClientBuilder b = S3Client.builder()
                .credentialsProvider(credentials)
                .httpClientBuilder(Apache5HttpClient.builder()
                        // Parts in flight of a few concurrent pack writers, plus reads.
                        .maxConnections(4 * options.partsInFlight() + 16)
                        .connectionTimeout(Duration.ofSeconds(10))
                        .socketTimeout(Duration.ofSeconds(60)))
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder()
                        .maxAttempts(options.maxAttempts())
                        .backoffStrategy(BackoffStrategy.exponentialDelay(options.retryBase(), options.retryMax()))
                        .throttlingBackoffStrategy(BackoffStrategy.exponentialDelay(options.retryBase(),
                                options.retryMax()))
                        .circuitBreakerEnabled(false)
                        .build()))
                // S3-compatible services differ in which of the newer
                // integrity checksums they accept; send and check them only
                // where an operation requires them. Chunks carry their own
                // SHA-256 and packs their own trailer checksum anyway.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (where.endpoint().isPresent()) {
            // Never the instance metadata service: a custom endpoint is not on
            // AWS, and its region is whatever the user configured, if anything.
            b.endpointOverride(where.endpoint().get()).forcePathStyle(true)
                    .region(regionOr(new AwsRegionProviderChain(new SystemSettingsRegionProvider(),
                            new AwsProfileRegionProvider()), Region.US_EAST_1));
        } else {
            b.region(regionOr(new DefaultAwsRegionProviderChain(), Region.US_EAST_1)).crossRegionAccessEnabled(true);
        }
        return new S3Store(b.build(), where, options);
    }

    private static Region regionOr(AwsRegionProvider chain, Region fallback) {
        try {
            return chain.getRegion();
        } catch (SdkException e) {
            // No AWS_REGION nor profile region: custom services mostly ignore
            // the region, and AWS redirects (cross-region access is on).
            return fallback;
        }
    }

    /** @return bucket and prefix */
    public S3Location where() {
        return where;
    }

    /** @return the options */
    public S3Options options() {
        return options;
    }

    S3Client client() {
        return s3;
    }

    @Override
    public String location() {
        return where.toString();
    }

    /**
     * @param kind namespace
     * @param name object name
     * @return the object's key
     */
    public String key(Kind kind, String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid object name '" + name + "'");
        }
        String p = where.prefix();
        return switch (kind) {
            case PACK -> {
                if (name.length() < 2) {
                    throw new IllegalArgumentException("invalid pack name '" + name + "'");
                }
                yield p + "packs/" + name.substring(0, 2).toLowerCase() + "/" + name;
            }
            case INDEX -> p + "index/" + name;
            case MANIFEST -> p + "manifests/" + name;
            case SUMMARY -> p + "summaries/" + name + ".json";
            case CONFIG -> p + name;
        };
    }

    String lockPrefix() {
        return where.prefix() + "locks/";
    }

    @Override
    public boolean exists() throws IOException {
        return size(Kind.CONFIG, LocalDirectoryStore.CONFIG_FILE) >= 0;
    }

    @Override
    public void create() throws IOException {
        try {
            s3.headBucket(r -> r.bucket(where.bucket()));
        } catch (NoSuchBucketException e) {
            call(() -> s3.createBucket(r -> r.bucket(where.bucket())));
        } catch (S3Exception e) {
            if (e.statusCode() != 404) {
                throw io("cannot reach bucket " + where.bucket(), e);
            }
            call(() -> s3.createBucket(r -> r.bucket(where.bucket())));
        } catch (SdkException e) {
            throw io("cannot reach bucket " + where.bucket(), e);
        }
        // As a local repository refuses a directory that holds other files.
        var page = call(() -> s3.listObjectsV2(r -> r.bucket(where.bucket()).prefix(where.prefix()).maxKeys(100)));
        for (S3Object o : page.contents()) {
            String rel = o.key().substring(where.prefix().length());
            // The key object may be there alone: a create stopped between it and the config.
            if (DIRS.stream().noneMatch(rel::startsWith) && !rel.equals(LocalDirectoryStore.CONFIG_FILE)
                    && !rel.equals(org.blksnap.backup.repo.KeyRing.OBJECT)) {
                throw new RepositoryException(location() + " is not empty and not a blksnap backup repository "
                        + "(it holds " + rel + ")");
            }
        }
    }

    @Override
    public void put(Kind kind, String name, byte[] data, int length) throws IOException {
        String key = key(kind, name);
        call(() -> s3.putObject(r -> r.bucket(where.bucket()).key(key).contentLength((long) length),
                body(data, length)));
    }

    static RequestBody body(byte[] data, int length) {
        // A marked stream over the caller's array: no copy, and the SDK
        // resets it to send the body again on a retry.
        return RequestBody.fromInputStream(new ByteArrayInputStream(data, 0, length), length);
    }

    @Override
    public ObjectWriter writer(Kind kind, String name) {
        return new S3PackWriter(this, key(kind, name), uploads);
    }

    @Override
    public void flush() {
        // A completed upload is durable when CompleteMultipartUpload returns.
    }

    @Override
    public byte[] get(Kind kind, String name) throws IOException {
        String key = key(kind, name);
        try {
            return s3.getObject(r -> r.bucket(where.bucket()).key(key), ResponseTransformer.toBytes())
                    .asByteArrayUnsafe();
        } catch (NoSuchKeyException e) {
            throw new NoSuchFileException(location() + "/" + key.substring(where.prefix().length()));
        } catch (SdkException e) {
            throw io("cannot read " + key, e);
        }
    }

    @Override
    public void read(Kind kind, String name, long offset, byte[] dst, int at, int length) throws IOException {
        if (length == 0) {
            return;
        }
        String key = key(kind, name);
        ResponseBytes<GetObjectResponse> got;
        try {
            got = s3.getObject(r -> r.bucket(where.bucket()).key(key)
                    .range("bytes=" + offset + "-" + (offset + length - 1)), ResponseTransformer.toBytes());
        } catch (NoSuchKeyException e) {
            throw new NoSuchFileException(location() + "/" + key.substring(where.prefix().length()));
        } catch (S3Exception e) {
            if (e.statusCode() == 416) {
                throw new EOFException(name + " ends before byte " + (offset + length));
            }
            throw io("cannot read " + key, e);
        } catch (SdkException e) {
            throw io("cannot read " + key, e);
        }
        byte[] b = got.asByteArrayUnsafe();
        if (b.length < length) {
            throw new EOFException(name + " ends before byte " + (offset + length));
        }
        System.arraycopy(b, 0, dst, at, length);
    }

    @Override
    public long size(Kind kind, String name) throws IOException {
        return size(key(kind, name));
    }

    @Override
    public List<String> list(Kind kind) throws IOException {
        String dir = switch (kind) {
            case PACK -> "packs/";
            case INDEX -> "index/";
            case MANIFEST -> "manifests/";
            case SUMMARY -> "summaries/";
            case CONFIG -> "";
        };
        if (kind == Kind.CONFIG) {
            return exists() ? List.of(LocalDirectoryStore.CONFIG_FILE) : List.of();
        }
        String suffix = kind == Kind.SUMMARY ? ".json" : "";
        List<String> names = new ArrayList<>();
        for (S3Object o : listKeys(where.prefix() + dir)) {
            String n = o.key().substring(o.key().lastIndexOf('/') + 1);
            if (n.endsWith(suffix) && NAME.matcher(n).matches()) {
                names.add(n.substring(0, n.length() - suffix.length()));
            }
        }
        return names;
    }

    @Override
    public java.util.Map<String, Long> sizes(Kind kind) throws IOException {
        if (kind != Kind.PACK) {
            return ChunkStore.super.sizes(kind);
        }
        java.util.Map<String, Long> out = new java.util.HashMap<>();
        for (S3Object o : listKeys(where.prefix() + "packs/")) {
            String n = o.key().substring(o.key().lastIndexOf('/') + 1);
            if (NAME.matcher(n).matches()) {
                out.put(n, o.size());
            }
        }
        return out;
    }

    List<S3Object> listKeys(String prefix) throws IOException {
        return call(() -> {
            List<S3Object> all = new ArrayList<>();
            s3.listObjectsV2Paginator(r -> r.bucket(where.bucket()).prefix(prefix)).contents().forEach(all::add);
            return all;
        });
    }

    @Override
    public void delete(Kind kind, String name) throws IOException {
        String key = key(kind, name);
        for (S3Lock l : held) {
            if (l.lost()) {
                throw new RepositoryException(location() + ": the repository lock was lost (see above); "
                        + "stopped before deleting " + key);
            }
        }
        call(() -> s3.deleteObject(r -> r.bucket(where.bucket()).key(key)));
    }

    @Override
    public Lock lock(LockMode mode, Duration wait) throws IOException {
        synchronized (this) {
            if (options.breakLock() && !locksBroken) {
                // Once per store: later locks of this command are its own.
                S3Lock.breakAll(this);
                locksBroken = true;
            }
        }
        return S3Lock.take(this, mode, wait);
    }

    void held(S3Lock l) {
        held.add(l);
    }

    void released(S3Lock l) {
        held.remove(l);
    }

    /** @return the size of the object at a key, or -1 if there is none */
    long size(String key) throws IOException {
        try {
            return s3.headObject(r -> r.bucket(where.bucket()).key(key)).contentLength();
        } catch (NoSuchKeyException e) {
            return -1;
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return -1;
            }
            throw io("cannot ask for " + key, e);
        } catch (SdkException e) {
            throw io("cannot ask for " + key, e);
        }
    }

    @Override
    public int removeLeftovers() throws IOException {
        // Only uploads under this prefix: other repositories may share the bucket.
        int n = 0;
        String keyMarker = null;
        String idMarker = null;
        while (true) {
            String km = keyMarker;
            String im = idMarker;
            ListMultipartUploadsResponse page = call(() -> s3.listMultipartUploads(r -> r.bucket(where.bucket())
                    .prefix(where.prefix()).keyMarker(km).uploadIdMarker(im)));
            for (MultipartUpload u : page.uploads()) {
                call(() -> s3.abortMultipartUpload(r -> r.bucket(where.bucket()).key(u.key())
                        .uploadId(u.uploadId())));
                n++;
            }
            if (!Boolean.TRUE.equals(page.isTruncated())) {
                return n;
            }
            keyMarker = page.nextKeyMarker();
            idMarker = page.nextUploadIdMarker();
        }
    }

    @Override
    public void close() {
        uploads.close();
        s3.close();
    }

    /** A request to the service. */
    @FunctionalInterface
    interface Call<T> {
        T run();
    }

    <T> T call(Call<T> c) throws IOException {
        try {
            return c.run();
        } catch (SdkException e) {
            throw io("request failed", e);
        }
    }

    IOException io(String what, SdkException e) {
        if (e instanceof S3Exception s && (s.statusCode() == 403 || s.statusCode() == 401)) {
            return new RepositoryException(location() + ": access denied (" + s.awsErrorDetails().errorCode()
                    + "): check the credentials and the bucket's policy", e);
        }
        if (e instanceof NoSuchBucketException) {
            return new RepositoryException(location() + ": no such bucket", e);
        }
        // The SDK says so in one line listing every provider of its chain and
        // why each failed: hundreds of characters that bury what to do.
        if (e instanceof SdkClientException && e.getMessage() != null
                && e.getMessage().startsWith("Unable to load credentials")) {
            return new RepositoryException(location() + ": no S3 credentials: set AWS_ACCESS_KEY_ID and "
                    + "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (~/.aws/credentials), or run where an instance or "
                    + "container role provides them", e);
        }
        return new IOException(location() + ": " + what + ": " + oneLine(e), e);
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
