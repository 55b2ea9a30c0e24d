package org.blksnap.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import org.blksnap.backup.repo.ChunkException;
import org.blksnap.backup.repo.ImageReader;

/**
 * One device of a backup, served read-only from its repository: chunks are
 * fetched, checked and decompressed when a client reads them
 * ({@link ImageReader}). A chunk that is missing or damaged fails that read
 * with EIO and is reported once; every other range stays readable.
 *
 * <p>{@code base:allocation} reports the chunks the manifest records as all
 * zero as holes that read as zeros ({@link #STATE_HOLE} | {@link #STATE_ZERO}),
 * every other chunk as data.
 */
public final class RepositoryExport implements Export {
    /** base:allocation bit: the extent is not allocated. */
    public static final int STATE_HOLE = 1;
    /** base:allocation bit: the extent reads as zeros. */
    public static final int STATE_ZERO = 2;
    /** Extents one answer describes at most, so that one query cannot make a huge reply. */
    static final int MAX_EXTENTS = 65536;

    private final ImageReader image;
    private final String description;
    private final Consumer<String> warnings;
    private final Set<Object> reported = ConcurrentHashMap.newKeySet();

    /**
     * @param image       the device of the backup
     * @param description the line shown to clients that ask
     * @param warnings    told, once per chunk, of a chunk that could not be read
     */
    public RepositoryExport(ImageReader image, String description, Consumer<String> warnings) {
        this.image = Objects.requireNonNull(image, "image");
        this.description = Objects.requireNonNull(description, "description");
        this.warnings = Objects.requireNonNull(warnings, "warnings");
    }

    @Override
    public long size() {
        return image.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        try {
            image.read(offset, dst);
        } catch (ChunkException e) {
            // The kernel retries a failed read: one line per chunk, not per try.
            if (reported.add(e.chunkId() != null ? e.chunkId() : e.getMessage())) {
                warnings.accept(e.getMessage());
            }
            throw new ExportException(NbdError.EIO, e.getMessage(), e);
        }
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public BlockStatus allocation() {
        return (offset, length) -> {
            long end = Math.min(offset + length, size());
            List<StatusExtent> out = new ArrayList<>();
            long pos = offset;
            long cs = image.chunkSize();
            while (pos < end && out.size() < MAX_EXTENTS) {
                int chunk = image.chunkOf(pos);
                boolean zero = image.isZero(chunk);
                int next = chunk + 1;
                while ((long) next * cs < end && next < image.chunkCount() && image.isZero(next) == zero) {
                    next++;
                }
                long runEnd = Math.min((long) next * cs, end);
                out.add(new StatusExtent(runEnd - pos, zero ? STATE_HOLE | STATE_ZERO : 0));
                pos = runEnd;
            }
            return out;
        };
    }
}
