package org.blksnap.nbd;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a server listens: a Unix socket (the default: only local users with
 * access to the file connect) or a TCP address the user named.
 */
public sealed interface ListenAddress {

    /** @return the address to bind */
    SocketAddress socketAddress();

    /**
     * @param export an export name
     * @return the NBD URI (as libnbd and qemu write it) of that export here
     */
    default String uri(String export) {
        return uri(export, false);
    }

    /**
     * @param export an export name
     * @param tls    whether the server requires TLS ({@code nbds} schemes)
     * @return the NBD URI (as libnbd and qemu write it) of that export here
     */
    String uri(String export, boolean tls);

    /**
     * A Unix domain socket.
     *
     * @param path the socket file
     */
    record Unix(Path path) implements ListenAddress {
        /** Validates the path. */
        public Unix {
            Objects.requireNonNull(path, "path");
        }

        @Override
        public SocketAddress socketAddress() {
            return UnixDomainSocketAddress.of(path);
        }

        @Override
        public String uri(String export, boolean tls) {
            return (tls ? "nbds" : "nbd") + "+unix:///" + encode(export) + "?socket=" + path.toAbsolutePath();
        }
    }

    /**
     * A TCP address.
     *
     * @param host a host name or literal address, never empty
     * @param port 0..65535; 0 binds any free port
     */
    record Tcp(String host, int port) implements ListenAddress {
        /** Validates the fields. */
        public Tcp {
            Objects.requireNonNull(host, "host");
            if (host.isEmpty()) {
                throw new IllegalArgumentException("TCP address needs a host: the server never listens on "
                        + "all interfaces unless told to");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of 0..65535: " + port);
            }
        }

        @Override
        public SocketAddress socketAddress() {
            return new InetSocketAddress(host, port);
        }

        @Override
        public String uri(String export, boolean tls) {
            String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
            return (tls ? "nbds" : "nbd") + "://" + h + ":" + port + "/" + encode(export);
        }
    }

    /**
     * Parses {@code ADDR:PORT}, with IPv6 literals in brackets ({@code [::1]:10809}).
     *
     * @param text as the user wrote it
     * @return the address
     * @throws IllegalArgumentException with one line saying what is wrong
     */
    static Tcp parseTcp(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' is not ADDR:PORT");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException("'" + text + "': write an IPv6 address in brackets, [::1]:10809");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "': port is not a number");
        }
        return new Tcp(host, port);
    }

    private static String encode(String export) {
        return URLEncoder.encode(export, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
