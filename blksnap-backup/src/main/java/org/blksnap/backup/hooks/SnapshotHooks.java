package org.blksnap.backup.hooks;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.blksnap.api.SnapshotId;
import org.blksnap.api.TakeHooks;

/**
 * The hooks of a directory around one take: every hook's pre-freeze in name
 * order, then the take, then post-thaw for every hook whose pre-freeze ran,
 * in reverse order (the last one to hold the application lets it go
 * first), also when a pre-freeze hook or the take failed.
 *
 * <p>Each hook gets $BLKSNAP_HOOK_PHASE, $BLKSNAP_DEVICES (the devices,
 * separated by spaces), $BLKSNAP_SNAPSHOT_ID, $BLKSNAP_HOOK_TIMEOUT (seconds)
 * and, in post-thaw, $BLKSNAP_TAKEN (yes or no), plus the caller's extra
 * variables (the repository, the job).
 */
public final class SnapshotHooks implements TakeHooks {
    private final HookRunner runner;
    private final List<Path> devices;
    private final Map<String, String> extraEnv;
    private final Consumer<String> log;
    private final List<Path> hooks;
    private final List<Path> frozen = new ArrayList<>();
    private final List<HookOutcome> outcomes = new ArrayList<>();

    /**
     * Lists the hooks now, so that a missing directory fails before a
     * snapshot is made.
     *
     * @param runner   runs one hook
     * @param devices  the devices of the snapshot
     * @param extraEnv more variables for every hook
     * @param log      receives one line per event
     * @throws HookException if the hooks directory was given and cannot be read
     */
    public SnapshotHooks(HookRunner runner, List<Path> devices, Map<String, String> extraEnv, Consumer<String> log)
            throws HookException {
        this.runner = runner;
        this.devices = List.copyOf(devices);
        this.extraEnv = Map.copyOf(extraEnv);
        this.log = log;
        this.hooks = runner.hooks();
    }

    /** @return the hooks that will run, in order */
    public List<Path> hooks() {
        return hooks;
    }

    /** @return how each hook ran so far, in the order they ran */
    public synchronized List<HookOutcome> outcomes() {
        return List.copyOf(outcomes);
    }

    /** @return true if a post-thaw hook failed: the application may still be held */
    public synchronized boolean postThawFailed() {
        return outcomes.stream().anyMatch(o -> o.phase() == HookPhase.POST_THAW && o.failed());
    }

    @Override
    public void beforeTake(SnapshotId id) throws HookException {
        for (Path h : hooks) {
            synchronized (this) {
                frozen.add(h);
            }
            HookOutcome o = record(runner.run(h, HookPhase.PRE_FREEZE, env(HookPhase.PRE_FREEZE, id, null)));
            if (o.failed()) {
                if (runner.settings().onFailure() == HookFailurePolicy.ABORT) {
                    throw new HookException(o.describe() + ": nothing was backed up");
                }
                log.accept(o.describe() + "; going on without it (hooks failure policy: ignore)");
            }
        }
    }

    @Override
    public void afterTake(SnapshotId id, boolean taken) {
        List<Path> undo;
        synchronized (this) {
            undo = new ArrayList<>(frozen.reversed());
            frozen.clear();
        }
        for (Path h : undo) {
            HookOutcome o = record(runner.run(h, HookPhase.POST_THAW, env(HookPhase.POST_THAW, id, taken)));
            if (o.failed()) {
                log.accept(o.describe() + ": the application it holds may still be held");
            }
        }
    }

    private synchronized HookOutcome record(HookOutcome o) {
        outcomes.add(o);
        if (!o.failed()) {
            log.accept(o.describe());
        }
        return o;
    }

    private Map<String, String> env(HookPhase phase, SnapshotId id, Boolean taken) {
        Map<String, String> env = new LinkedHashMap<>(extraEnv);
        env.put("BLKSNAP_HOOK_PHASE", phase.word());
        env.put("BLKSNAP_DEVICES", String.join(" ", devices.stream().map(Path::toString).toList()));
        env.put("BLKSNAP_SNAPSHOT_ID", id.toString());
        env.put("BLKSNAP_HOOK_TIMEOUT", Long.toString(runner.settings().timeout().toSeconds()));
        if (taken != null) {
            env.put("BLKSNAP_TAKEN", taken ? "yes" : "no");
        }
        return env;
    }
}
