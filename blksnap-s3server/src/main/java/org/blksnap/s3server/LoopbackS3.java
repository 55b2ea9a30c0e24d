package org.blksnap.s3server;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.jclouds.filesystem.reference.FilesystemConstants;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A real S3 server for the demo and the host benchmark: S3Proxy on
 * 127.0.0.1 over jclouds' filesystem store (a bucket is a directory, an
 * object a file), with signature checking on, so blksnap talks to it exactly
 * as to a remote service. Loopback only: it is never meant to serve a network.
 */
public final class LoopbackS3 implements AutoCloseable {
    private final S3Proxy proxy;
    private final BlobStoreContext context;

    private LoopbackS3(S3Proxy proxy, BlobStoreContext context) {
        this.proxy = proxy;
        this.context = context;
    }

    /**
     * Starts a server and waits until it listens.
     *
     * @param dir       where buckets and objects are kept (created if missing)
     * @param accessKey the only access key it accepts
     * @param secretKey its secret
     * @param port      0 for one the system picks
     * @return the running server
     * @throws Exception if it does not start within 60 s
     */
    public static LoopbackS3 start(Path dir, String accessKey, String secretKey, int port) throws Exception {
        Files.createDirectories(dir);
        Properties p = new Properties();
        p.setProperty(FilesystemConstants.PROPERTY_BASEDIR, dir.toAbsolutePath().toString());
        BlobStoreContext context = ContextBuilder.newBuilder("filesystem").credentials("unused", "unused")
                .overrides(p).build(BlobStoreContext.class);
        S3Proxy proxy;
        try {
            proxy = S3Proxy.builder().blobStore(context.getBlobStore())
                    .endpoint(URI.create("http://127.0.0.1:" + port))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey).build();
            proxy.start();
        } catch (Exception e) {
            context.close();
            throw e;
        }
        LoopbackS3 s = new LoopbackS3(proxy, context);
        // Under CPU emulation Jetty takes seconds to come up.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline || "FAILED".equals(proxy.getState())) {
                String state = proxy.getState();
                s.close();
                throw new IOException("S3Proxy did not start (state " + state + ")");
            }
            Thread.sleep(10);
        }
        return s;
    }

    /** @return the port it listens on */
    public int port() {
        return proxy.getPort();
    }

    /** @return its endpoint, for an {@code s3:http://...} repository */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port());
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

    /** The command line: options, then {@link #call()}. */
    @Command(name = "blksnap-s3server", mixinStandardHelpOptions = true,
            description = {"S3Proxy on 127.0.0.1 over a directory, until SIGTERM or SIGINT.",
                "Exit status: 1 it could not start, 2 bad arguments; stopped by a signal, the JVM's 143 or 130."})
    static final class Cli implements Callable<Integer> {
        @Option(names = "--dir", required = true, description = "Directory holding the buckets (created if missing).")
        Path dir;
        @Option(names = "--port", defaultValue = "0", description = "TCP port on 127.0.0.1; 0 (default) picks one.")
        int port;
        @Option(names = "--port-file",
                description = "Written with the port once the server listens (and removed when it stops).")
        Path portFile;
        @Option(names = "--access-key", defaultValue = "${env:AWS_ACCESS_KEY_ID}",
                description = "The access key it accepts (default: $AWS_ACCESS_KEY_ID).")
        String accessKey;
        @Option(names = "--secret-key", defaultValue = "${env:AWS_SECRET_ACCESS_KEY}",
                description = "Its secret (default: $AWS_SECRET_ACCESS_KEY).")
        String secretKey;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (accessKey == null || accessKey.isEmpty() || secretKey == null || secretKey.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --access-key and "
                                + "--secret-key");
            }
            if (port < 0 || port > 65535) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--port " + port + " is not a TCP port");
            }
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new CommandLine.ParameterException(spec.commandLine(), dir + " is not a directory");
            }
            LoopbackS3 server;
            try {
                server = start(dir, accessKey, secretKey, port);
            } catch (Exception e) {
                System.err.println("blksnap-s3server: " + e.getMessage());
                return 1;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    if (portFile != null) {
                        Files.deleteIfExists(portFile);
                    }
                    server.close();
                } catch (Exception e) {
                    System.err.println("blksnap-s3server: stopping: " + e.getMessage());
                } finally {
                    stopped.countDown();
                }
            }));
            if (portFile != null) {
                // Whole or absent: a script polling for the file never reads half a number.
                Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
                Files.writeString(tmp, server.port() + "\n", StandardCharsets.US_ASCII);
                Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            System.out.println("blksnap-s3server: listening on " + server.endpoint() + ", objects under "
                    + dir.toAbsolutePath());
            stopped.await();
            return 0;
        }
    }

    /** @param args the command line */
    public static void main(String[] args) {
        System.exit(new CommandLine(new Cli()).execute(args));
    }
}
