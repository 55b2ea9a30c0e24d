package org.blksnap.itest.verify.faults;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.blksnap.api.sys.Errno.EALREADY;
import static org.blksnap.api.sys.Errno.EBUSY;
import static org.blksnap.api.sys.Errno.EFAULT;
import static org.blksnap.api.sys.Errno.EINTR;
import static org.blksnap.api.sys.Errno.EINVAL;
import static org.blksnap.api.sys.Errno.ENAMETOOLONG;
import static org.blksnap.api.sys.Errno.ENODATA;
import static org.blksnap.api.sys.Errno.ENODEV;
import static org.blksnap.api.sys.Errno.ENOENT;
import static org.blksnap.api.sys.Errno.ENOMEM;
import static org.blksnap.api.sys.Errno.ENOSPC;
import static org.blksnap.api.sys.Errno.ENOTDIR;
import static org.blksnap.api.sys.Errno.ENOTTY;
import static org.blksnap.api.sys.Errno.EOPNOTSUPP;
import static org.blksnap.api.sys.Errno.EPERM;
import static org.blksnap.api.sys.Errno.ESRCH;
import static org.blksnap.api.sys.Errno.ETXTBSY;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.blksnap.api.SnapshotId;
import org.blksnap.api.Uuid;
import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Ioctl;

/**
 * The fuzzer's table: every ioctl of {@code /dev/blksnap-control}, every
 * {@code BLKFILTER_*} ioctl and every {@code BLKFILTER_CTL} command, each
 * with the errnos module/README.md documents for it, how to fill its
 * argument with fuzzed values, and what a success changes in the fuzzer's
 * own bookkeeping. EFAULT and ENOMEM are documented for every ioctl.
 */
final class FuzzTable {
    /** Which file descriptor a call goes to. */
    enum Door {
        CONTROL, BLOCK
    }

    @FunctionalInterface
    interface Request {
        long next(Random rng);
    }

    /** Fills the argument (already random bytes) and describes what it chose. */
    @FunctionalInterface
    interface Filler {
        void fill(FuzzContext ctx, MemorySegment arg, StringBuilder desc);
    }

    /** What a successful call changes in the fuzzer's view of the module. */
    @FunctionalInterface
    interface Effect {
        void apply(FuzzContext ctx, MemorySegment arg);
    }

    /**
     * One row.
     *
     * @param name    the C macro, with the CTL command for BLKFILTER_CTL
     * @param size    bytes the argument may span, for pointer placement
     * @param allowed documented errnos besides EFAULT and ENOMEM
     * @param argFirst the module copies the argument before anything else,
     *                so an unreadable one must give exactly EFAULT
     */
    record Row(String name, Door door, Request request, long size, Set<Integer> allowed, Filler filler,
            Effect effect, boolean argFirst) {
        boolean allows(int errno) {
            return errno == EFAULT || errno == ENOMEM || allowed.contains(errno);
        }

        String allowedNames() {
            return Stream.concat(Stream.of(EFAULT, ENOMEM), allowed.stream()).sorted()
                    .map(Errno::name).collect(Collectors.joining(", ", "{", "}"));
        }
    }

    private static final long CTL_OPT = Abi.offset(Abi.BLKFILTER_CTL, "opt");
    private static final long CTL_OPTLEN = Abi.offset(Abi.BLKFILTER_CTL, "optlen");
    private static final long CTL_CMD = Abi.offset(Abi.BLKFILTER_CTL, "cmd");
    /** TRACKER_DIRTY_MAX_RANGES of the module. */
    private static final int DIRTY_MAX_RANGES = 1 << 20;
    private static final Effect NONE = (ctx, arg) -> { };

    private FuzzTable() {
    }

    static List<Row> rows() {
        return List.of(
                control("IOCTL_BLKSNAP_VERSION", Ioctl.IOCTL_BLKSNAP_VERSION, Abi.BLKSNAP_VERSION, Set.of(),
                        (ctx, arg, d) -> { }, NONE),
                control("IOCTL_BLKSNAP_SNAPSHOT_CREATE", Ioctl.IOCTL_BLKSNAP_SNAPSHOT_CREATE,
                        Abi.BLKSNAP_SNAPSHOT_CREATE,
                        Set.of(EINVAL, ENAMETOOLONG, ENOENT, ENOTDIR, EBUSY, ENOSPC, EOPNOTSUPP),
                        FuzzTable::fillCreate, (ctx, arg) -> ctx.live.add(
                                new SnapshotId(Uuid.read(arg, Abi.offset(Abi.BLKSNAP_SNAPSHOT_CREATE, "id"))))),
                control("IOCTL_BLKSNAP_SNAPSHOT_DESTROY", Ioctl.IOCTL_BLKSNAP_SNAPSHOT_DESTROY, Abi.BLKSNAP_UUID,
                        Set.of(ENODEV), FuzzTable::fillId, (ctx, arg) -> {
                            SnapshotId id = new SnapshotId(Uuid.read(arg, 0));
                            ctx.live.remove(id);
                            ctx.dead.add(id);
                        }),
                control("IOCTL_BLKSNAP_SNAPSHOT_TAKE", Ioctl.IOCTL_BLKSNAP_SNAPSHOT_TAKE, Abi.BLKSNAP_UUID,
                        Set.of(ESRCH, EALREADY, ENODEV), FuzzTable::fillId, NONE),
                control("IOCTL_BLKSNAP_SNAPSHOT_COLLECT", Ioctl.IOCTL_BLKSNAP_SNAPSHOT_COLLECT,
                        Abi.BLKSNAP_SNAPSHOT_COLLECT, Set.of(ENODATA), FuzzTable::fillCollect, NONE),
                control("IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT", Ioctl.IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT,
                        Abi.BLKSNAP_SNAPSHOT_EVENT, Set.of(ESRCH, ENOENT, EINTR), FuzzTable::fillWait, NONE),
                new Row("IOCTL_BLKSNAP(random command)", Door.CONTROL, FuzzTable::unknownControl, 64,
                        Set.of(ENOTTY), (ctx, arg, d) -> { }, NONE, false),
                block("BLKFILTER_ATTACH", Ioctl.BLKFILTER_ATTACH, Abi.BLKFILTER_ATTACH,
                        Set.of(ENOENT, EALREADY), FuzzTable::fillAttach),
                block("BLKFILTER_DETACH", Ioctl.BLKFILTER_DETACH, Abi.BLKFILTER_DETACH,
                        Set.of(ENOENT, EINVAL, EBUSY), (ctx, arg, d) -> d.append("name=").append(ctx.name(arg))),
                ctl("CBTINFO", Abi.CTL_CBTINFO, Abi.BLKSNAP_CBTINFO, Set.of(), (ctx, opt, d) -> { }),
                ctl("CBTMAP", Abi.CTL_CBTMAP, Abi.BLKSNAP_CBTMAP, Set.of(ENODATA), FuzzTable::fillCbtMap),
                ctl("CBTDIRTY", Abi.CTL_CBTDIRTY, Abi.BLKSNAP_CBTDIRTY, Set.of(), FuzzTable::fillCbtDirty),
                ctl("SNAPSHOTADD", Abi.CTL_SNAPSHOTADD, Abi.BLKSNAP_SNAPSHOTADD,
                        Set.of(ESRCH, EALREADY, EBUSY, EPERM, EOPNOTSUPP, ETXTBSY, ENOSPC), FuzzTable::fillId),
                ctl("SNAPSHOTINFO", Abi.CTL_SNAPSHOTINFO, Abi.BLKSNAP_SNAPSHOTINFO, Set.of(),
                        (ctx, opt, d) -> { }),
                new Row("BLKFILTER_CTL(unknown cmd)", Door.BLOCK, rng -> Ioctl.BLKFILTER_CTL,
                        Abi.BLKFILTER_CTL.byteSize(), Set.of(ENOENT, EINVAL, ENOTTY), FuzzTable::fillUnknownCtl, NONE, true));
    }

    private static Row control(String name, long request, StructLayout layout, Set<Integer> allowed, Filler filler,
            Effect effect) {
        return new Row(name, Door.CONTROL, rng -> request, layout.byteSize(), allowed, filler, effect, true);
    }

    private static Row block(String name, long request, StructLayout layout, Set<Integer> allowed, Filler filler) {
        return new Row(name, Door.BLOCK, rng -> request, layout.byteSize(), allowed, filler, NONE, true);
    }

    /**
     * A BLKFILTER_CTL command: besides its own errnos, ENOENT (name not
     * ours or filter not attached), EINVAL (optlen below the struct size) and
     * ENODEV (medium gone) apply to every command.
     */
    private static Row ctl(String cmdName, int cmd, StructLayout opt, Set<Integer> own, Filler fillOpt) {
        Set<Integer> allowed = Stream.concat(own.stream(), Stream.of(ENOENT, EINVAL, ENODEV))
                .collect(Collectors.toUnmodifiableSet());
        Filler filler = (ctx, arg, d) -> {
            d.append("name=").append(ctx.name(arg.asSlice(0, Abi.BLKFILTER_NAME_LENGTH)));
            arg.set(JAVA_INT_UNALIGNED, CTL_CMD, cmd);
            int optlen = ctx.oneIn(6) ? ctx.count((int) opt.byteSize()) : (int) opt.byteSize();
            arg.set(JAVA_INT_UNALIGNED, CTL_OPTLEN, optlen);
            long p = ctx.pointer(opt.byteSize());
            arg.set(JAVA_LONG_UNALIGNED, CTL_OPT, p);
            d.append(" optlen=").append(Integer.toUnsignedString(optlen)).append(" opt=0x")
                    .append(Long.toHexString(p));
            if (ctx.mapped(p, opt.byteSize())) {
                MemorySegment o = ctx.at(p, opt.byteSize());
                o.fill((byte) ctx.rng.nextInt());
                d.append(' ');
                fillOpt.fill(ctx, o, d);
            }
        };
        return new Row("BLKFILTER_CTL(" + cmdName + ")", Door.BLOCK, rng -> Ioctl.BLKFILTER_CTL,
                Abi.BLKFILTER_CTL.byteSize(), allowed, filler, NONE, true);
    }

    private static void fillId(FuzzContext ctx, MemorySegment arg, StringBuilder d) {
        SnapshotId id = ctx.id();
        id.uuid().write(arg, 0);
        d.append("id=").append(id);
    }

    private static void fillCreate(FuzzContext ctx, MemorySegment arg, StringBuilder d) {
        long limit = switch (ctx.rng.nextInt(5)) {
            case 0 -> 0;
            case 1 -> 1 + ctx.rng.nextInt(4096);
            case 2 -> ctx.rng.nextLong();
            default -> 1L << 15;
        };
        arg.set(JAVA_LONG_UNALIGNED, Abi.offset(Abi.BLKSNAP_SNAPSHOT_CREATE, "diff_storage_limit_sect"), limit);
        d.append("limit=").append(Long.toUnsignedString(limit)).append(' ');
        arg.set(JAVA_LONG_UNALIGNED, Abi.offset(Abi.BLKSNAP_SNAPSHOT_CREATE, "diff_storage_filename"),
                ctx.path(d));
    }

    private static void fillCollect(FuzzContext ctx, MemorySegment arg, StringBuilder d) {
        int count = ctx.count(8);
        long ids = ctx.pointer(Integer.toUnsignedLong(count) * Abi.UUID_SIZE);
        arg.set(JAVA_INT_UNALIGNED, Abi.offset(Abi.BLKSNAP_SNAPSHOT_COLLECT, "count"), count);
        arg.set(JAVA_LONG_UNALIGNED, Abi.offset(Abi.BLKSNAP_SNAPSHOT_COLLECT, "ids"), ids);
        d.append("count=").append(Integer.toUnsignedString(count)).append(" ids=0x").append(Long.toHexString(ids));
    }

    private static void fillWait(FuzzContext ctx, MemorySegment arg, StringBuilder d) {
        fillId(ctx, arg, d);
        // Short: a live snapshot without events makes the call wait this long.
        int timeout = ctx.rng.nextInt(4) == 0 ? 0 : 1 + ctx.rng.nextInt(10);
        arg.set(JAVA_INT_UNALIGNED, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "timeout_ms"), timeout);
        d.append(" timeout_ms=").append(timeout);
    }

    private static long unknownControl(Random rng) {
        while (true) {
            long request = Ioctl.ioc(rng.nextInt(4), rng.nextInt(8) == 0 ? rng.nextInt(256) : Ioctl.BLKSNAP_TYPE,
                    rng.nextInt(8) == 0 ? rng.nextInt(256) : rng.nextInt(8), rng.nextInt(1 << 14));
            if (!Ioctl.all().containsValue(request)) {
                return request;
            }
        }
    }

    private static void fillAttach(FuzzContext ctx, MemorySegment arg, StringBuilder d) {
        d.append("name=").append(ctx.name(arg.asSlice(0, Abi.BLKFILTER_NAME_LENGTH)));
        int optlen = ctx.oneIn(4) ? ctx.count(16) : 0;
        long opt = ctx.pointer(16);
        arg.set(JAVA_LONG_UNALIGNED, Abi.offset(Abi.BLKFILTER_ATTACH, "opt"), opt);
        arg.set(JAVA_INT_UNALIGNED, Abi.offset(Abi.BLKFILTER_ATTACH, "optlen"), optlen);
        d.append(" optlen=").append(Integer.toUnsignedString(optlen));
    }

    private static void fillCbtMap(FuzzContext ctx, MemorySegment opt, StringBuilder d) {
        int offset = ctx.oneIn(3) ? ctx.count(ctx.blockCount) : ctx.rng.nextInt(ctx.blockCount + 1);
        int length = ctx.count(ctx.blockCount);
        long buffer = ctx.pointer(Math.min(Integer.toUnsignedLong(length), ctx.blockCount));
        opt.set(JAVA_INT_UNALIGNED, Abi.offset(Abi.BLKSNAP_CBTMAP, "offset"), offset);
        opt.set(JAVA_INT_UNALIGNED, Abi.offset(Abi.BLKSNAP_CBTMAP, "length"), length);
        opt.set(JAVA_LONG_UNALIGNED, Abi.offset(Abi.BLKSNAP_CBTMAP, "buffer"), buffer);
        d.append("offset=").append(Integer.toUnsignedString(offset)).append(" length=")
                .append(Integer.toUnsignedString(length)).append(" buffer=0x").append(Long.toHexString(buffer));
    }

    private static void fillCbtDirty(FuzzContext ctx, MemorySegment opt, StringBuilder d) {
        int count = ctx.count(DIRTY_MAX_RANGES);
        long bytes = Integer.toUnsignedLong(count) * Abi.BLKSNAP_SECTORS.byteSize();
        long ranges = ctx.pointer(bytes);
        opt.set(JAVA_INT_UNALIGNED, Abi.offset(Abi.BLKSNAP_CBTDIRTY, "count"), count);
        opt.set(JAVA_LONG_UNALIGNED, Abi.offset(Abi.BLKSNAP_CBTDIRTY, "dirty_sectors"), ranges);
        d.append("count=").append(Integer.toUnsignedString(count)).append(" dirty_sectors=0x")
                .append(Long.toHexString(ranges));
        if (bytes <= 64 * Abi.BLKSNAP_SECTORS.byteSize() && ctx.mapped(ranges, bytes)) {
            MemorySegment r = ctx.at(ranges, bytes);
            for (long i = 0; i < Integer.toUnsignedLong(count); i++) {
                // In range, at the very end, past it, or wrapping around.
                long sector = ctx.oneIn(4) ? ctx.rng.nextLong() : ctx.rng.nextLong(ctx.capacitySectors + 2);
                long sectors = ctx.oneIn(4) ? -1L - ctx.rng.nextInt(4) : ctx.rng.nextInt(4096);
                r.set(JAVA_LONG_UNALIGNED, i * 16, sector);
                r.set(JAVA_LONG_UNALIGNED, i * 16 + 8, sectors);
            }
        }
    }

    private static void fillUnknownCtl(FuzzContext ctx, MemorySegment arg, StringBuilder d) {
        d.append("name=").append(ctx.name(arg.asSlice(0, Abi.BLKFILTER_NAME_LENGTH)));
        int cmd = Abi.CTL_SNAPSHOTINFO + 1 + (ctx.oneIn(2) ? ctx.rng.nextInt(4) : ctx.rng.nextInt(1 << 30));
        arg.set(JAVA_INT_UNALIGNED, CTL_CMD, ctx.oneIn(8) ? -1 : cmd);
        d.append(" cmd=").append(Integer.toUnsignedString(arg.get(JAVA_INT_UNALIGNED, CTL_CMD)));
    }
}
