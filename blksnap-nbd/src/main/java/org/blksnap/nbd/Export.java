package org.blksnap.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/**
 * A read-only image the server offers under a name: a live snapshot image, a
 * file, later a backup read from its repository. Implementations must allow
 * calls from several threads at once: connections are served in parallel, and
 * so are the requests in flight on one connection.
 */
public interface Export {

    /** @return the size in bytes; fixed for the life of the export */
    long size();

    /**
     * Fills {@code dst} from its position to its limit with the bytes at
     * {@code offset}. The server only asks for ranges inside {@link #size()}.
     *
     * @param offset byte offset in the export
     * @param dst    buffer to fill completely
     * @throws ExportException with the error for the client (EIO when the
     *                         image broke)
     * @throws IOException     any other failure, sent to the client as EIO
     */
    void read(long offset, ByteBuffer dst) throws IOException;

    /**
     * Called for NBD_CMD_FLUSH; a read-only export has nothing to make durable.
     *
     * @throws IOException failure, sent to the client as EIO
     */
    default void flush() throws IOException {
    }

    /** @return one line shown to clients that ask (NBD_INFO_DESCRIPTION); empty for none */
    default String description() {
        return "";
    }

    /**
     * The {@code base:allocation} context. The default says every byte is
     * data, which the protocol allows for any export.
     *
     * @return the allocation map
     */
    default BlockStatus allocation() {
        return BlockStatus.uniform(size(), 0);
    }

    /**
     * Resolves a meta context other than {@code base:allocation} by its full
     * name.
     *
     * @param name e.g. {@code blksnap:changed:3}
     * @return the context, or empty when this export does not have it
     */
    default Optional<BlockStatus> metaContext(String name) {
        return Optional.empty();
    }

    /**
     * @return the names, other than {@code base:allocation}, that a client
     *         listing every context is told about
     */
    default List<String> metaContextNames() {
        return List.of();
    }
}
