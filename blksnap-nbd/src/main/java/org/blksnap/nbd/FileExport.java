package org.blksnap.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An export of a regular file or a block device, opened read-only. Extra meta
 * contexts (the CBT of a snapshot) can be attached.
 */
public final class FileExport implements Export, AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final Optional<ChangedBlocks> changed;
    private final String description;

    private FileExport(Path path, FileChannel channel, long size, Optional<ChangedBlocks> changed, String description) {
        this.path = path;
        this.channel = channel;
        this.size = size;
        this.changed = changed;
        this.description = description;
    }

    /**
     * Opens a regular file; its current length is the export's size.
     *
     * @param path the file
     * @return the export
     * @throws IOException if it cannot be opened
     */
    public static FileExport open(Path path) throws IOException {
        return open(path, Files.size(path), Optional.empty(), "");
    }

    /**
     * Opens a file or block device of known size (a block device's length is
     * not visible through its file size).
     *
     * @param path        the file or device
     * @param size        bytes to export
     * @param changed     the CBT contexts to offer, if any
     * @param description the line shown to clients that ask
     * @return the export
     * @throws IOException if it cannot be opened
     */
    public static FileExport open(Path path, long size, Optional<ChangedBlocks> changed, String description)
            throws IOException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(changed, "changed");
        Objects.requireNonNull(description, "description");
        if (size < 0) {
            throw new IllegalArgumentException("negative size: " + size);
        }
        return new FileExport(path, FileChannel.open(path, StandardOpenOption.READ), size, changed, description);
    }

    /** @return the file or device */
    public Path path() {
        return path;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) {
                throw new EOFException(path + ": ends at " + pos + ", before the export's size " + size);
            }
            pos += n;
        }
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public Optional<BlockStatus> metaContext(String name) {
        return changed.flatMap(c -> c.context(name));
    }

    @Override
    public List<String> metaContextNames() {
        return changed.map(ChangedBlocks::names).orElse(List.of());
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
