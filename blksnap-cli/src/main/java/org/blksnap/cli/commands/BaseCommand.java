package org.blksnap.cli.commands;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.progress.ConsoleProgress;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every subcommand shares: its streams. */
abstract class BaseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** Prints an informational line to stderr, prefixed like errors. */
    void note(String text) {
        err().println(spec.qualifiedName() + ": " + text);
        err().flush();
    }

    /**
     * @param unit  "bytes" or "chunks"
     * @param quiet --quiet was given
     * @return progress bars or lines on stderr, or nothing
     */
    ProgressListener progress(String unit, boolean quiet) {
        return quiet ? ProgressListener.NONE : ConsoleProgress.create(unit, spec.qualifiedName() + ": ", err());
    }

    boolean verbose() {
        for (CommandSpec s = spec; s != null; s = s.parent()) {
            if (s.findOption("--verbose") != null && Boolean.TRUE.equals(s.findOption("--verbose").getValue())) {
                return true;
            }
        }
        return false;
    }
}
