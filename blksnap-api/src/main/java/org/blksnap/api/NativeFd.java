package org.blksnap.api;

import java.util.concurrent.atomic.AtomicInteger;

import org.blksnap.api.sys.Linux;

/** An owned file descriptor, closed once. */
final class NativeFd implements AutoCloseable {
    private final AtomicInteger fd;

    NativeFd(int fd) {
        this.fd = new AtomicInteger(fd);
    }

    int get() {
        int v = fd.get();
        if (v < 0) {
            throw new IllegalStateException("already closed");
        }
        return v;
    }

    @Override
    public void close() {
        int v = fd.getAndSet(-1);
        if (v >= 0) {
            Linux.close(v);
        }
    }
}
