package org.blksnap.itest.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The log of a server or load process a test started, for its failure messages. */
public final class Logs {
    private Logs() {
    }

    /**
     * The whole file, or a line naming why it could not be read: a failure
     * message must never throw in its turn and hide the assertion.
     */
    public static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "(" + p + ": " + e.getMessage() + ")";
        }
    }
}
