package org.blksnap.nbd;

import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.util.Arrays;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

import tlschannel.ServerTlsChannel;
import tlschannel.TlsChannel;

/**
 * The TLS side of NBD_OPT_STARTTLS: once the server has acknowledged the
 * option, the same connection carries a TLS handshake and then everything
 * else. The JDK's SSLEngine does the TLS; tls-channel makes it a blocking
 * ByteChannel over the Unix or TCP socket, with reads and writes that may
 * run on different threads at once (the transmission phase reads requests on
 * one thread while replies are written on others).
 */
final class StartTls {
    /** TLS 1.2 is what the NBD protocol requires every implementation to offer; 1.3 is preferred. */
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final SSLContext context;

    StartTls(TlsCredentials credentials) {
        this.context = credentials.sslContext();
    }

    /**
     * Runs the server side of the handshake on {@code raw}.
     *
     * @return the channel to speak NBD on from now on; closing it sends
     *         close_notify and closes {@code raw}
     * @throws IOException when the handshake fails (not TLS, no common
     *                     cipher, the peer went away)
     */
    ByteChannel handshake(ByteChannel raw) throws IOException {
        TlsChannel tls = ServerTlsChannel.newBuilder(raw, context).withEngineFactory(this::engine).build();
        tls.handshake();
        return tls;
    }

    private SSLEngine engine(SSLContext c) {
        SSLEngine e = c.createSSLEngine();
        e.setUseClientMode(false);
        String[] offered = Arrays.stream(PROTOCOLS)
                .filter(p -> Arrays.asList(e.getSupportedProtocols()).contains(p)).toArray(String[]::new);
        e.setEnabledProtocols(offered);
        return e;
    }
}
