package org.blksnap.backup.repo;

/** A chunk a backup refers to is missing or does not hold what its id says. */
public final class ChunkException extends RepositoryException {
    private static final long serialVersionUID = 1L;

    private final transient ChunkId chunkId;

    /**
     * @param chunkId the chunk
     * @param message one line for the user, naming the chunk
     */
    public ChunkException(ChunkId chunkId, String message) {
        super(message);
        this.chunkId = chunkId;
    }

    /** @return the chunk's id */
    public ChunkId chunkId() {
        return chunkId;
    }
}
