package org.blksnap.backup.hooks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Finds the hooks of a directory and runs one of them for a phase: with the
 * phase as its only argument, the given environment added to blksnap's own,
 * no standard input, each line of its output (stdout and stderr together)
 * passed to the log as it comes, and killed with its children at the
 * timeout.
 */
public final class HookRunner {
    /** run-parts' rule: names of letters, digits, '_', '-' and '.'; editors' and dpkg's leftovers are not hooks. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");
    private static final List<String> LEFTOVERS = List.of("~", ".dpkg-old", ".dpkg-new", ".dpkg-dist",
            ".dpkg-tmp", ".disabled", ".sample", ".example");
    /**
     * How long the log waits for a finished hook's output to end. A hook that
     * starts a holder in the background (a database session kept open until
     * post-thaw) may leave it on the same output; the hook's own lines are
     * all there once it exited, so this only bounds a wait for the holder's.
     */
    private static final Duration OUTPUT_GRACE = Duration.ofSeconds(2);

    private final HookSettings settings;
    private final Consumer<String> log;

    /**
     * @param settings the directory, timeout and policy
     * @param log      receives one line at a time
     */
    public HookRunner(HookSettings settings, Consumer<String> log) {
        this.settings = settings;
        this.log = log;
    }

    /** @return the settings */
    public HookSettings settings() {
        return settings;
    }

    /**
     * @return the hooks to run, in name order (byte order of the names, as
     *         run-parts); empty if the directory is the default and missing
     * @throws HookException if a given directory is missing or unreadable
     */
    public List<Path> hooks() throws HookException {
        Path dir = settings.dir();
        if (!Files.isDirectory(dir)) {
            if (!settings.required() && !Files.exists(dir)) {
                return List.of();
            }
            throw new HookException("hooks directory " + dir + (Files.exists(dir) ? " is not a directory"
                    : ": no such directory"));
        }
        List<Path> out = new ArrayList<>();
        try (var entries = Files.list(dir)) {
            for (Path p : entries.sorted().toList()) {
                String name = p.getFileName().toString();
                if (!NAME.matcher(name).matches() || LEFTOVERS.stream().anyMatch(name::endsWith)
                        || !Files.isRegularFile(p)) {
                    continue;
                }
                if (!Files.isExecutable(p)) {
                    log.accept("hook " + name + ": not executable, skipped (chmod +x to run it)");
                    continue;
                }
                out.add(p);
            }
        } catch (IOException e) {
            throw new HookException("cannot read hooks directory " + dir + ": " + e.getMessage());
        }
        return out;
    }

    /**
     * Runs one hook to its end or its timeout.
     *
     * @param hook  the executable
     * @param phase the phase
     * @param env   variables added to the hook's environment
     * @return how it ended; never throws for a failing hook
     */
    public HookOutcome run(Path hook, HookPhase phase, Map<String, String> env) {
        String name = hook.getFileName().toString();
        long start = System.nanoTime();
        String unsafe = unsafe(hook);
        if (unsafe != null) {
            return new HookOutcome(name, phase, HookOutcome.Status.REFUSED, -1, Duration.ZERO, unsafe);
        }
        ProcessBuilder pb = new ProcessBuilder(hook.toString(), phase.word())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new HookOutcome(name, phase, HookOutcome.Status.REFUSED, -1, since(start),
                    "cannot start it: " + e.getMessage());
        }
        String prefix = "hook " + name + " " + phase.word() + ": ";
        Thread reader = Thread.ofVirtual().name("hook-output-" + name).start(() -> copyLines(p, prefix));
        try {
            if (!p.waitFor(settings.timeout().toNanos(), TimeUnit.NANOSECONDS)) {
                kill(p);
                return new HookOutcome(name, phase, HookOutcome.Status.TIMED_OUT, -1, since(start),
                        "still running after " + settings.timeout().toSeconds() + " s");
            }
            reader.join(OUTPUT_GRACE);
        } catch (InterruptedException e) {
            kill(p);
            Thread.currentThread().interrupt();
            return new HookOutcome(name, phase, HookOutcome.Status.FAILED, -1, since(start), "interrupted");
        }
        int status = p.exitValue();
        return new HookOutcome(name, phase, status == 0 ? HookOutcome.Status.OK : HookOutcome.Status.FAILED, status,
                since(start), "");
    }

    private void copyLines(Process p, String prefix) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null;) {
                log.accept(prefix + line);
            }
        } catch (IOException e) {
            // The hook's output was closed under us (it was killed): nothing more to log.
        }
    }

    /** Kills the hook and everything it started, children first, and waits for the hook to be gone. */
    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Hooks run as root: one that others may rewrite is a way in.
     *
     * @return why the hook is not run, or null
     */
    private static String unsafe(Path hook) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(hook);
            if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                return "writable by group or others: chmod go-w " + hook;
            }
        } catch (IOException | UnsupportedOperationException e) {
            return "cannot read its permissions: " + e.getMessage();
        }
        return null;
    }

    private static Duration since(long start) {
        return Duration.ofNanos(System.nanoTime() - start);
    }
}
