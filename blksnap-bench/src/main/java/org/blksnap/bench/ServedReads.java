package org.blksnap.bench;

import java.nio.file.Path;
import java.util.List;

import org.blksnap.api.Session;

/**
 * Scenario 10: a live snapshot served by {@code blksnap serve} on a Unix
 * socket and copied by nbdcopy (libnbd), against the same nbdcopy reading
 * the snapshot image device directly. Nothing is written after either
 * take, so both read the same bytes of the same size: the ratio is what the
 * NBD server and the socket cost.
 */
final class ServedReads extends Scenario {
    private static final Target TARGET = Target.ratioAtLeast(0.8,
            "every NBD read is served by the Java server (blksnap-nbd Transmission) from the image device "
                    + "and copied through the socket; nbdcopy reads the local image with the same requests "
                    + "straight from the kernel. Fix: see the server's read path (one read of the image per "
                    + "request, its buffer size, the requests in flight per connection).");
    private static final String SOCKET = "/tmp/blksnap-bench-serve.sock";

    ServedReads() {
        super(10, "NBD: nbdcopy of a served snapshot vs of the image device");
    }

    @Override
    void run(Bench b) throws Exception {
        Path dev = b.disks().main();
        long bytes = Guest.deviceBytes(dev);
        double direct;
        try (Session s = b.snapshot(List.of(dev))) {
            Path image = s.images().getFirst().image();
            Launcher.dropCaches();
            direct = Launcher.timed("nbdcopy", image.toString(), "null:");
        } finally {
            Bench.detach(dev);
        }
        double served;
        String uri;
        try (Launcher.Running serve = new Launcher.Running("serve", "--socket", SOCKET, "-d", dev.toString(),
                "--storage", b.disks().storage().toString(), "--limit",
                Long.toString(Guest.deviceBytes(b.disks().storage())))) {
            String name = dev.getFileName().toString();
            uri = "nbd+unix://" + serve.await(name + " nbd+unix://").strip();
            Launcher.dropCaches();
            served = Launcher.timed("nbdcopy", uri, "null:");
        } finally {
            Bench.detach(dev);
        }
        double directMib = bytes / direct / (1 << 20);
        double servedMib = bytes / served / (1 << 20);
        b.log("  nbdcopy of " + (bytes >> 20) + " MiB: image " + Format.number(direct) + " s, served "
                + Format.number(served) + " s");
        b.add(Measurement.judged(number(), "nbdcopy of the snapshot image device", directMib, "MiB/s", null, null,
                b.quick(), "nbdcopy IMAGE null:, the whole " + (bytes >> 20) + " MiB device, page cache dropped "
                        + "before; process start included", List.of()));
        b.add(Measurement.judged(number(), "nbdcopy of the served snapshot (Unix socket)", servedMib, "MiB/s",
                servedMib / directMib, TARGET, b.quick(), "nbdcopy '" + uri + "' null: against blksnap serve; "
                        + "ratio to nbdcopy of the image device in the same boot", List.of()));
    }
}
