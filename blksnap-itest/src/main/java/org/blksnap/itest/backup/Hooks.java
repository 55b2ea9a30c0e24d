package org.blksnap.itest.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Hook directories for the tests: the shipped examples and hooks written on the spot. */
final class Hooks {
    private Hooks() {
    }

    /** @return the shipped example hook {@code name}, from this tree's examples/hooks.d */
    static Path example(String name) {
        return Path.of(System.getProperty("blksnap.root", System.getProperty("user.dir")), "examples", "hooks.d",
                name);
    }

    /** Copies a shipped example into {@code dir}, as an administrator installs it. */
    static Path install(Path dir, String name) throws IOException {
        Path to = dir.resolve(name);
        Files.copy(example(name), to, StandardCopyOption.COPY_ATTRIBUTES);
        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwxr-xr-x"));
        return to;
    }

    /** Writes an executable /bin/sh hook, owner-writable only. */
    static Path script(Path dir, String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\nset -eu\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }
}
