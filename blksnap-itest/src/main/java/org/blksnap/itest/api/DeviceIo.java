package org.blksnap.itest.api;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Plain device I/O for the API tests. */
final class DeviceIo {
    private DeviceIo() {
    }

    static void write(Path device, long offset, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), offset);
            ch.force(true);
        }
    }

    static byte[] read(Path device, long offset, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
            while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) > 0) {
                // keep reading
            }
        }
        return buf.array();
    }
}
