package org.blksnap.backup.repo;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * Where a repository keeps its bytes: named immutable objects in a few
 * namespaces. The engine only talks to this interface, so a store on an
 * object service (S3-compatible) can replace the local directory: objects
 * are written once under their final name and never modified or renamed
 * afterwards; the only operations are create, read (whole or a byte range),
 * list and delete. One exception: the key object of an encrypted repository
 * ({@link KeyRing#OBJECT}, kind {@link Kind#CONFIG}) is replaced whole by
 * {@link #put} when a key is added, changed or removed, under the exclusive
 * lock.
 *
 * <p>Contract: an object is either absent or complete, never a part.
 * {@link #put} is durable when it returns. An object streamed through
 * {@link #writer} becomes visible at {@link ObjectWriter#publish} and durable
 * at the next {@link #flush}; the repository flushes before it writes the
 * small objects (index, manifest, summary) that make such objects reachable.
 */
public interface ChunkStore extends AutoCloseable {

    /** Object namespaces. */
    enum Kind {
        /** The repository's own description. */
        CONFIG,
        /** Pack files: compressed chunks back to back, tens of MiB each. */
        PACK,
        /** Index objects: where each chunk is, in which pack. */
        INDEX,
        /** One binary manifest per backup: every chunk id of every device. */
        MANIFEST,
        /** One small JSON summary per backup; its presence makes the backup visible. */
        SUMMARY
    }

    /** How a process holds the repository. */
    enum LockMode {
        /** Readers and create: many at once. Nothing is deleted meanwhile. */
        SHARED,
        /** Prune, forget, repair: alone, because they delete objects. */
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
     * Stores a small object atomically and durably.
     *
     * @param kind namespace
     * @param name object name
     * @param data content
     * @param length bytes of {@code data} to store
     * @throws IOException if it cannot be made durable
     */
    void put(Kind kind, String name, byte[] data, int length) throws IOException;

    /**
     * Starts a large object that is written in pieces (a pack).
     *
     * @param kind namespace
     * @param name object name
     * @return the writer; nothing is visible until it is published
     * @throws IOException if it cannot be started
     */
    ObjectWriter writer(Kind kind, String name) throws IOException;

    /** A large object being written; closing it unpublished abandons it. */
    interface ObjectWriter extends AutoCloseable {
        /**
         * @param b   bytes
         * @param off where they start
         * @param len how many
         * @throws IOException if they cannot be written
         */
        void write(byte[] b, int off, int len) throws IOException;

        /** @return bytes written so far */
        long size();

        /**
         * Makes the object visible under its name (durable at the next {@link ChunkStore#flush}).
         *
         * @throws IOException if it cannot
         */
        void publish() throws IOException;

        @Override
        void close() throws IOException;
    }

    /**
     * Makes every object published by a writer durable.
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
     * Reads a byte range of an object.
     *
     * @param kind   namespace
     * @param name   object name
     * @param offset first byte
     * @param dst    where the bytes go
     * @param at     offset in {@code dst}
     * @param length bytes to read
     * @throws java.nio.file.NoSuchFileException if there is no such object
     * @throws java.io.EOFException if the object is shorter
     * @throws IOException if it cannot be read
     */
    void read(Kind kind, String name, long offset, byte[] dst, int at, int length) throws IOException;

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
     * @param kind namespace
     * @return every object of that kind and its size in bytes; a store that lists sizes with names (S3)
     *         answers with its listing, without a request per object
     * @throws IOException if the store cannot be listed
     */
    default java.util.Map<String, Long> sizes(Kind kind) throws IOException {
        java.util.Map<String, Long> out = new java.util.HashMap<>();
        for (String name : list(kind)) {
            long n = size(kind, name);
            if (n >= 0) {
                out.put(name, n);
            }
        }
        return out;
    }

    /**
     * Removes an object durably; removing a missing object is not an error.
     *
     * @param kind namespace
     * @param name object name
     * @throws IOException if it cannot be removed
     */
    void delete(Kind kind, String name) throws IOException;

    /**
     * Takes the repository lock, waiting for it up to {@code wait}.
     *
     * @param mode shared or exclusive
     * @param wait how long to wait for a holder to finish; zero fails at once
     * @return the held lock; close it to release
     * @throws RepositoryBusyException if another process holds it incompatibly for longer
     * @throws IOException if the lock cannot be taken for another reason
     */
    Lock lock(LockMode mode, Duration wait) throws IOException;

    /** A held repository lock. */
    interface Lock extends AutoCloseable {
        /** Releases it. */
        @Override
        void close() throws IOException;
    }

    /**
     * Removes what interrupted writers left behind (temporary objects).
     * Called under the exclusive lock only: a create running meanwhile
     * under the shared lock owns its own temporary objects.
     *
     * @return how many leftovers were removed
     * @throws IOException if they cannot be removed
     */
    int removeLeftovers() throws IOException;

    @Override
    void close() throws IOException;
}
