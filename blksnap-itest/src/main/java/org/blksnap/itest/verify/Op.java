package org.blksnap.itest.verify;

/**
 * One data-changing request of the workload on one device, as the model
 * saw it: the time just before the system call and the time it returned
 * ({@link #PENDING} until then). Everything between those two instants is
 * unknown, which is exactly what the model allows for.
 */
public final class Op {
    /** Acknowledgement time of a request still in flight. */
    public static final long PENDING = Long.MAX_VALUE;

    /** What the request did to its blocks. */
    public enum Kind {
        /** Wrote a stamp with {@link #seq} into every block. */
        WRITE,
        /** Discarded: each block reads back as zeroes or as it was. */
        DISCARD
    }

    private final Kind kind;
    private final long seq;
    private final int writer;
    private final long offset;
    private final long length;
    private final long submitted;
    private volatile long acked = PENDING;

    /**
     * @param submitted {@link System#nanoTime()} just before the request was issued
     */
    public Op(Kind kind, long seq, int writer, long offset, long length, long submitted) {
        if (offset % Stamp.BLOCK != 0 || length % Stamp.BLOCK != 0 || length <= 0) {
            throw new IllegalArgumentException("op not on 4 KiB blocks: " + offset + "+" + length);
        }
        this.kind = kind;
        this.seq = seq;
        this.writer = writer;
        this.offset = offset;
        this.length = length;
        this.submitted = submitted;
    }

    /** Marks the request as returned, at {@link System#nanoTime()} just after it did. */
    public void ack(long nanos) {
        acked = nanos;
    }

    public Kind kind() {
        return kind;
    }

    public long seq() {
        return seq;
    }

    public int writer() {
        return writer;
    }

    public long offset() {
        return offset;
    }

    public long length() {
        return length;
    }

    public long firstBlock() {
        return offset / Stamp.BLOCK;
    }

    public long endBlock() {
        return (offset + length) / Stamp.BLOCK;
    }

    public long submitted() {
        return submitted;
    }

    public long acked() {
        return acked;
    }

    public boolean isAcked() {
        return acked != PENDING;
    }

    /** For failure messages: the request, with its times relative to {@code origin} (e.g. the take). */
    public String describe(long origin) {
        String sub = ms(submitted - origin);
        String ack = isAcked() ? ms(acked - origin) : "pending";
        return String.format("%s seq %d writer %d [%d+%d] submitted %s acked %s", kind.name().toLowerCase(),
                seq, writer, offset, length, sub, ack);
    }

    private static String ms(long nanos) {
        return String.format("%+.3f ms", nanos / 1e6);
    }

    @Override
    public String toString() {
        return describe(0);
    }
}
