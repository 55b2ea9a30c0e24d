package org.blksnap.backup.repo.s3;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * How an {@link S3Store} talks to its service.
 *
 * @param partSize      bytes per multipart part of a pack (at least 5 MiB, S3's minimum for all parts
 *                      but the last); a pack no larger is stored with one PUT
 * @param partsInFlight parts of one pack uploaded at once; a pack writer holds at most
 *                      {@code partsInFlight + 1} parts in memory
 * @param maxAttempts   tries per request, the first included, before an error is reported
 * @param retryBase     first back-off delay; it doubles per retry (full jitter) up to {@code retryMax}
 * @param retryMax      longest back-off delay
 * @param heartbeat     how often a held lock is refreshed
 * @param staleAfter    a lock not refreshed for this long belongs to a killed or hung command
 * @param breakLock     remove every lock of the repository, live-looking ones too, before taking one
 * @param notices       where one-line notices go (a stale lock removed)
 */
public record S3Options(int partSize, int partsInFlight, int maxAttempts, Duration retryBase, Duration retryMax,
        Duration heartbeat, Duration staleAfter, boolean breakLock, Consumer<String> notices) {
    /** S3's smallest part but the last. */
    public static final int MIN_PART_SIZE = 5 << 20;

    /** Checks the values. */
    public S3Options {
        if (partSize < MIN_PART_SIZE) {
            throw new IllegalArgumentException("S3 part size must be at least 5 MiB: " + partSize);
        }
        if (partsInFlight < 1 || maxAttempts < 1) {
            throw new IllegalArgumentException("parts in flight and attempts must be at least 1");
        }
        if (staleAfter.compareTo(heartbeat.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("a lock must survive two missed heartbeats: stale after "
                    + staleAfter + ", heartbeat " + heartbeat);
        }
    }

    /**
     * 8 MiB parts, four in flight (40 MiB per pack writer at most), ten attempts with back-off from
     * 200 ms to 20 s (about a minute and a half of an unreachable or throttling service before a
     * command gives up), a heartbeat every minute, stale after five minutes.
     *
     * @return the defaults, notices on standard error
     */
    public static S3Options defaults() {
        return new S3Options(8 << 20, 4, 10, Duration.ofMillis(200), Duration.ofSeconds(20), Duration.ofMinutes(1),
                Duration.ofMinutes(5), false, m -> System.err.println("blksnap: " + m));
    }

    /**
     * @param b remove every lock first
     * @return a copy
     */
    public S3Options withBreakLock(boolean b) {
        return new S3Options(partSize, partsInFlight, maxAttempts, retryBase, retryMax, heartbeat, staleAfter, b,
                notices);
    }

    /**
     * @param beat    heartbeat period
     * @param stale   staleness threshold
     * @return a copy
     */
    public S3Options withLockTiming(Duration beat, Duration stale) {
        return new S3Options(partSize, partsInFlight, maxAttempts, retryBase, retryMax, beat, stale, breakLock,
                notices);
    }

    /**
     * @param attempts tries per request
     * @param base     first delay
     * @param max      longest delay
     * @return a copy
     */
    public S3Options withRetries(int attempts, Duration base, Duration max) {
        return new S3Options(partSize, partsInFlight, attempts, base, max, heartbeat, staleAfter, breakLock,
                notices);
    }

    /**
     * @param size     bytes per part
     * @param inFlight parts uploaded at once per pack
     * @return a copy
     */
    public S3Options withParts(int size, int inFlight) {
        return new S3Options(size, inFlight, maxAttempts, retryBase, retryMax, heartbeat, staleAfter, breakLock,
                notices);
    }

    /**
     * @param sink where notices go
     * @return a copy
     */
    public S3Options withNotices(Consumer<String> sink) {
        return new S3Options(partSize, partsInFlight, maxAttempts, retryBase, retryMax, heartbeat, staleAfter,
                breakLock, sink);
    }
}
