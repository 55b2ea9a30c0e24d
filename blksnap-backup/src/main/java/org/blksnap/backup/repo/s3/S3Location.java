package org.blksnap.backup.repo.s3;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where an S3 repository is, parsed from {@code --repo}:
 * {@code s3:https://HOST[:PORT]/BUCKET[/PREFIX]} for an S3-compatible service
 * (addressed path-style, since such services rarely have a DNS name per bucket)
 * or {@code s3:BUCKET[/PREFIX]} for AWS itself (region and credentials from the
 * SDK's default chains).
 *
 * @param endpoint the service's address, empty for AWS
 * @param bucket   the bucket
 * @param prefix   key prefix of every object, empty or ending in '/'
 */
public record S3Location(Optional<URI> endpoint, String bucket, String prefix) {
    /** What every S3 repository argument starts with. */
    public static final String SCHEME = "s3:";

    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern PREFIX = Pattern.compile("([A-Za-z0-9._-]+/)*");

    /** Checks the parts. */
    public S3Location {
        if (!BUCKET.matcher(bucket).matches()) {
            throw new IllegalArgumentException("invalid S3 bucket name '" + bucket
                    + "' (3-63 lower-case letters, digits, dots and hyphens)");
        }
        if (!PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("invalid S3 key prefix '" + prefix
                    + "' (letters, digits, '.', '_', '-' between slashes)");
        }
    }

    /**
     * @param arg a repository argument
     * @return true if it names an S3 repository
     */
    public static boolean isS3(String arg) {
        return arg.startsWith(SCHEME);
    }

    /**
     * @param arg {@code s3:...}
     * @return the location
     * @throws IllegalArgumentException with one line for the user if it is malformed
     */
    public static S3Location parse(String arg) {
        if (!isS3(arg)) {
            throw new IllegalArgumentException("not an S3 repository: '" + arg + "' (it starts with s3:)");
        }
        String rest = arg.substring(SCHEME.length());
        if (rest.startsWith("http://") || rest.startsWith("https://")) {
            URI uri;
            try {
                uri = new URI(rest);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("invalid S3 endpoint in '" + arg + "': " + e.getReason());
            }
            if (uri.getHost() == null || uri.getRawQuery() != null || uri.getRawFragment() != null
                    || uri.getRawUserInfo() != null) {
                throw new IllegalArgumentException("invalid S3 repository '" + arg
                        + "': expected s3:https://HOST[:PORT]/BUCKET[/PREFIX]");
            }
            URI endpoint = URI.create(uri.getScheme() + "://" + uri.getRawAuthority());
            return fromPath(arg, Optional.of(endpoint), uri.getPath() == null ? "" : uri.getPath());
        }
        if (rest.contains(":")) {
            throw new IllegalArgumentException("invalid S3 repository '" + arg
                    + "': expected s3:BUCKET[/PREFIX] or s3:https://HOST[:PORT]/BUCKET[/PREFIX]");
        }
        return fromPath(arg, Optional.empty(), rest);
    }

    private static S3Location fromPath(String arg, Optional<URI> endpoint, String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        if (p.isEmpty()) {
            throw new IllegalArgumentException("S3 repository '" + arg + "' names no bucket");
        }
        int slash = p.indexOf('/');
        String bucket = slash < 0 ? p : p.substring(0, slash);
        String prefix = slash < 0 ? "" : p.substring(slash + 1);
        if (!prefix.isEmpty() && !prefix.endsWith("/")) {
            prefix += "/";
        }
        return new S3Location(endpoint, bucket, prefix);
    }

    @Override
    public String toString() {
        return SCHEME + endpoint.map(e -> e + "/").orElse("") + bucket + (prefix.isEmpty() ? "" : "/"
                + prefix.substring(0, prefix.length() - 1));
    }
}
