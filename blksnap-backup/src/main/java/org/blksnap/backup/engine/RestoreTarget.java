package org.blksnap.backup.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import org.blksnap.backup.BackupException;

/**
 * Where a restore may write, decided before anything is written. Only two
 * kinds of target exist: an existing block device, or a regular file outside
 * {@code /dev}. Everything else the user may have typed by mistake (a
 * character device such as {@code /dev/null}, a FIFO, a directory, a
 * misspelt {@code /dev/sdz}, which would become a file in devtmpfs) is
 * refused with one line that names the path as given.
 */
public sealed interface RestoreTarget {
    /** @return the path the user gave, for messages */
    Path given();

    /**
     * An existing block device. A symbolic link to one (the stable names
     * udev makes under {@code /dev/disk/by-*}) is followed: it names the
     * device, and writing through it cannot replace the link.
     *
     * @param given  the path the user gave
     * @param device the device node the path resolves to
     */
    record BlockDevice(Path given, Path device) implements RestoreTarget {
    }

    /**
     * A regular file, written under a temporary name next to it and renamed
     * over it when complete.
     *
     * @param given    the path the user gave
     * @param replaces true if a file of that name exists (allowed only with force)
     */
    record File(Path given, boolean replaces) implements RestoreTarget {
    }

    /** Device nodes live here; nothing else should be created in it. */
    Path DEV = Path.of("/dev");

    /**
     * @param given the path the user gave
     * @param force whether an existing regular file may be replaced
     * @return the target
     * @throws BackupException if the path is not an acceptable target
     * @throws IOException if its type cannot be read
     */
    static RestoreTarget of(Path given, boolean force) throws IOException {
        Integer mode = mode(given, LinkOption.NOFOLLOW_LINKS);
        if (mode != null && FileType.of(mode) == FileType.SYMLINK) {
            Integer resolved = mode(given);
            if (resolved != null && FileType.of(resolved) == FileType.BLOCK_DEVICE) {
                return new BlockDevice(given, given.toRealPath());
            }
            throw new BackupException(given + " is a symbolic link" + (resolved == null ? " to nothing" : " to "
                    + FileType.of(resolved).text) + ": give a block device or the file itself");
        }
        if (mode != null) {
            FileType type = FileType.of(mode);
            switch (type) {
                case BLOCK_DEVICE -> {
                    return new BlockDevice(given, given.toRealPath());
                }
                case REGULAR -> {
                    requireOutsideDev(given, given.toRealPath());
                    if (!force) {
                        throw new BackupException(given + " exists: give --force to replace it");
                    }
                    return new File(given, true);
                }
                default -> throw new BackupException(given + " is " + type.text
                        + ": give a block device or a regular file");
            }
        }
        Path parent = given.toAbsolutePath().getParent();
        Integer parentMode = parent == null ? null : mode(parent);
        if (parentMode == null || FileType.of(parentMode) != FileType.DIRECTORY) {
            Path shown = given.getParent() == null ? Path.of(".") : given.getParent();
            throw new BackupException("cannot create " + given + ": " + shown
                    + (parentMode == null ? " does not exist" : " is not a directory"));
        }
        requireOutsideDev(given, parent.toRealPath());
        return new File(given, false);
    }

    private static void requireOutsideDev(Path given, Path real) throws BackupException {
        if (real.startsWith(DEV) || given.toAbsolutePath().normalize().startsWith(DEV)) {
            throw new BackupException(given + " is not a block device" + (Files.exists(given) ? "" : " (it does "
                    + "not exist)") + ": under /dev only an existing block device can be restored to");
        }
    }

    /** @return the st_mode of the path, or null if it does not exist */
    private static Integer mode(Path path, LinkOption... options) throws IOException {
        try {
            return (Integer) Files.getAttribute(path, "unix:mode", options);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("Not a directory")) {
                return null;
            }
            throw e;
        }
    }

    /** The file types of st_mode that the messages name. */
    enum FileType {
        REGULAR("a regular file"), DIRECTORY("a directory"), BLOCK_DEVICE("a block device"),
        CHAR_DEVICE("a character device"), FIFO("a FIFO"), SOCKET("a socket"), SYMLINK("a symbolic link");

        final String text;

        FileType(String text) {
            this.text = text;
        }

        static FileType of(int mode) {
            return switch (mode & 0170000) {
                case 0100000 -> REGULAR;
                case 0040000 -> DIRECTORY;
                case 0060000 -> BLOCK_DEVICE;
                case 0020000 -> CHAR_DEVICE;
                case 0010000 -> FIFO;
                case 0140000 -> SOCKET;
                case 0120000 -> SYMLINK;
                default -> throw new IllegalArgumentException("unknown file type in mode " + Integer.toOctalString(mode));
            };
        }
    }
}
