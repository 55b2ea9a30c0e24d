package org.blksnap.itest.verify.integrity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.blksnap.itest.verify.Mismatch;
import org.blksnap.itest.verify.Take;

/**
 * A thread creating, replacing and deleting files on a mounted filesystem,
 * each change made durable and atomic the way careful applications do it
 * (write a temporary file, fsync, rename over, fsync the directory; unlink,
 * fsync the directory), and a model of which content each name may have in
 * an image taken meanwhile: the same rule as for blocks, by file name.
 */
final class FileWorkload implements AutoCloseable {
    static final String TEMP_PREFIX = ".tmp-";
    private static final int NAMES = 40;

    /** One change: the file's md5 after it, or null when it deleted the file. */
    record Change(String name, String md5, long submitted, long acked) {
    }

    private final Path dir;
    private final List<Change> changes = new ArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final SplittableRandom random;
    private Thread thread;
    private long version;

    FileWorkload(Path dir, long seed) {
        this.dir = dir;
        this.random = new SplittableRandom(seed);
    }

    /** Makes {@code count} changes from the calling thread. */
    void changes(int count) throws IOException {
        for (int i = 0; i < count; i++) {
            change();
        }
    }

    void start() {
        thread = Thread.ofPlatform().name("file-writer").start(() -> {
            try {
                while (!stop.get()) {
                    change();
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
    }

    @Override
    public void close() throws IOException {
        stop();
    }

    /** Stops the thread, rethrowing what made it fail. */
    void stop() throws IOException {
        stop.set(true);
        if (thread != null) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            thread = null;
        }
        if (failure.get() != null) {
            throw new IOException("the file writer failed: " + failure.get(), failure.get());
        }
        stop.set(false);
    }

    int changeCount() {
        synchronized (changes) {
            return changes.size();
        }
    }

    private void change() throws IOException {
        String name = "f" + random.nextInt(NAMES);
        Path file = dir.resolve(name);
        long submitted = System.nanoTime();
        String md5 = null;
        if (random.nextInt(5) == 0) {
            Files.deleteIfExists(file);
        } else {
            byte[] data = new byte[4096 * (1 + random.nextInt(64)) + random.nextInt(4096)];
            random.nextBytes(data);
            Path temp = dir.resolve(TEMP_PREFIX + name + "-" + ++version);
            try (FileChannel c = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(data);
                while (b.hasRemaining()) {
                    c.write(b);
                }
                c.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            md5 = md5(data);
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
        synchronized (changes) {
            changes.add(new Change(name, md5, submitted, System.nanoTime()));
        }
    }

    /**
     * Forgets the changes no take starting at or after {@code time} can
     * show (a later change of the same name was acknowledged before it
     * began), so a soak run keeps a bounded model.
     */
    void forget(long time) {
        synchronized (changes) {
            Map<String, Long> latest = new TreeMap<>();
            for (Change c : changes) {
                if (c.acked() < time) {
                    latest.merge(c.name(), c.submitted(), Math::max);
                }
            }
            changes.removeIf(c -> c.acked() < latest.getOrDefault(c.name(), Long.MIN_VALUE));
        }
    }

    /** The names that were ever changed, for the image check. */
    private Map<String, List<Change>> byName() {
        Map<String, List<Change>> out = new TreeMap<>();
        synchronized (changes) {
            for (Change c : changes) {
                out.computeIfAbsent(c.name(), k -> new ArrayList<>()).add(c);
            }
        }
        return out;
    }

    /**
     * Checks the files of a mounted image: each name must have the content
     * (or absence) of a change the take may have caught, and there must be
     * no other file but temporaries in flight.
     *
     * @return the mismatches; {@code counted[0]} gets the files compared, {@code counted[1]} their bytes
     */
    List<Mismatch> check(Path image, Take take, String device, long[] counted) throws IOException {
        Map<String, String> found = md5Tree(image);
        List<Mismatch> out = new ArrayList<>();
        Map<String, List<Change>> model = byName();
        for (Map.Entry<String, List<Change>> e : model.entrySet()) {
            List<Change> cs = e.getValue();
            long s = Long.MIN_VALUE;
            for (Change c : cs) {
                if (c.acked() < take.start()) {
                    s = Math.max(s, c.submitted());
                }
            }
            long latest = s;
            List<Change> candidates = cs.stream()
                    .filter(c -> c.submitted() < take.end() && c.acked() >= latest).toList();
            String have = found.get(e.getKey());
            boolean ok = candidates.stream().anyMatch(c -> java.util.Objects.equals(c.md5(), have))
                    || (have == null && s == Long.MIN_VALUE);
            counted[0]++;
            if (have != null) {
                counted[1] += Files.size(image.resolve(e.getKey()));
            }
            if (!ok) {
                out.add(new Mismatch(device, -1, "file " + e.getKey(),
                        "md5 one of " + candidates.stream().map(c -> c.md5() == null ? "absent" : c.md5()).toList(),
                        have == null ? "absent" : "md5 " + have));
            }
        }
        for (String name : found.keySet()) {
            if (!model.containsKey(name) && !name.startsWith(TEMP_PREFIX)) {
                out.add(new Mismatch(device, -1, "file " + name, "no such file", "md5 " + found.get(name)));
            }
        }
        return out;
    }

    static Map<String, String> md5Tree(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(p.getFileName().toString(), md5(Files.readAllBytes(p)));
            }
        }
        return out;
    }

    private static String md5(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
