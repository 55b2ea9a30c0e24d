package org.blksnap.backup.repo;

import java.io.IOException;
import java.util.List;

/**
 * Where a repository keeps its bytes: named immutable objects in three
 * namespaces. The engine only talks to this interface, so a store on an
 * object service (S3-compatible) can replace the local directory.
 *
 * <p>Contract: {@link #put} is atomic - a crash leaves either no object of
 * that name or the complete one, never a part - and durable when it returns,
 * except chunks, which may need {@link #flush} to survive a power loss.
 * Readers never see temporary objects.
 */
public interface ChunkStore extends AutoCloseable {

    /** Object namespaces. */
    enum Kind {
        /** Compressed chunk data, named by the SHA-256 of the plain data. */
        CHUNK,
        /** One JSON manifest per backup, named by the backup id. */
        MANIFEST,
        /** The repository's own description. */
        CONFIG
    }

    /** How a process holds the repository. */
    enum LockMode {
        /** Readers: list, restore, verify. Many at once. */
        SHARED,
        /** Writers: create, prune. One, and no reader meanwhile. */
        EXCLUSIVE
    }

    /** @return where the store is, for messages */
    String location();

    /**
     * @return true if the store was initialised as a repository (its config
     *         object exists)
     * @throws IOException if the store cannot be read
     */
    boolean exists() throws IOException;

    /**
     * Creates whatever the store needs to hold objects (directories, bucket).
     *
     * @throws IOException if it cannot
     */
    void create() throws IOException;

    /**
     * Stores an object atomically and durably (see the class comment).
     *
     * @param kind namespace
     * @param name object name
     * @param data content
     * @param length bytes of {@code data} to store
     * @throws IOException if it cannot be made durable
     */
    void put(Kind kind, String name, byte[] data, int length) throws IOException;

    /**
     * Makes every chunk put so far durable. Called before a manifest that
     * names them is put.
     *
     * @throws IOException if it cannot
     */
    void flush() throws IOException;

    /**
     * @param kind namespace
     * @param name object name
     * @return the content
     * @throws java.nio.file.NoSuchFileException if there is no such object
     * @throws IOException if it cannot be read
     */
    byte[] get(Kind kind, String name) throws IOException;

    /**
     * @param kind namespace
     * @param name object name
     * @return true if the object exists
     * @throws IOException if the store cannot be asked
     */
    boolean has(Kind kind, String name) throws IOException;

    /**
     * @param kind namespace
     * @param name object name
     * @return its size in bytes, or -1 if there is no such object
     * @throws IOException if the store cannot be asked
     */
    long size(Kind kind, String name) throws IOException;

    /**
     * @param kind namespace
     * @return the names of all objects of that kind, in no particular order
     * @throws IOException if the store cannot be listed
     */
    List<String> list(Kind kind) throws IOException;

    /**
     * Removes an object durably; removing a missing object is not an error.
     *
     * @param kind namespace
     * @param name object name
     * @throws IOException if it cannot be removed
     */
    void delete(Kind kind, String name) throws IOException;

    /**
     * Takes the repository lock without waiting.
     *
     * @param mode shared or exclusive
     * @return the held lock; close it to release
     * @throws RepositoryException if another process holds it incompatibly
     * @throws IOException if the lock cannot be taken for another reason
     */
    Lock lock(LockMode mode) throws IOException;

    /** A held repository lock. */
    interface Lock extends AutoCloseable {
        /** Releases it. */
        @Override
        void close() throws IOException;
    }

    /**
     * Removes what interrupted writers left behind (temporary objects).
     * Called by writers under the exclusive lock.
     *
     * @return how many leftovers were removed
     * @throws IOException if they cannot be removed
     */
    int removeLeftovers() throws IOException;

    @Override
    void close() throws IOException;
}
