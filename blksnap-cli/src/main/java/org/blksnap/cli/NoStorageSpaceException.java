package org.blksnap.cli;

import java.io.IOException;

/** No filesystem has room for the difference storage blksnap would make (exit status {@link ExitCodes#NO_SPACE}). */
public final class NoStorageSpaceException extends IOException {
    private static final long serialVersionUID = 1L;

    public NoStorageSpaceException(String message) {
        super(message);
    }
}
