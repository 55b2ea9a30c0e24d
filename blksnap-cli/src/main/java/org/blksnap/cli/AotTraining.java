package org.blksnap.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.engine.SnapshotSource;
import org.blksnap.backup.engine.SourceDevice;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.Secret;

/**
 * Not a command: the workload scripts/aot-cache runs once per build or
 * installation, under {@code -XX:AOTCacheOutput}, so that the JVM's AOT cache
 * (JEP 483, 514, 515) holds the classes, linkage and profiles of what users
 * run most: list, restore, verify and check of a plain and of an encrypted
 * repository (a small backup of a scratch image, made by the engine since
 * 'backup create' needs the kernel), and the help texts. Everything happens
 * in a fresh temporary directory, removed at the end; the commands' output
 * is dropped.
 */
public final class AotTraining {
    private static final int CHUNK = 64 << 10;

    private AotTraining() {
    }

    /**
     * @param args none
     * @throws IOException if the scratch directory cannot be used
     */
    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("blksnap-aot-training-");
        try {
            train(dir);
        } finally {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void train(Path dir) throws IOException {
        Path image = dir.resolve("disk.img");
        byte[] data = new byte[32 * CHUNK];
        Random r = new Random(1);
        for (int i = 0; i < data.length / 2; i += 4096) {
            // Half noise, half zeros: chunks that compress, and chunks that are not stored.
            byte[] block = new byte[2048];
            r.nextBytes(block);
            System.arraycopy(block, 0, data, i, block.length);
        }
        Files.write(image, data);
        Path keyFile = dir.resolve("key");
        byte[] key = new byte[Secret.KeyFile.MIN_BYTES];
        r.nextBytes(key);
        Files.write(keyFile, key);
        for (boolean encrypted : List.of(false, true)) {
            Path repo = dir.resolve(encrypted ? "encrypted" : "plain");
            backUp(repo, image, data.length, encrypted, key);
            List<String> secret = encrypted ? List.of("--key-file", keyFile.toString()) : List.of();
            for (List<String> command : List.of(List.of("backup", "list"), List.of("backup", "list", "--json"),
                    List.of("backup", "restore", "latest", "--to", dir.resolve("restored.img").toString(),
                            "--quiet"),
                    List.of("backup", "verify"), List.of("backup", "check"))) {
                run(Stream.of(command, List.of("-r", repo.toString()), secret).flatMap(List::stream).toList());
                Files.deleteIfExists(dir.resolve("restored.img"));
            }
        }
        for (List<String> command : List.of(List.of("--help"), List.of("backup", "--help"),
                List.of("help", "backup", "create"), List.of("backup", "lst"), List.of("version"))) {
            run(command);
        }
    }

    private static void backUp(Path repo, Path image, long size, boolean encrypted, byte[] key)
            throws IOException {
        Repository.NewRepository how = new Repository.NewRepository(CHUNK, Repository.DEFAULT_PACK_SIZE, encrypted,
                null);
        SnapshotSource source = new SnapshotSource() {
            @Override
            public List<SourceDevice> devices() {
                return List.of(new SourceDevice("/dev/training", image, size, null));
            }

            @Override
            public void checkIntact() {
            }

            @Override
            public void close() {
            }
        };
        try (Repository r = Repository.openForBackup(new LocalDirectoryStore(repo), how, Duration.ZERO,
                () -> new Secret.KeyFile(key.clone()))) {
            new BackupEngine(r, BackupEngine.Options.defaults().withToolVersion("aot-training"),
                    ProgressListener.NONE).run(source);
        }
    }

    private static void run(List<String> args) {
        PrintWriter none = new PrintWriter(Writer.nullWriter());
        Main.run(args.toArray(String[]::new), none, none);
    }
}
