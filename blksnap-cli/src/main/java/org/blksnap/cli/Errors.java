package org.blksnap.cli;

import java.io.PrintWriter;
import java.util.List;

import org.blksnap.api.BlkSnapException;
import org.blksnap.api.DeviceBusyException;
import org.blksnap.api.FilterAlreadyAttachedException;
import org.blksnap.api.FilterNotAttachedException;
import org.blksnap.api.ModuleNotLoadedException;
import org.blksnap.api.NotBlockDeviceException;
import org.blksnap.api.PermissionDeniedException;
import org.blksnap.api.SnapshotNotFoundException;
import org.blksnap.api.SnapshotStateException;

import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/** One line on stderr per failure; the stack trace only with --verbose. */
public final class Errors implements IExecutionExceptionHandler, IParameterExceptionHandler {

    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, ParseResult parseResult) {
        if (e instanceof ParameterException p) {
            // A command's own check of its arguments: a bad command line like any other.
            return usage(p, json(parseResult));
        }
        PrintWriter err = cmd.getErr();
        int status = exitCode(e);
        err.println(prefix(cmd) + message(e));
        if (verbose(parseResult)) {
            e.printStackTrace(err);
        }
        err.flush();
        if (json(parseResult)) {
            cmd.getOut().println(Output.error(cmd.getCommandSpec().qualifiedName(), message(e), status,
                    e instanceof BlkSnapException b && b.errno() != 0 ? b.errnoName() : null));
            cmd.getOut().flush();
        }
        return status;
    }

    @Override
    public int handleParseException(ParameterException e, String[] args) {
        return usage(e, json(args));
    }

    private static int usage(ParameterException e, boolean json) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        String text = e.getMessage();
        if (e instanceof UnmatchedArgumentException u) {
            List<String> unmatched = u.getUnmatched();
            if (!cmd.getSubcommands().isEmpty() && !unmatched.isEmpty() && !unmatched.getFirst().startsWith("-")) {
                text = "unknown command '" + unmatched.getFirst() + "'";
            }
            text += Suggestions.didYouMean(u);
        }
        text += " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')";
        err.println(prefix(cmd) + text);
        err.flush();
        if (json) {
            cmd.getOut().println(Output.error(cmd.getCommandSpec().qualifiedName(), text, ExitCodes.USAGE, null));
            cmd.getOut().flush();
        }
        return ExitCodes.USAGE;
    }

    public static int exitCode(Throwable e) {
        return switch (e) {
            case org.blksnap.backup.hooks.HookException x -> ExitCodes.HOOK_FAILED;
            case ModuleNotLoadedException x -> ExitCodes.MODULE_NOT_LOADED;
            case PermissionDeniedException x -> ExitCodes.PERMISSION;
            case NotBlockDeviceException x -> ExitCodes.NOT_FOUND;
            case SnapshotNotFoundException x -> ExitCodes.NOT_FOUND;
            case FilterNotAttachedException x -> ExitCodes.NOT_FOUND;
            case FilterAlreadyAttachedException x -> ExitCodes.BUSY;
            case DeviceBusyException x -> ExitCodes.BUSY;
            case SnapshotStateException x -> ExitCodes.BUSY;
            case org.blksnap.backup.repo.RepositoryBusyException x -> ExitCodes.BUSY;
            case org.blksnap.backup.repo.WrongKeyException x -> ExitCodes.WRONG_KEY;
            case NoStorageSpaceException x -> ExitCodes.NO_SPACE;
            case org.blksnap.cli.commands.MountException.Busy x -> ExitCodes.BUSY;
            case org.blksnap.cli.commands.MountException.NotMounted x -> ExitCodes.NOT_FOUND;
            case UsageException x -> ExitCodes.USAGE;
            case IllegalArgumentException x -> ExitCodes.USAGE;
            default -> ExitCodes.FAILURE;
        };
    }

    public static String message(Throwable e) {
        if (e instanceof BlkSnapException || e instanceof UsageException || e instanceof IllegalArgumentException) {
            return e.getMessage();
        }
        if (e instanceof java.nio.file.NoSuchFileException x) {
            return x.getFile() + ": no such file or directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException x) {
            return x.getFile() + ": permission denied";
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    private static String prefix(CommandLine cmd) {
        return cmd.getCommandSpec().qualifiedName() + ": ";
    }

    private static boolean json(ParseResult pr) {
        for (ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--json")) {
                return true;
            }
        }
        return false;
    }

    /** The parse failed, so the words are all there is; those after "--" belong to another program. */
    private static boolean json(String[] args) {
        for (String a : args) {
            if ("--".equals(a)) {
                return false;
            }
            if ("--json".equals(a) || "-j".equals(a)) {
                return true;
            }
        }
        return false;
    }

    private static boolean verbose(ParseResult pr) {
        for (ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
