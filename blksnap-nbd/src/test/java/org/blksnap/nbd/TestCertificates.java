package org.blksnap.nbd;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throw-away CA and a server certificate signed by it, made with openssl
 * as a user would: {@code server/} is the server's --tls-certificates
 * directory (server-cert.pem, server-key.pem), {@code client/} holds only
 * ca-cert.pem, which libnbd and qemu verify the server against.
 *
 * @param server the server's directory
 * @param client a client's directory
 * @param ca     the CA certificate
 */
record TestCertificates(Path server, Path client, Path ca) {

    /** Makes a CA named {@code name} and a server certificate for localhost and 127.0.0.1 in {@code dir}. */
    static TestCertificates make(Path dir, String name) throws IOException, InterruptedException {
        Path server = Files.createDirectories(dir.resolve("server"));
        Path client = Files.createDirectories(dir.resolve("client"));
        Path caKey = dir.resolve("ca-key.pem");
        Path ca = client.resolve("ca-cert.pem");
        Tool.ok("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey.toString(), "-out",
                ca.toString(), "-days", "2", "-subj", "/CN=" + name, "-addext",
                "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        Path csr = dir.resolve("server.csr");
        Tool.ok("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout",
                server.resolve("server-key.pem").toString(), "-out", csr.toString(), "-subj", "/CN=localhost");
        Path ext = dir.resolve("server.ext");
        Files.writeString(ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                + "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n");
        Tool.ok("openssl", "x509", "-req", "-in", csr.toString(), "-CA", ca.toString(), "-CAkey", caKey.toString(),
                "-CAcreateserial", "-days", "2", "-extfile", ext.toString(), "-out",
                server.resolve("server-cert.pem").toString());
        return new TestCertificates(server, client, ca);
    }

    /** @return a client context that trusts only this CA, for RawClient */
    SSLContext clientContext() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(ca)) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, tmf.getTrustManagers(), null);
        return c;
    }
}
