package org.blksnap.itest.verify;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Everything the workload did to one device: the requests in the order they
 * were issued. Writers add while the checker reads a copy; requests that can
 * no longer matter to any later take are pruned so a soak run keeps a
 * bounded model.
 */
public final class DeviceModel {
    private final String name;
    private final long tag;
    private final long blocks;
    private final List<Op> ops = new ArrayList<>();

    /**
     * @param name   the device, for messages
     * @param tag    the per-run tag every stamp of this device carries
     * @param bytes  the modelled region, from offset 0, a multiple of 4 KiB
     */
    public DeviceModel(String name, long tag, long bytes) {
        if (bytes % Stamp.BLOCK != 0 || bytes <= 0) {
            throw new IllegalArgumentException("region of " + bytes + " bytes is not whole 4 KiB blocks");
        }
        this.name = name;
        this.tag = tag;
        this.blocks = bytes / Stamp.BLOCK;
    }

    public String name() {
        return name;
    }

    public long tag() {
        return tag;
    }

    public long blocks() {
        return blocks;
    }

    public long bytes() {
        return blocks * Stamp.BLOCK;
    }

    /** Records a request before it is issued. */
    public synchronized void record(Op op) {
        if (op.endBlock() > blocks) {
            throw new IllegalArgumentException(name + ": " + op + " beyond the modelled " + blocks + " blocks");
        }
        ops.add(op);
    }

    /** A copy of the requests so far, in issue order. */
    public synchronized List<Op> ops() {
        return List.copyOf(ops);
    }

    /** Forgets requests the caller found to be superseded for good. */
    public synchronized void forget(Set<Op> dead) {
        ops.removeIf(dead::contains);
    }

    public Stamp stamp(long block, long seq, int writer) {
        return new Stamp(tag, block * Stamp.BLOCK, seq, writer);
    }
}
