package org.blksnap.backup.repo.s3;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;

import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.RepositoryBusyException;
import org.blksnap.backup.repo.RepositoryException;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.DeserializationFeature;

import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The repository lock of an S3 store: one object per holder under
 * {@code locks/}, naming its owner and mode, rewritten by a heartbeat.
 *
 * <p>Taking it: write one's own lock object under a fresh name, then list
 * every lock object; if a live one conflicts (either side exclusive), delete
 * one's own and try again later. S3 lists what was written before strongly
 * consistently, so of two processes that race, the one that lists last sees
 * the other: they cannot both win (they can both back off, hence the random
 * delay between tries). No conditional write is needed; names are unique.
 *
 * <p>Staleness is judged on the service's clock, never the hosts': a lock
 * whose last modification is {@link S3Options#staleAfter} older than one's own
 * freshly written lock object has missed several heartbeats and belongs to a
 * killed or hung command; a lock of this host whose process is gone is stale at
 * once. Stale locks are removed with a one-line notice. A holder that cannot
 * refresh its lock for that long marks it lost, and the store then refuses to
 * delete anything (another process may already have taken over).
 */
final class S3Lock implements ChunkStore.Lock {
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final long POLL_MILLIS = 500;

    /**
     * What a lock object holds.
     *
     * @param host      host name of the holder
     * @param pid       its process id
     * @param started   when it took the lock
     * @param mode      shared or exclusive
     * @param heartbeat its last refresh, on its own clock (for people; staleness uses the service's)
     */
    record Owner(String host, long pid, String started, ChunkStore.LockMode mode, String heartbeat) {
        String describe() {
            return host + " pid " + pid + " (" + mode.name().toLowerCase() + ", since " + started + ")";
        }
    }

    private final S3Store store;
    private final String key;
    private final Owner owner;
    private final Thread heartbeat;
    private final CountDownLatch stop = new CountDownLatch(1);
    private volatile boolean lost;
    private boolean closed;

    private S3Lock(S3Store store, String key, Owner owner) {
        this.store = store;
        this.key = key;
        this.owner = owner;
        this.heartbeat = Thread.ofVirtual().name("s3-lock-heartbeat").unstarted(this::beat);
    }

    /** @return true if the lock could not be refreshed in time and may be taken by another process */
    boolean lost() {
        return lost;
    }

    ChunkStore.LockMode mode() {
        return owner.mode();
    }

    static S3Lock take(S3Store store, ChunkStore.LockMode mode, Duration wait) throws IOException {
        long deadline = System.nanoTime() + wait.toNanos();
        String started = Instant.now().toString();
        Owner me = new Owner(hostName(), ProcessHandle.current().pid(), started, mode, started);
        while (true) {
            String key = store.lockPrefix() + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong())
                    + ".json";
            write(store, key, me);
            Owner blocker;
            try {
                blocker = conflict(store, key, mode);
            } catch (IOException | RuntimeException e) {
                deleteQuietly(store, key);
                throw e;
            }
            if (blocker == null) {
                S3Lock l = new S3Lock(store, key, me);
                l.heartbeat.start();
                store.held(l);
                return l;
            }
            deleteQuietly(store, key);
            if (System.nanoTime() - deadline >= 0) {
                throw new RepositoryBusyException(store.location() + " is in use by " + blocker.describe()
                        + (wait.isZero() ? "; try again later or give --lock-wait"
                                : "; gave up after waiting " + wait.toSeconds() + " s")
                        + " (--break-lock if that command is gone)");
            }
            try {
                Thread.sleep(POLL_MILLIS / 2 + ThreadLocalRandom.current().nextLong(POLL_MILLIS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the lock of " + store.location());
            }
        }
    }

    /**
     * @return the owner of a live lock that conflicts with ours, or null
     */
    private static Owner conflict(S3Store store, String mine, ChunkStore.LockMode mode) throws IOException {
        List<S3Object> all = store.listKeys(store.lockPrefix());
        Instant now = all.stream().filter(o -> o.key().equals(mine)).map(S3Object::lastModified).findFirst()
                .orElseThrow(() -> new RepositoryException(store.location()
                        + ": the lock object just written is not listed; the service is not strongly consistent"));
        List<Owner> live = new ArrayList<>();
        for (S3Object o : all) {
            if (o.key().equals(mine)) {
                continue;
            }
            Owner other = read(store, o.key());
            if (other == null) {
                continue;
            }
            Duration age = Duration.between(o.lastModified(), now);
            String why = null;
            if (age.compareTo(store.options().staleAfter()) > 0) {
                why = "no heartbeat for " + age.toSeconds() + " s";
            } else if (other.host().equals(hostName()) && ProcessHandle.of(other.pid()).isEmpty()) {
                why = "that process is gone";
            }
            if (why != null) {
                store.options().notices().accept("removed a stale lock of " + store.location() + " held by "
                        + other.describe() + ": " + why);
                deleteQuietly(store, o.key());
                continue;
            }
            live.add(other);
        }
        for (Owner o : live) {
            if (mode == ChunkStore.LockMode.EXCLUSIVE || o.mode() == ChunkStore.LockMode.EXCLUSIVE) {
                return o;
            }
        }
        return null;
    }

    /** Removes every lock object; for --break-lock. */
    static int breakAll(S3Store store) throws IOException {
        int n = 0;
        for (S3Object o : store.listKeys(store.lockPrefix())) {
            Owner other = read(store, o.key());
            store.options().notices().accept("broke the lock of " + store.location() + " held by "
                    + (other == null ? "an unknown command" : other.describe()));
            deleteQuietly(store, o.key());
            n++;
        }
        return n;
    }

    private static Owner read(S3Store store, String key) throws IOException {
        byte[] b;
        try {
            b = store.client().getObject(r -> r.bucket(store.where().bucket()).key(key),
                    ResponseTransformer.toBytes()).asByteArrayUnsafe();
        } catch (NoSuchKeyException e) {
            return null; // released meanwhile
        } catch (SdkException e) {
            throw store.io("cannot read lock " + key, e);
        }
        try {
            return JSON.readValue(b, Owner.class);
        } catch (IOException e) {
            // Not ours to judge: treated as an exclusive holder we cannot name.
            return new Owner("?", -1, "?", ChunkStore.LockMode.EXCLUSIVE, "?");
        }
    }

    private static void write(S3Store store, String key, Owner o) throws IOException {
        byte[] b = JSON.writeValueAsBytes(o);
        store.call(() -> store.client().putObject(r -> r.bucket(store.where().bucket()).key(key)
                .contentType("application/json"), S3Store.body(b, b.length)));
    }

    private static void deleteQuietly(S3Store store, String key) {
        try {
            store.client().deleteObject(r -> r.bucket(store.where().bucket()).key(key));
        } catch (SdkException e) {
            // Stale at worst: the next taker removes it.
        }
    }

    private void beat() {
        Duration period = store.options().heartbeat();
        Instant lastRefresh = Instant.now();
        while (true) {
            try {
                if (stop.await(period.toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            }
            try {
                if (store.size(key) < 0) {
                    lost = true;
                    store.options().notices().accept("the lock of " + store.location() + " was removed by "
                            + "another command (--break-lock?); nothing more is deleted");
                    return;
                }
                write(store, key, new Owner(owner.host(), owner.pid(), owner.started(), owner.mode(),
                        Instant.now().toString()));
                lastRefresh = Instant.now();
            } catch (IOException e) {
                if (Duration.between(lastRefresh, Instant.now()).plus(period)
                        .compareTo(store.options().staleAfter()) >= 0) {
                    lost = true;
                    store.options().notices().accept("cannot refresh the lock of " + store.location() + ": "
                            + e.getMessage());
                    return;
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        // Not interrupted: a refresh cut short on this side may still land
        // on the service after the release and resurrect the lock.
        stop.countDown();
        try {
            heartbeat.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.released(this);
        store.call(() -> store.client().deleteObject(r -> r.bucket(store.where().bucket()).key(key)));
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
