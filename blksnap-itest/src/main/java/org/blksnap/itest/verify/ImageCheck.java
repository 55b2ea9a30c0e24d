package org.blksnap.itest.verify;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The model's rules for one snapshot image of one device, block by block.
 *
 * <p>For a take that started at {@code s} and returned at {@code e}, and one
 * block: let {@code S} be the latest issue time of the writes to the block
 * acknowledged before {@code s}. A request to the block is a candidate if it
 * was issued before {@code e} and not acknowledged before {@code S}: every
 * other request was either issued after the take or overwritten by a write
 * that began after it ended and ended before the take began. The block must
 * hold the whole stamp of a candidate write, or zeroes if a candidate is a
 * discard. Discards never supersede: a discarded block may keep its data.
 *
 * <p>A snapshot is one point in time: the take's point is after every
 * request whose stamp any image shows was issued. {@link #checkCut} checks
 * the same rule again at that later time, across every image of one take,
 * so no image may be behind another by more than the requests in flight.
 */
public final class ImageCheck {
    private static final int SHOWN_CANDIDATES = 6;

    private final DeviceModel model;
    private final Take take;
    private final String label;
    private final List<List<Op>> byBlock;
    private final Op[] found;
    private final List<Mismatch> mismatches = new ArrayList<>();
    private long latestFoundIssue = Long.MIN_VALUE;
    private long checked;

    /** Takes a copy of the model's requests now; requests issued after the take do not matter. */
    public ImageCheck(DeviceModel model, Take take) {
        this(model, take, "image");
    }

    /**
     * @param label what is read, for messages: "image" (of the model's
     *              device) or "original" (the device itself)
     */
    public ImageCheck(DeviceModel model, Take take, String label) {
        this.model = model;
        this.take = take;
        this.label = label;
        int n = Math.toIntExact(model.blocks());
        byBlock = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byBlock.add(new ArrayList<>(2));
        }
        for (Op op : model.ops()) {
            for (long b = op.firstBlock(); b < op.endBlock(); b++) {
                byBlock.get((int) b).add(op);
            }
        }
        found = new Op[n];
    }

    public DeviceModel model() {
        return model;
    }

    /** Blocks checked so far. */
    public long checked() {
        return checked;
    }

    public List<Mismatch> mismatches() {
        return List.copyOf(mismatches);
    }

    /** The latest issue time of a request whose stamp was found, the earliest the take's point can be. */
    public long latestFoundIssue() {
        return latestFoundIssue;
    }

    /**
     * Checks one block read back from the image.
     *
     * @return the mismatch, if any (also kept in {@link #mismatches()})
     */
    public Mismatch block(long block, Stamp.Content content) {
        checked++;
        List<Op> ops = byBlock.get((int) block);
        long s = latestWriteIssue(ops, take.start());
        List<Op> candidates = ops.stream()
                .filter(o -> o.submitted() < take.end() && o.acked() >= s).toList();
        String problem = switch (content) {
            case Stamp.Garbage g -> "a torn or corrupt block";
            case Stamp.Zeroes z -> candidates.stream().anyMatch(o -> o.kind() == Op.Kind.DISCARD)
                    || s == Long.MIN_VALUE ? null : "zeroes where no discard was possible";
            case Stamp.Stamped st -> stampProblem(block, st.stamp(), candidates, ops);
        };
        if (problem == null) {
            if (content instanceof Stamp.Stamped st) {
                Op op = bySeq(candidates, st.stamp().seq());
                found[(int) block] = op;
                latestFoundIssue = Math.max(latestFoundIssue, op.submitted());
            }
            return null;
        }
        Mismatch m = new Mismatch(model.name(), block, label + " (" + problem + ")", describe(candidates),
                describeFound(content, ops));
        mismatches.add(m);
        return m;
    }

    private String stampProblem(long block, Stamp st, List<Op> candidates, List<Op> all) {
        if (st.tag() != model.tag()) {
            return "a foreign block: stamp of another device or run";
        }
        if (st.offset() != block * Stamp.BLOCK) {
            return "a misplaced block: stamp of another offset";
        }
        Op op = bySeq(candidates, st.seq());
        if (op != null && op.kind() == Op.Kind.WRITE && op.writer() == st.writer()) {
            return null;
        }
        Op any = bySeq(all, st.seq());
        if (any == null) {
            return "a stamp no write of this block carried";
        }
        return any.submitted() >= take.end() ? "a write issued after the take" : "a write overwritten before the take";
    }

    /**
     * Checks the blocks found so far against the single point in time
     * {@code point} (the latest {@link #latestFoundIssue()} of all images of
     * the take): nothing found may have been overwritten before it.
     */
    public List<Mismatch> checkCut(long point, String pointSource) {
        List<Mismatch> out = new ArrayList<>();
        for (int b = 0; b < found.length; b++) {
            Op f = found[b];
            if (f == null) {
                continue;
            }
            long s = latestWriteIssue(byBlock.get(b), point);
            if (f.acked() < s) {
                Op newer = byBlock.get(b).stream()
                        .filter(o -> o.kind() == Op.Kind.WRITE && o.acked() < point && o.submitted() == s)
                        .findFirst().orElseThrow();
                out.add(new Mismatch(model.name(), b, label + " behind the point in time " + pointSource,
                        "at least " + newer.describe(take.start()), f.describe(take.start())));
            }
        }
        mismatches.addAll(out);
        return out;
    }

    /**
     * Requests that no take starting at or after {@code time} can see: at
     * every block they touch a later write was acknowledged before it.
     */
    public Set<Op> deadAt(long time) {
        Set<Op> alive = new HashSet<>();
        Set<Op> all = new HashSet<>();
        for (List<Op> ops : byBlock) {
            long s = latestWriteIssue(ops, time);
            for (Op o : ops) {
                all.add(o);
                if (o.acked() >= s) {
                    alive.add(o);
                }
            }
        }
        all.removeAll(alive);
        return all;
    }

    private static long latestWriteIssue(List<Op> ops, long before) {
        long s = Long.MIN_VALUE;
        for (Op o : ops) {
            if (o.kind() == Op.Kind.WRITE && o.acked() < before) {
                s = Math.max(s, o.submitted());
            }
        }
        return s;
    }

    private static Op bySeq(List<Op> ops, long seq) {
        for (Op o : ops) {
            if (o.seq() == seq) {
                return o;
            }
        }
        return null;
    }

    private String describe(List<Op> candidates) {
        if (candidates.isEmpty()) {
            return "nothing (no request could be there)";
        }
        int from = Math.max(0, candidates.size() - SHOWN_CANDIDATES);
        String list = candidates.subList(from, candidates.size()).stream()
                .map(o -> o.kind() == Op.Kind.DISCARD ? "zeroes or older data of " + o.describe(take.start())
                        : model.stamp(0, o.seq(), o.writer()).toString().replace("offset 0", "this offset")
                                + " of " + o.describe(take.start()))
                .collect(Collectors.joining(" | "));
        return "one of " + (from > 0 ? "(" + from + " older) " : "") + list + " (times relative to the take)";
    }

    private String describeFound(Stamp.Content content, List<Op> ops) {
        if (content instanceof Stamp.Stamped st) {
            Op any = bySeq(ops, st.stamp().seq());
            return st.describe() + (any == null ? "" : ", from " + any.describe(take.start()));
        }
        return content.describe();
    }
}
