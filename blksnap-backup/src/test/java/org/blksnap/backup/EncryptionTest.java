package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.Checker;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.engine.Pruner;
import org.blksnap.backup.engine.RestoreEngine;
import org.blksnap.backup.engine.RestoreTarget;
import org.blksnap.backup.engine.Verifier;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.KeyRing;
import org.blksnap.backup.repo.KeyRingAccess;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.MasterKey;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.RepositoryException;
import org.blksnap.backup.repo.Secret;
import org.blksnap.backup.repo.WrongKeyException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Encryption at rest: roundtrip, nothing readable, every damaged byte found and named, keys. */
class EncryptionTest {
    /** Written into the device image, the tag and the device name; must never appear in the repository. */
    private static final String MARKER = "blksnap-plaintext-marker-7d1e";
    /** Cheap Argon2id so the tests can open the repository a few thousand times. */
    private static final KeyRing.Argon2 CHEAP = new KeyRing.Argon2(64, 1, 1);
    private static final Secret PASSWORD = new Secret.Password("correct horse".toCharArray());

    @TempDir
    Path dir;

    private LocalDirectoryStore store() {
        return new Fixture.Unsynced(dir.resolve("repo"));
    }

    private static Secret.Source source(Secret s) {
        return () -> s;
    }

    private Repository openForBackup(boolean encrypted) throws IOException {
        return Repository.openForBackup(store(), new Repository.NewRepository(Images.CHUNK, Images.PACK, encrypted,
                CHEAP), Duration.ZERO, source(PASSWORD));
    }

    private Repository open(ChunkStore.LockMode mode) throws IOException {
        return Repository.open(store(), mode, Duration.ZERO, source(PASSWORD));
    }

    private byte[] content() {
        byte[] b = Images.content(12 * Images.CHUNK, 7);
        byte[] m = MARKER.getBytes(StandardCharsets.US_ASCII);
        // In a random chunk, so zstd stores it as a literal.
        System.arraycopy(m, 0, b, 5 * Images.CHUNK + 100, m.length);
        return b;
    }

    private String backup(boolean encrypted, byte[] content, String tag) throws IOException {
        Images.Device d = new Images.Device("/dev/" + MARKER, dir.resolve("dev.img"), content);
        try (Repository r = openForBackup(encrypted)) {
            BackupResult res = new BackupEngine(r, BackupEngine.Options.defaults().withFull(true).withTag(tag),
                    ProgressListener.NONE).run(Images.source(d.take()));
            return res.backupId();
        }
    }

    private byte[] restore(String id) throws IOException {
        Path out = dir.resolve("restored.img");
        Files.deleteIfExists(out);
        try (Repository r = open(ChunkStore.LockMode.SHARED)) {
            Manifest m = r.manifest(id);
            RestoreEngine.of(r).restore(m, RestoreEngine.select(m, null), RestoreTarget.of(out, true), true);
        }
        return Files.readAllBytes(out);
    }

    private List<Path> files(String sub) throws IOException {
        try (Stream<Path> s = Files.walk(dir.resolve("repo").resolve(sub))) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private boolean repositoryContains(byte[] needle) throws IOException {
        for (Path p : files(".")) {
            byte[] b = Files.readAllBytes(p);
            for (int i = 0; i + needle.length <= b.length; i++) {
                if (Arrays.equals(b, i, i + needle.length, needle, 0, needle.length)) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void encryptedBackupRestoresVerifiesAndPrunes() throws IOException {
        byte[] content = content();
        String first = backup(true, content, MARKER);
        byte[] changed = content.clone();
        changed[3 * Images.CHUNK] ^= 1;
        String second = backup(true, changed, "second");
        assertArrayEquals(content, restore(first));
        assertArrayEquals(changed, restore(second));
        try (Repository r = open(ChunkStore.LockMode.SHARED)) {
            assertTrue(r.config().encrypted());
            assertTrue(Verifier.of(r).verify(r.manifests(), true).clean());
        }
        try (Repository r = open(ChunkStore.LockMode.EXCLUSIVE)) {
            r.deleteBackup(first);
            new Pruner(r).collectGarbage();
        }
        assertArrayEquals(changed, restore(second));
        try (Repository r = open(ChunkStore.LockMode.SHARED)) {
            assertTrue(new Checker(r, Verifier.of(r)).check(100, false).clean());
        }
    }

    @Test
    void nothingReadableInAnEncryptedRepositoryWhileAPlainOneShowsTheMarker() throws IOException {
        byte[] marker = MARKER.getBytes(StandardCharsets.US_ASCII);
        backup(true, content(), MARKER);
        assertFalse(repositoryContains(marker), "the marker is readable in an encrypted repository");
        // A chunk's SHA-256 would let anyone holding the same data recognise it: ids are keyed instead.
        byte[] data = Arrays.copyOfRange(content(), 5 * Images.CHUNK, 6 * Images.CHUNK);
        byte[] sha = new byte[ChunkId.BYTES];
        ChunkId.of(data, data.length).write(sha, 0);
        assertFalse(repositoryContains(sha));

        Path plain = dir.resolve("repo");
        try (Stream<Path> s = Files.walk(plain)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        backup(false, content(), MARKER);
        assertTrue(repositoryContains(marker), "control: a plain repository shows the marker");
        assertTrue(repositoryContains(sha), "control: a plain repository names chunks by SHA-256");
    }

    /** Flips one bit of one byte, runs the check, puts the byte back. */
    private void flip(Path file, long at, Runnable check) throws IOException {
        byte[] b = Files.readAllBytes(file);
        byte[] d = b.clone();
        d[(int) at] ^= 0x01;
        Files.write(file, d);
        try {
            check.run();
        } finally {
            Files.write(file, b);
        }
    }

    private interface Action {
        void run() throws IOException;
    }

    private static void assertFailsNaming(String name, Action a, String where) {
        RepositoryException e = assertThrows(RepositoryException.class, a::run, where + " was not detected");
        assertTrue(e.getMessage().contains(name), where + ": the message does not name " + name + ": "
                + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void aFlippedByteAnywhereInAnIndexManifestSummaryOrKeyObjectIsDetectedAndNamed() throws IOException {
        String id = backup(true, content(), "t");
        Path index = files("index").getFirst();
        String indexName = index.getFileName().toString();
        for (long i = 0; i < Files.size(index); i++) {
            long at = i;
            flip(index, at, () -> assertFailsNaming("index " + indexName, () -> {
                try (Repository r = open(ChunkStore.LockMode.SHARED)) {
                    r.index();
                }
            }, "byte " + at + " of the index"));
        }
        Path manifest = files("manifests").getFirst();
        for (long i = 0; i < Files.size(manifest); i++) {
            long at = i;
            flip(manifest, at, () -> assertFailsNaming("backup " + id + ": its manifest", () -> {
                try (Repository r = open(ChunkStore.LockMode.SHARED)) {
                    r.manifest(id);
                }
            }, "byte " + at + " of the manifest"));
        }
        Path summary = files("summaries").getFirst();
        for (long i = 0; i < Files.size(summary); i++) {
            long at = i;
            flip(summary, at, () -> {
                try (Repository r = open(ChunkStore.LockMode.SHARED)) {
                    Repository.Listing l = r.summaries();
                    assertTrue(l.backups().isEmpty(), "byte " + at + " of the summary was not detected");
                    assertEquals(1, l.warnings().size());
                    assertTrue(l.warnings().getFirst().contains("backup " + id + ": its summary is damaged"),
                            l.warnings().getFirst());
                    assertFailsNaming("backup " + id, () -> r.summary(id), "byte " + at + " of the summary");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        Path keys = dir.resolve("repo").resolve(KeyRing.OBJECT);
        for (long i = 0; i < Files.size(keys); i++) {
            long at = i;
            flip(keys, at, () -> assertFailsNaming("key object " + KeyRing.OBJECT, () -> open(
                    ChunkStore.LockMode.SHARED).close(), "byte " + at + " of the key object"));
        }
        assertArrayEquals(content(), restore(id), "every byte was put back");
    }

    @Test
    void aFlippedByteInAPacksHeaderChunksOrListIsDetectedAndNamed() throws IOException {
        backup(true, content(), "t");
        List<Path> packs = files("packs");
        Path pack = packs.getFirst();
        String name = pack.getFileName().toString();
        long size = Files.size(pack);
        List<Long> places = new ArrayList<>();
        for (long i = 0; i < 4; i++) {
            places.add(i); // the magic
        }
        long list = size - 12 - java.nio.ByteBuffer.wrap(Files.readAllBytes(pack), (int) size - 12, 4).getInt();
        try (Repository r = open(ChunkStore.LockMode.SHARED)) {
            for (var e : r.packEntries(name)) {
                places.add(e.offset()); // nonce
                places.add(e.offset() + 12); // ciphertext
                places.add(e.offset() + e.length() / 2);
                places.add(e.offset() + e.length() - 1); // tag
            }
        }
        for (long i = list; i < size; i++) {
            places.add(i); // the sealed list of chunks and the tail
        }
        for (long at : places) {
            flip(pack, at, () -> {
                try (Repository r = open(ChunkStore.LockMode.SHARED)) {
                    Checker.Report rep = new Checker(r, Verifier.of(r)).check(100, false);
                    assertFalse(rep.clean(), "byte " + at + " of pack " + name + " was not detected");
                    List<String> all = new ArrayList<>(rep.problems());
                    all.addAll(rep.chunks().problems());
                    assertTrue(all.stream().anyMatch(p -> p.contains("pack " + name)), "byte " + at
                            + ": no problem names the pack: " + all);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
    }

    @Test
    void aBlobDamagedBehindItsChecksumStillFailsAuthentication() throws IOException {
        // An attacker can recompute a CRC32C; they cannot forge the GCM tag.
        backup(true, content(), "t");
        Path pack = files("packs").getFirst();
        String name = pack.getFileName().toString();
        byte[] b = Files.readAllBytes(pack);
        try (Repository r = open(ChunkStore.LockMode.SHARED)) {
            var first = r.packEntries(name).getFirst();
            byte[] blob = Arrays.copyOfRange(b, (int) first.offset(), (int) first.offset() + first.length());
            byte[] frame = new byte[blob.length];
            assertTrue(r.envelope().openBlob(name, first.id(), blob, blob.length, frame) > 0, "control");
            for (int at : new int[] {0, 12, blob.length / 2, blob.length - 1}) {
                byte[] bad = blob.clone();
                bad[at] ^= 0x01;
                var e = assertThrows(org.blksnap.backup.repo.ChunkException.class,
                        () -> r.envelope().openBlob(name, first.id(), bad, bad.length, frame));
                assertEquals("chunk " + first.id() + " in pack " + name
                        + " is damaged: it fails authentication (AES-GCM)", e.getMessage());
            }
            // The same blob opened as another chunk (moved within the repository) fails too.
            var second = r.packEntries(name).get(1);
            assertThrows(org.blksnap.backup.repo.ChunkException.class,
                    () -> r.envelope().openBlob(name, second.id(), blob, blob.length, frame));
        }
    }

    @Test
    void anObjectCopiedOverAnotherFailsAuthentication() throws IOException {
        String a = backup(true, content(), "a");
        String b = backup(true, content(), "b");
        Path ma = dir.resolve("repo/manifests").resolve(a);
        Path mb = dir.resolve("repo/manifests").resolve(b);
        Files.copy(ma, mb, StandardCopyOption.REPLACE_EXISTING);
        assertFailsNaming("backup " + b + ": its manifest is damaged", () -> {
            try (Repository r = open(ChunkStore.LockMode.SHARED)) {
                r.manifest(b);
            }
        }, "a manifest swapped");
    }

    @Test
    void aWrongPasswordGetsOneClearLine() throws IOException {
        backup(true, content(), "t");
        WrongKeyException e = assertThrows(WrongKeyException.class, () -> Repository.open(store(),
                ChunkStore.LockMode.SHARED, Duration.ZERO, source(new Secret.Password("wrong".toCharArray()))));
        assertEquals("wrong password for " + store().location() + " (none of its keys opens with it)",
                e.getMessage());
        RepositoryException none = assertThrows(RepositoryException.class, () -> Repository.open(store(),
                ChunkStore.LockMode.SHARED));
        assertTrue(none.getMessage().startsWith("the repository is encrypted"), none.getMessage());
    }

    @Test
    void keysCanBeAddedReplacedAndRemovedButNotTheLast() throws IOException {
        String id = backup(true, content(), "t");
        Secret second = new Secret.Password("second".toCharArray());
        byte[] fileBytes = new byte[64];
        new java.security.SecureRandom().nextBytes(fileBytes);
        Secret keyFile = new Secret.KeyFile(fileBytes);
        String firstId;
        String fileId;
        try (Repository r = open(ChunkStore.LockMode.EXCLUSIVE)) {
            KeyRing.Unlocked u = KeyRing.unlock(r.store(), PASSWORD);
            firstId = u.keyId();
            KeyRing.add(r.store(), u.master(), second, CHEAP);
            fileId = KeyRing.add(r.store(), u.master(), keyFile, CHEAP);
            assertEquals(3, KeyRing.read(r.store()).keys().size());
            KeyRing.remove(r.store(), firstId);
        }
        assertThrows(WrongKeyException.class, () -> Repository.open(store(), ChunkStore.LockMode.SHARED,
                Duration.ZERO, source(PASSWORD)));
        for (Secret s : List.of(second, keyFile)) {
            try (Repository r = Repository.open(store(), ChunkStore.LockMode.SHARED, Duration.ZERO, source(s))) {
                assertEquals(1, r.manifest(id).devices().size());
            }
        }
        try (Repository r = Repository.open(store(), ChunkStore.LockMode.EXCLUSIVE, Duration.ZERO, source(keyFile))) {
            KeyRing.Unlocked u = KeyRing.unlock(r.store(), second);
            KeyRing.replace(r.store(), u, PASSWORD, CHEAP);
            assertThrows(WrongKeyException.class, () -> KeyRing.unlock(r.store(), second));
            KeyRing.remove(r.store(), KeyRing.unlock(r.store(), PASSWORD).keyId());
            RepositoryException last = assertThrows(RepositoryException.class, () -> KeyRing.remove(r.store(),
                    fileId));
            assertTrue(last.getMessage().startsWith("refusing to remove the last key"), last.getMessage());
        }
    }

    @Test
    void aDamagedKeyDoesNotLockOutTheOthers() throws IOException {
        String id = backup(true, content(), "t");
        Secret second = new Secret.Password("second".toCharArray());
        try (Repository r = open(ChunkStore.LockMode.EXCLUSIVE)) {
            KeyRing.add(r.store(), KeyRing.unlock(r.store(), PASSWORD).master(), second, CHEAP);
        }
        Path keys = dir.resolve("repo").resolve(KeyRing.OBJECT);
        String first = KeyRing.read(store()).keys().getFirst().salt();
        String text = Files.readString(keys);
        Files.writeString(keys, text.replace(first, (first.charAt(0) == 'A' ? "B" : "A") + first.substring(1)));
        try (Repository r = Repository.open(store(), ChunkStore.LockMode.SHARED, Duration.ZERO, source(second))) {
            assertEquals(1, r.manifest(id).devices().size());
        }
        assertFailsNaming("key object " + KeyRing.OBJECT, () -> open(ChunkStore.LockMode.SHARED).close(),
                "the damaged key of the password");
    }

    @Test
    void aPlainRepositoryRecordsNoneAndRefusesAConfigDowngradedToNone() throws IOException {
        String id = backup(false, content(), "t");
        assertFalse(Files.exists(dir.resolve("repo").resolve(KeyRing.OBJECT)));
        assertTrue(Files.readString(dir.resolve("repo").resolve(LocalDirectoryStore.CONFIG_FILE))
                .contains("\"encryption\" : \"none\""));
        assertArrayEquals(content(), restore(id));

        Path enc = dir.resolve("enc");
        Files.move(dir.resolve("repo"), enc);
        backup(true, content(), "t");
        Path config = dir.resolve("repo").resolve(LocalDirectoryStore.CONFIG_FILE);
        Files.writeString(config, Files.readString(config).replace(
                "aes-256-gcm+hmac-sha256", "none"));
        RepositoryException e = assertThrows(RepositoryException.class, () -> Repository.open(store(),
                ChunkStore.LockMode.SHARED));
        assertTrue(e.getMessage().contains("holds keys"), e.getMessage());
    }

    @Test
    void argon2idMatchesRfc9106() {
        // RFC 9106, section 5.3: Argon2id, version 0x13.
        byte[] password = new byte[32];
        Arrays.fill(password, (byte) 0x01);
        byte[] salt = new byte[16];
        Arrays.fill(salt, (byte) 0x02);
        byte[] secret = new byte[8];
        Arrays.fill(secret, (byte) 0x03);
        byte[] ad = new byte[12];
        Arrays.fill(ad, (byte) 0x04);
        byte[] tag = KeyRingAccess.argon2id(password, salt, secret, ad, new KeyRing.Argon2(32, 3, 4), 32);
        assertEquals("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659",
                HexFormat.of().formatHex(tag));
    }

    @Test
    void chunkIdsAreHmacSha256WithAKeyDerivedFromTheMasterKey() {
        // RFC 4231 test case 2, through the same derivation helper the ids use.
        assertEquals("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                HexFormat.of().formatHex(KeyRingAccess.derive("Jefe".getBytes(StandardCharsets.US_ASCII),
                        "what do ya want for nothing?")));
        // Master key 00..1f: id key = HMAC-SHA-256(master, "blksnap chunk id key v1"), id = HMAC(id key, data);
        // the expected values were computed with Python's hmac module.
        byte[] master = new byte[MasterKey.BYTES];
        for (int i = 0; i < master.length; i++) {
            master[i] = (byte) i;
        }
        byte[] data = "blksnap".getBytes(StandardCharsets.US_ASCII);
        assertEquals("8cb24e8bca54e73972dda507b3cb466e23dd4cceeea7ec7a0471594daf7fe9f0",
                new MasterKey(master).chunkId(data, data.length).toString());
        assertNotEquals(ChunkId.of(data, data.length), new MasterKey(master).chunkId(data, data.length));
    }
}
