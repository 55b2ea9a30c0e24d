package org.blksnap.cli.commands;

import java.io.ByteArrayOutputStream;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import org.blksnap.backup.repo.RepositoryException;
import org.blksnap.backup.repo.Secret;

/**
 * Where the command gets a repository's password or key file: a key file
 * if given, else the file named by an environment variable, else a command's
 * output, else a prompt on the terminal. Never from the command line itself:
 * argv is visible to every user in /proc.
 */
final class Secrets {
    /** The environment variable naming the file that holds the password. */
    static final String PASSWORD_FILE_ENV = "BLKSNAP_PASSWORD_FILE";
    /** The same, for the new password of {@code key add/passwd}. */
    static final String NEW_PASSWORD_FILE_ENV = "BLKSNAP_NEW_PASSWORD_FILE";

    private static final long COMMAND_TIMEOUT_SECONDS = 60;

    private Secrets() {
    }

    /**
     * @param keyFile  a key file, or null
     * @param envVar   the environment variable naming a password file
     * @param command  a command printing the password, or null
     * @param prompt   what the terminal prompt says
     * @param confirm  true to ask twice on a terminal (a new password)
     * @return the secret, read when first asked
     */
    static Secret.Source source(Path keyFile, String envVar, String command, String prompt, boolean confirm) {
        return source(keyFile, null, envVar, command, prompt, confirm);
    }

    /**
     * @param keyFile      a key file, or null
     * @param passwordFile a file whose first line is the password (a job's), or null
     * @param envVar       the environment variable naming a password file
     * @param command      a command printing the password, or null
     * @param prompt       what the terminal prompt says
     * @param confirm      true to ask twice on a terminal (a new password)
     * @return the secret, read when first asked
     */
    static Secret.Source source(Path keyFile, Path passwordFile, String envVar, String command, String prompt,
            boolean confirm) {
        return () -> {
            if (keyFile != null) {
                return new Secret.KeyFile(Files.readAllBytes(keyFile));
            }
            if (passwordFile != null) {
                return password(firstLine(Files.readAllBytes(passwordFile)), "--password-file " + passwordFile);
            }
            String file = System.getenv(envVar);
            if (file != null && !file.isEmpty()) {
                return password(firstLine(Files.readAllBytes(Path.of(file))), envVar + "=" + file);
            }
            if (command != null) {
                return password(firstLine(run(command)), "--password-command");
            }
            Console c = System.console();
            if (c == null || !c.isTerminal()) {
                throw new RepositoryException("no password: set " + envVar + ", give --password-command or "
                        + "--key-file, or run on a terminal");
            }
            char[] pw = c.readPassword("%s: ", prompt);
            if (pw == null || pw.length == 0) {
                throw new RepositoryException("no password given");
            }
            if (confirm) {
                char[] again = c.readPassword("%s (again): ", prompt);
                if (again == null || !Arrays.equals(pw, again)) {
                    throw new RepositoryException("the passwords differ");
                }
            }
            return new Secret.Password(pw);
        };
    }

    private static Secret password(char[] pw, String from) throws RepositoryException {
        if (pw.length == 0) {
            throw new RepositoryException("the password from " + from + " is empty");
        }
        return new Secret.Password(pw);
    }

    /** The first line, without its end: a password file usually ends with a newline. */
    private static char[] firstLine(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != '\n' && b[n] != '\r') {
            n++;
        }
        var cb = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(b, 0, n));
        char[] out = new char[cb.remaining()];
        cb.get(out);
        Arrays.fill(b, (byte) 0);
        return out;
    }

    private static byte[] run(String command) throws IOException {
        Process p = new ProcessBuilder("/bin/sh", "-c", command)
                .redirectInput(ProcessBuilder.Redirect.INHERIT)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        try {
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new RepositoryException("--password-command did not finish within " + COMMAND_TIMEOUT_SECONDS
                        + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new RepositoryException("interrupted while --password-command ran");
        }
        if (p.exitValue() != 0) {
            throw new RepositoryException("--password-command failed (exit status " + p.exitValue() + ")");
        }
        return out.toByteArray();
    }
}
