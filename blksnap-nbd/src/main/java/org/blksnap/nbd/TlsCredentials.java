package org.blksnap.nbd;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * The server's TLS identity: its certificate chain and private key, read from
 * PEM files laid out as qemu-nbd ({@code --tls-creds x509,dir=DIR}) and
 * nbdkit ({@code --tls-certificates DIR}) expect them, so one directory
 * serves them all.
 *
 * @param chain the server certificate first, then any intermediates
 * @param key   the certificate's private key
 */
public record TlsCredentials(List<X509Certificate> chain, PrivateKey key) {
    /** The server certificate, then any intermediates, in PEM. */
    public static final String CERTIFICATE_FILE = "server-cert.pem";
    /** Its private key in PEM: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), unencrypted. */
    public static final String KEY_FILE = "server-key.pem";

    /** Checks that there is a chain and copies it. */
    public TlsCredentials {
        Objects.requireNonNull(key, "key");
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("no certificate");
        }
    }

    /**
     * Reads {@value #CERTIFICATE_FILE} and {@value #KEY_FILE} from a directory
     * and checks that the key belongs to the certificate, so a wrong pair is
     * reported at start, not as a failed handshake of every client.
     *
     * @param dir the certificates directory
     * @return the credentials
     * @throws IOException with one line naming the file and what is wrong
     */
    public static TlsCredentials load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + ": no such directory (it must hold " + CERTIFICATE_FILE + " and "
                    + KEY_FILE + ")");
        }
        Path certFile = dir.resolve(CERTIFICATE_FILE);
        Path keyFile = dir.resolve(KEY_FILE);
        List<X509Certificate> chain = certificates(certFile);
        PrivateKey key = privateKey(keyFile);
        if (!matches(key, chain.get(0).getPublicKey())) {
            throw new IOException(keyFile + " is not the private key of the certificate in " + certFile);
        }
        return new TlsCredentials(chain, key);
    }

    private static List<X509Certificate> certificates(Path file) throws IOException {
        List<X509Certificate> chain = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                chain.add((X509Certificate) c);
            }
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        } catch (CertificateException e) {
            throw new IOException(file + ": not a PEM certificate: " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new IOException(file + ": no certificate in it");
        }
        return chain;
    }

    private static PrivateKey privateKey(Path file) throws IOException {
        Object pem;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                PEMParser parser = new PEMParser(r)) {
            pem = parser.readObject();
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new IOException(file + ": not a PEM private key: " + e.getMessage(), e);
        }
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        return switch (pem) {
            case PrivateKeyInfo p -> converter.getPrivateKey(p);
            case PEMKeyPair p -> converter.getKeyPair(p).getPrivate();
            case PEMEncryptedKeyPair _ -> throw encrypted(file);
            case PKCS8EncryptedPrivateKeyInfo _ -> throw encrypted(file);
            case null -> throw new IOException(file + ": no PEM private key in it");
            default -> throw new IOException(file + ": holds a " + pem.getClass().getSimpleName()
                    + ", not a private key");
        };
    }

    private static IOException encrypted(Path file) {
        // A server started unattended has nobody to type a passphrase; qemu-nbd and nbdkit refuse them too.
        return new IOException(file + ": the key is encrypted; give an unencrypted one, readable by root only");
    }

    /** Signs with the key and verifies with the certificate's public key: true when they are a pair. */
    private static boolean matches(PrivateKey key, PublicKey pub) throws IOException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "Ed448", "EdDSA" -> "EdDSA";
            // RSASSA-PSS and the like: the handshake itself will tell.
            default -> null;
        };
        if (algorithm == null) {
            return true;
        }
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature s = Signature.getInstance(algorithm);
            s.initSign(key);
            s.update(probe);
            byte[] signature = s.sign();
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(pub);
            v.update(probe);
            return v.verify(signature);
        } catch (GeneralSecurityException e) {
            // A key of one algorithm and a certificate of another end up here.
            return false;
        }
    }

    /**
     * @return a server context offering TLS 1.3 and 1.2 (the protocol
     *         requires 1.2) with this identity; clients are not asked for
     *         certificates
     */
    SSLContext sslContext() {
        try {
            char[] none = new char[0];
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", key, none, chain.toArray(new Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, none);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot set up TLS with this key and certificate: " + e.getMessage(), e);
        }
    }
}
