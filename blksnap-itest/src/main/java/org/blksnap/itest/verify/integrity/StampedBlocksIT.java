package org.blksnap.itest.verify.integrity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.blksnap.api.Filter;
import org.blksnap.api.Uuid;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.verify.BlockDevice;
import org.blksnap.itest.verify.DeviceModel;
import org.blksnap.itest.verify.ImageCheck;
import org.blksnap.itest.verify.Knobs;
import org.blksnap.itest.verify.Mismatch;
import org.blksnap.itest.verify.Stamp;
import org.blksnap.itest.verify.StampedRun;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Writer threads stamp random ranges of a device (overwrites, discards,
 * O_DIRECT) while snapshots are taken; every block of every image must be
 * exactly what the model allows at the take, and CBT must name every block
 * written since the previous take.
 */
class StampedBlocksIT {
    private static final Knobs KNOBS = Knobs.current();
    private static final Path CBT_SWITCH = Path.of("/sys/kernel/debug/blksnap/cbt_switch");
    /** After this many takes the next one wraps the CBT numbers (the active number would be 256). */
    private static final int BEFORE_WRAP = 254;

    @AfterEach
    void noSnapshotLeft() throws Exception {
        Snapshots.destroyAll();
    }

    /**
     * The CBT numbers are first advanced to just before they wrap (with the
     * module's debugfs switch, which does what a take does to the maps), so
     * the first take wraps them into a new generation and the second counts
     * from 1 again: CBT is checked across the wrap too.
     */
    @Test
    void loopDeviceImagesMatchTheModelBlockForBlock() throws Exception {
        long bytes = (long) KNOBS.deviceMiB() << 20;
        try (LoopDevice loop = LoopDevice.create(bytes)) {
            Uuid generation;
            try (Filter f = Filter.open(loop.device())) {
                f.attach();
                for (int i = 0; i < BEFORE_WRAP; i++) {
                    Files.writeString(CBT_SWITCH, f.deviceNumber().toString());
                }
                assertEquals(BEFORE_WRAP, f.cbtInfo().changesNumber());
                generation = f.cbtInfo().generationId();
            }
            try (StampedRun run = new StampedRun("stamped loop", List.of(loop.device()), bytes, true)) {
                run.run(KNOBS, KNOBS.deadline(0.25));
                assertTrue(run.takes() >= 2 && run.workload().requests() > 0, "the workload and the takes ran");
                try (Filter f = Filter.open(loop.device())) {
                    assertNotEquals(generation, f.cbtInfo().generationId(), "the numbers wrapped");
                }
            }
        }
    }

    @Test
    void virtioDiskImagesMatchTheModelBlockForBlock() throws Exception {
        Path disk = Path.of("/dev/vdd");
        assertTrue(BlockDevice.discards(disk), disk + " accepts discards (vm/run gives discard=unmap)");
        long bytes = (long) KNOBS.deviceMiB() << 20;
        try (StampedRun run = new StampedRun("stamped virtio", List.of(disk), bytes, true)) {
            run.run(KNOBS, KNOBS.deadline(0.25));
            assertTrue(run.takes() >= 1 && run.workload().requests() > 0, "the workload and the takes ran");
        }
    }

    /**
     * The checks can fail: one image block is overwritten with a stamp no
     * write carried and another is torn (its second half from another
     * write); the check must name exactly those two blocks, decoded, and the
     * original must not see either.
     */
    @Test
    void aCorruptedImageBlockIsReportedExactly() throws Exception {
        long bytes = 8L << 20;
        long foreign = 77;
        long torn = 1234;
        try (LoopDevice loop = LoopDevice.create(bytes);
                StampedRun run = new StampedRun("mutation", List.of(loop.device()), bytes, false)
                        .deliberateMismatches()) {
            DeviceModel model = run.models().getFirst();
            run.workload().start(2, 5);
            Thread.sleep(300);
            List<ImageCheck> checks = run.round(images -> {
                try (BlockDevice image = BlockDevice.open(images.getFirst().image())) {
                    ByteBuffer buf = BlockDevice.buffer(Stamp.BLOCK);
                    model.stamp(foreign, Long.MAX_VALUE / 3, 9).encode(buf);
                    image.write(buf.flip(), foreign * Stamp.BLOCK);
                    buf.clear();
                    model.stamp(torn + 1, 1, 0).encode(buf);
                    image.write(buf.flip().slice(2048, 2048), torn * Stamp.BLOCK + 2048);
                }
            });
            run.workload().close();
            Set<Long> reported = new TreeSet<>();
            for (Mismatch m : run.mismatches()) {
                reported.add(m.block());
            }
            assertEquals(Set.of(foreign, torn), reported, "reported: " + run.mismatches());
            assertTrue(run.mismatches().stream().anyMatch(m -> m.block() == foreign
                    && m.found().contains("seq " + Long.MAX_VALUE / 3) && m.expected().contains("one of")),
                    run.mismatches().toString());
            assertTrue(run.mismatches().stream().anyMatch(m -> m.block() == torn && m.found().contains("checksum")),
                    run.mismatches().toString());
            assertEquals(model.blocks(), checks.getFirst().checked());
            try (BlockDevice original = BlockDevice.open(loop.device())) {
                ByteBuffer buf = BlockDevice.buffer(Stamp.BLOCK);
                original.read(buf, foreign * Stamp.BLOCK);
                Stamp.Content c = Stamp.decode(buf.flip());
                assertTrue(c instanceof Stamp.Stamped s && s.stamp().seq() != Long.MAX_VALUE / 3,
                        "the original keeps its own block, found " + c.describe());
            }
        }
    }
}
