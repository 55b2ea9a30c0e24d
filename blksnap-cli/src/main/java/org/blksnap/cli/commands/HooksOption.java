package org.blksnap.cli.commands;

import java.nio.file.Path;
import java.time.Duration;

import org.blksnap.backup.hooks.HookFailurePolicy;
import org.blksnap.backup.hooks.HookSettings;
import org.blksnap.cli.Converters;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/** {@code --hooks-dir}, {@code --hooks-timeout} and {@code --hooks-failure} of 'backup create'. */
public final class HooksOption {
    @Option(names = "--hooks-dir", paramLabel = "DIR",
            description = "Executables run in name order with the argument pre-freeze right before the take and, "
                    + "in reverse order, post-thaw right after it, also when the take or a pre-freeze hook failed: "
                    + "to bring an application to a consistent state on disk and hold it for the take. Their "
                    + "environment has BLKSNAP_HOOK_PHASE, BLKSNAP_DEVICES, BLKSNAP_SNAPSHOT_ID, BLKSNAP_REPO and "
                    + "(post-thaw) BLKSNAP_TAKEN; each line they print is logged. Default: "
                    + "/etc/blksnap/hooks.d, if it exists.")
    Path dir;

    @Option(names = "--hooks-timeout", paramLabel = "DURATION", converter = Converters.Wait.class,
            description = "How long one hook may run before it and its children are killed (default: 60s); a "
                    + "pre-freeze hook that times out has failed.")
    Duration timeout;

    @Option(names = "--hooks-failure", paramLabel = "abort|ignore", converter = Policy.class,
            description = "What a failing pre-freeze hook does: abort (default: the snapshot is destroyed untaken, "
                    + "nothing is stored, exit status 9) or ignore (said, and the backup goes on "
                    + "crash-consistent).")
    HookFailurePolicy failure;

    /** @return the settings these options give */
    HookSettings settings() {
        HookSettings d = HookSettings.defaults();
        return new HookSettings(dir != null ? dir : d.dir(), timeout != null ? timeout : d.timeout(),
                failure != null ? failure : d.onFailure(), dir != null);
    }

    /** The --hooks-failure words. */
    static final class Policy implements ITypeConverter<HookFailurePolicy> {
        @Override
        public HookFailurePolicy convert(String value) {
            return HookFailurePolicy.of(value);
        }
    }
}
