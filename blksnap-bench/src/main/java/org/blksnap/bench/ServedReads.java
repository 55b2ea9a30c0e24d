package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.blksnap.api.Session;

/**
 * Scenario 10: a live snapshot served by {@code blksnap serve} on a Unix
 * socket and copied by nbdcopy (libnbd), against the same nbdcopy reading
 * the snapshot image device directly. Nothing is written after either
 * take, so both read the same bytes of the same size: the ratio is what the
 * NBD server and the socket cost. The C peer, qemu-nbd, serves the same
 * image device in the same boot, to show what any server on that socket
 * costs here.
 */
final class ServedReads extends Scenario {
    private static final Target TARGET = Target.ratioAtLeast(0.8,
            "a served read is copied three times (the image's pages to the server, the server to the socket, "
                    + "the socket to nbdcopy) where nbdcopy of the device copies once, on two emulated CPUs that "
                    + "also run nbdcopy; qemu-nbd, a C server, serving the same image on the same kind of socket "
                    + "in this boot (row below), pays the same and is the measure of what the socket leaves: "
                    + "blksnap serve against it is the server's own share.");
    private static final String SOCKET = "/tmp/blksnap-bench-serve.sock";
    private static final Path PEER_SOCKET = Path.of("/tmp/blksnap-bench-qemu-nbd.sock");

    ServedReads() {
        super(10, "NBD: nbdcopy of a served snapshot vs of the image device");
    }

    @Override
    void run(Bench b) throws Exception {
        Path dev = b.disks().main();
        long bytes = Guest.deviceBytes(dev);
        double direct;
        double peer;
        try (Session s = b.snapshot(List.of(dev))) {
            Path image = s.images().getFirst().image();
            Launcher.dropCaches();
            direct = Launcher.timed("nbdcopy", image.toString(), "null:");
            peer = servedByQemuNbd(image);
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
        double peerMib = bytes / peer / (1 << 20);
        b.add(Measurement.judged(number(), "nbdcopy of the image served by qemu-nbd (Unix socket)", peerMib,
                "MiB/s", peerMib / directMib, null, b.quick(), "the C peer: qemu-nbd --read-only --shared=8 of the "
                        + "snapshot image device, same boot; ratio to nbdcopy of the image device", List.of()));
    }

    /** @return seconds nbdcopy takes to read {@code image} served by qemu-nbd on a Unix socket */
    private static double servedByQemuNbd(Path image) throws IOException, InterruptedException {
        Files.deleteIfExists(PEER_SOCKET);
        Process p = new ProcessBuilder("qemu-nbd", "--read-only", "--format=raw", "--shared=8", "--persistent",
                "--socket=" + PEER_SOCKET, image.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(PEER_SOCKET)) {
                if (!p.isAlive()) {
                    throw new IOException("qemu-nbd exited with status " + p.exitValue() + " before listening");
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("qemu-nbd did not listen on " + PEER_SOCKET + " within 30 s");
                }
                Thread.sleep(50);
            }
            // The socket's file appears at bind, a moment before listen.
            Thread.sleep(200);
            Launcher.dropCaches();
            return Launcher.timed("nbdcopy", "nbd+unix:///?socket=" + PEER_SOCKET, "null:");
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
            Files.deleteIfExists(PEER_SOCKET);
        }
    }
}
