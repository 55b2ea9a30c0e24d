package org.blksnap.api;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a snapshot keeps the original content of chunks overwritten after
 * the take (the difference storage).
 *
 * @param kind what the path names
 * @param path the file, directory or block device
 */
public record DiffStorage(Kind kind, Path path) {

    /** What a difference storage path names. */
    public enum Kind {
        /** A regular file, grown by the module as needed up to the limit. */
        FILE,
        /** A directory: the module makes an unnamed file in it that vanishes with the snapshot. */
        DIRECTORY,
        /** A whole block device of fixed size, opened exclusively. */
        BLOCK_DEVICE
    }

    /** Validates the fields. */
    public DiffStorage {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(path, "path");
    }

    /** @param file a regular file (created empty if missing) @return the storage */
    public static DiffStorage file(Path file) {
        return new DiffStorage(Kind.FILE, file);
    }

    /** @param dir an existing directory @return the storage */
    public static DiffStorage directory(Path dir) {
        return new DiffStorage(Kind.DIRECTORY, dir);
    }

    /** @param device a block device @return the storage */
    public static DiffStorage blockDevice(Path device) {
        return new DiffStorage(Kind.BLOCK_DEVICE, device);
    }

    /**
     * Looks at the path and picks the kind: directory, block device, or
     * (existing or not) regular file.
     *
     * @param path the path
     * @return the storage
     * @throws DiffStorageException if the path names something else
     */
    public static DiffStorage of(Path path) throws DiffStorageException {
        if (Files.isDirectory(path)) {
            return directory(path);
        }
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS) && !Files.exists(path)) {
            return file(path);
        }
        if (Files.isRegularFile(path)) {
            return file(path);
        }
        if (Devices.isBlockDevice(path)) {
            return blockDevice(path);
        }
        throw new DiffStorageException(path + " is neither a file, a directory nor a block device", 0);
    }

    /**
     * Checks the path before it is handed to the kernel; creates an empty
     * regular file when kind is {@link Kind#FILE} and it does not exist yet.
     *
     * @return the absolute path to pass to the kernel
     * @throws DiffStorageException with a message saying what is wrong
     */
    public Path prepare() throws DiffStorageException {
        Path abs = path.toAbsolutePath().normalize();
        switch (kind) {
            case DIRECTORY -> {
                if (!Files.isDirectory(abs)) {
                    throw new DiffStorageException("diff storage directory " + abs + " does not exist", 0);
                }
            }
            case BLOCK_DEVICE -> {
                if (!Devices.isBlockDevice(abs)) {
                    throw new DiffStorageException(abs + " is not a block device", 0);
                }
            }
            case FILE -> {
                if (!Files.exists(abs)) {
                    try {
                        Files.createFile(abs);
                    } catch (IOException e) {
                        throw new DiffStorageException("cannot create diff storage file " + abs + ": "
                                + e.getMessage(), 0);
                    }
                } else if (!Files.isRegularFile(abs)) {
                    throw new DiffStorageException(abs + " is not a regular file", 0);
                }
            }
        }
        return abs;
    }
}
