package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The PEM layouts a certificates directory may hold, and one line for each thing that can be wrong. */
class TlsCredentialsTest {
    @TempDir
    static Path dir;
    static TestCertificates certs;

    @BeforeAll
    static void make() throws Exception {
        certs = TestCertificates.make(dir.resolve("pki"), "credentials test CA");
    }

    /** A copy of the server directory whose key file is replaced by {@code key}. */
    static Path withKey(String name, Path key) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        Files.copy(certs.server().resolve("server-cert.pem"), d.resolve("server-cert.pem"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.copy(key, d.resolve("server-key.pem"), StandardCopyOption.REPLACE_EXISTING);
        return d;
    }

    static IOException failure(Path d) {
        IOException e = assertThrows(IOException.class, () -> TlsCredentials.load(d));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void pkcs8FromOpensslReq() throws Exception {
        assertTrue(Files.readString(certs.server().resolve("server-key.pem")).contains("BEGIN PRIVATE KEY"));
        TlsCredentials c = TlsCredentials.load(certs.server());
        assertEquals(1, c.chain().size());
        assertEquals("RSA", c.key().getAlgorithm());
        c.sslContext();
    }

    @Test
    void pkcs1AsCerttoolAndOlderOpensslWriteIt() throws Exception {
        Path pkcs1 = dir.resolve("pkcs1.pem");
        Tool.ok("openssl", "rsa", "-in", certs.server().resolve("server-key.pem").toString(), "-traditional", "-out",
                pkcs1.toString());
        assertTrue(Files.readString(pkcs1).contains("BEGIN RSA PRIVATE KEY"));
        assertEquals("RSA", TlsCredentials.load(withKey("pkcs1", pkcs1)).key().getAlgorithm());
    }

    @Test
    void ecKeyAndCertificateInSec1() throws Exception {
        Path d = Files.createDirectories(dir.resolve("ec"));
        Path key = d.resolve("server-key.pem");
        Tool.ok("openssl", "ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", key.toString());
        assertTrue(Files.readString(key).contains("BEGIN EC PRIVATE KEY"));
        Tool.ok("openssl", "req", "-x509", "-key", key.toString(), "-out", d.resolve("server-cert.pem").toString(),
                "-days", "2", "-subj", "/CN=localhost");
        assertEquals("EC", TlsCredentials.load(d).key().getAlgorithm());
    }

    @Test
    void aKeyOfAnotherCertificateIsNamed() throws Exception {
        Path other = dir.resolve("other-key.pem");
        Tool.ok("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                other.toString());
        Path d = withKey("mismatch", other);
        assertTrue(failure(d).getMessage().contains("is not the private key of the certificate"));
    }

    @Test
    void anEncryptedKeyIsRefused() throws Exception {
        Path enc = dir.resolve("enc.pem");
        Tool.ok("openssl", "pkcs8", "-topk8", "-in", certs.server().resolve("server-key.pem").toString(), "-out",
                enc.toString(), "-passout", "pass:secret");
        assertTrue(failure(withKey("encrypted", enc)).getMessage().contains("the key is encrypted"));
    }

    @Test
    void missingDirectoryAndFiles() throws Exception {
        assertTrue(failure(dir.resolve("nosuch")).getMessage().contains("no such directory"));
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertTrue(failure(empty).getMessage().endsWith("server-cert.pem: no such file"));
        Files.copy(certs.server().resolve("server-cert.pem"), empty.resolve("server-cert.pem"));
        assertTrue(failure(empty).getMessage().endsWith("server-key.pem: no such file"));
    }

    @Test
    void notPem() throws Exception {
        Path d = withKey("garbage", certs.server().resolve("server-key.pem"));
        Files.writeString(d.resolve("server-cert.pem"), "hello\n");
        assertTrue(failure(d).getMessage().contains("server-cert.pem: not a PEM certificate"));
        Files.copy(certs.server().resolve("server-cert.pem"), d.resolve("server-cert.pem"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.copy(certs.server().resolve("server-cert.pem"), d.resolve("server-key.pem"),
                StandardCopyOption.REPLACE_EXISTING);
        assertTrue(failure(d).getMessage().contains("server-key.pem: holds a X509CertificateHolder, not a private key"),
                failure(d).getMessage());
    }
}
