package org.blksnap.nbd;

import java.util.List;
import java.util.Objects;

/**
 * What a connection agreed on during negotiation, for its transmission phase.
 *
 * @param name       the export's name
 * @param export     the export
 * @param structured structured replies were negotiated
 * @param contexts   the meta contexts selected for block status, in id order
 */
record Session(String name, Export export, boolean structured, List<SelectedContext> contexts) {
    Session {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(export, "export");
        contexts = List.copyOf(contexts);
    }

    /** Transmission flags for {@code export} with or without structured replies. */
    static int transmissionFlags(boolean structured) {
        int flags = Protocol.TFLAG_HAS_FLAGS | Protocol.TFLAG_READ_ONLY | Protocol.TFLAG_SEND_FLUSH
                | Protocol.TFLAG_CAN_MULTI_CONN;
        return structured ? flags | Protocol.TFLAG_SEND_DF : flags;
    }

    /**
     * A meta context chosen with NBD_OPT_SET_META_CONTEXT.
     *
     * @param id     the id the client was given
     * @param name   its name
     * @param status its map
     */
    record SelectedContext(int id, String name, BlockStatus status) {
        SelectedContext {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(status, "status");
        }
    }
}
