package org.blksnap.backup.repo.s3;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

import org.blksnap.backup.repo.ChunkStore;

import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;

/**
 * A pack streamed into a multipart upload: parts of {@link S3Options#partSize}
 * are uploaded by virtual threads, at most {@link S3Options#partsInFlight} at
 * a time, so a writer holds at most one part more than that in memory. A pack
 * that fits in one part is stored with one PUT instead. Nothing is visible
 * before {@link #publish} completes the upload; a writer closed unpublished
 * aborts it, and an upload left by a killed process is aborted by the next
 * exclusive holder ({@link S3Store#removeLeftovers}).
 */
final class S3PackWriter implements ChunkStore.ObjectWriter {
    private final S3Store store;
    private final String key;
    private final ExecutorService uploads;
    private final Semaphore inFlight;
    private final List<Future<CompletedPart>> parts = new ArrayList<>();
    private byte[] buf;
    private int fill;
    private long size;
    private String uploadId;
    private boolean published;
    private boolean closed;

    S3PackWriter(S3Store store, String key, ExecutorService uploads) {
        this.store = store;
        this.key = key;
        this.uploads = uploads;
        this.inFlight = new Semaphore(store.options().partsInFlight());
        this.buf = new byte[store.options().partSize()];
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            if (fill == buf.length) {
                sendPart();
            }
            int n = Math.min(len, buf.length - fill);
            System.arraycopy(b, off, buf, fill, n);
            fill += n;
            off += n;
            len -= n;
            size += n;
        }
    }

    @Override
    public long size() {
        return size;
    }

    private void sendPart() throws IOException {
        if (uploadId == null) {
            uploadId = store.call(() -> store.client().createMultipartUpload(r -> r.bucket(store.where().bucket())
                    .key(key))).uploadId();
        }
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while uploading " + key);
        }
        byte[] part = buf;
        int length = fill;
        int number = parts.size() + 1;
        String id = uploadId;
        parts.add(uploads.submit(() -> {
            try {
                String etag = store.client().uploadPart(r -> r.bucket(store.where().bucket()).key(key)
                        .uploadId(id).partNumber(number).contentLength((long) length),
                        S3Store.body(part, length)).eTag();
                return CompletedPart.builder().partNumber(number).eTag(etag).build();
            } finally {
                inFlight.release();
            }
        }));
        failEarly();
        buf = new byte[store.options().partSize()];
        fill = 0;
    }

    /** Stops writing at the first failed part instead of at publish. */
    private void failEarly() throws IOException {
        for (Future<CompletedPart> f : parts) {
            if (f.isDone()) {
                result(f);
            }
        }
    }

    private CompletedPart result(Future<CompletedPart> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while uploading " + key);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SdkException s) {
                throw store.io("cannot upload " + key, s);
            }
            throw new IOException(store.location() + ": cannot upload " + key, e.getCause());
        }
    }

    @Override
    public void publish() throws IOException {
        if (uploadId == null) {
            int length = fill;
            store.call(() -> store.client().putObject(r -> r.bucket(store.where().bucket()).key(key)
                    .contentLength((long) length), S3Store.body(buf, length)));
            published = true;
            buf = null;
            return;
        }
        if (fill > 0) {
            sendPart();
        }
        List<CompletedPart> done = new ArrayList<>();
        for (Future<CompletedPart> f : parts) {
            done.add(result(f));
        }
        done.sort(Comparator.comparing(CompletedPart::partNumber));
        try {
            store.client().completeMultipartUpload(r -> r.bucket(store.where().bucket()).key(key).uploadId(uploadId)
                    .multipartUpload(m -> m.parts(done)));
        } catch (NoSuchUploadException e) {
            // A retry of a completion whose answer was lost: the first try
            // completed it. The object is there with every byte, or it is not.
            long stored;
            try {
                stored = store.client().headObject(r -> r.bucket(store.where().bucket()).key(key)).contentLength();
            } catch (SdkException h) {
                stored = -1;
            }
            if (stored != size) {
                throw store.io("cannot complete " + key, e);
            }
        } catch (SdkException e) {
            throw store.io("cannot complete " + key, e);
        }
        published = true;
        buf = null;
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        buf = null;
        if (published || uploadId == null) {
            return;
        }
        for (Future<CompletedPart> f : parts) {
            f.cancel(true);
        }
        for (Future<CompletedPart> f : parts) {
            try {
                f.get();
            } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                // Aborted anyway.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        store.call(() -> store.client().abortMultipartUpload(r -> r.bucket(store.where().bucket()).key(key)
                .uploadId(uploadId)));
    }
}
