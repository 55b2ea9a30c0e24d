package org.blksnap.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.blksnap.cli.commands.AttachCommand;
import org.blksnap.cli.commands.BackupCheckCommand;
import org.blksnap.cli.commands.BackupMountCommand;
import org.blksnap.cli.commands.BackupRunCommand;
import org.blksnap.cli.commands.BackupServeCommand;
import org.blksnap.cli.commands.BackupUmountCommand;
import org.blksnap.cli.commands.BackupCommand;
import org.blksnap.cli.commands.BackupCreateCommand;
import org.blksnap.cli.commands.BackupForgetCommand;
import org.blksnap.cli.commands.BackupMigrateCommand;
import org.blksnap.cli.commands.BackupListCommand;
import org.blksnap.cli.commands.BackupPruneCommand;
import org.blksnap.cli.commands.BackupRestoreCommand;
import org.blksnap.cli.commands.BackupVerifyCommand;
import org.blksnap.cli.commands.CbtInfoCommand;
import org.blksnap.cli.commands.DetachCommand;
import org.blksnap.cli.commands.KeyCommand;
import org.blksnap.cli.commands.MarkDirtyBlockCommand;
import org.blksnap.cli.commands.ReadCbtMapCommand;
import org.blksnap.cli.commands.ServeCommand;
import org.blksnap.cli.commands.SnapshotAddCommand;
import org.blksnap.cli.commands.SnapshotCollectCommand;
import org.blksnap.cli.commands.SnapshotCommand;
import org.blksnap.cli.commands.SnapshotCreateCommand;
import org.blksnap.cli.commands.SnapshotDestroyCommand;
import org.blksnap.cli.commands.SnapshotInfoCommand;
import org.blksnap.cli.commands.SnapshotTakeCommand;
import org.blksnap.cli.commands.SnapshotWaitEventCommand;
import org.blksnap.cli.commands.SnapshotWatcherCommand;
import org.blksnap.cli.commands.StatusCommand;
import org.blksnap.cli.commands.VersionCommand;

import picocli.CommandLine;

/**
 * The top two levels of the command tree, in help order: {@code blksnap}
 * and {@code blksnap backup} name no subcommands in their annotations, this
 * does. The small groups below them ({@code snapshot cleanup},
 * {@code backup key ...}) keep theirs and come whole with their command.
 *
 * <p>picocli reflects over every class of the tree it is given before it
 * parses anything: about half of a short command's start-up. A command line
 * that names one command all the way down to a leaf ({@code backup list})
 * gets only that branch; anything that may need the other names (help,
 * version, a word that is no command, a group without its subcommand) gets
 * the whole tree, so what the user sees never depends on the pruning.
 *
 * @param name     the command's name, as its annotation says
 * @param type     its class
 * @param children its subcommands, in help order
 */
record CommandTree(String name, Class<?> type, List<CommandTree> children) {
    /** The whole tree. */
    static final CommandTree ROOT = group("blksnap", BlkSnapCommand.class,
            leaf("help", NestedHelpCommand.class),
            leaf("version", VersionCommand.class),
            leaf("status", StatusCommand.class),
            leaf("snapshot", SnapshotCommand.class),
            group("backup", BackupCommand.class,
                    leaf("help", NestedHelpCommand.class),
                    leaf("create", BackupCreateCommand.class),
                    leaf("list", BackupListCommand.class),
                    leaf("restore", BackupRestoreCommand.class),
                    leaf("serve", BackupServeCommand.class),
                    leaf("mount", BackupMountCommand.class),
                    leaf("umount", BackupUmountCommand.class),
                    leaf("verify", BackupVerifyCommand.class),
                    leaf("prune", BackupPruneCommand.class),
                    leaf("forget", BackupForgetCommand.class),
                    leaf("check", BackupCheckCommand.class),
                    leaf("migrate", BackupMigrateCommand.class),
                    leaf("key", KeyCommand.class),
                    leaf("run", BackupRunCommand.class)),
            leaf("serve", ServeCommand.class),
            leaf("attach", AttachCommand.class),
            leaf("detach", DetachCommand.class),
            leaf("cbtinfo", CbtInfoCommand.class),
            leaf("readcbtmap", ReadCbtMapCommand.class),
            leaf("markdirtyblock", MarkDirtyBlockCommand.class),
            leaf("snapshot_create", SnapshotCreateCommand.class),
            leaf("snapshot_add", SnapshotAddCommand.class),
            leaf("snapshot_take", SnapshotTakeCommand.class),
            leaf("snapshot_info", SnapshotInfoCommand.class),
            leaf("snapshot_waitevent", SnapshotWaitEventCommand.class),
            leaf("snapshot_watcher", SnapshotWatcherCommand.class),
            leaf("snapshot_collect", SnapshotCollectCommand.class),
            leaf("snapshot_destroy", SnapshotDestroyCommand.class));

    /** Words after which picocli may print any command's name. */
    private static final Set<String> NEEDS_ALL = Set.of("help", "-h", "--help", "-V", "--version");

    CommandTree {
        children = List.copyOf(children);
    }

    private static CommandTree group(String name, Class<?> type, CommandTree... children) {
        return new CommandTree(name, type, List.of(children));
    }

    private static CommandTree leaf(String name, Class<?> type) {
        return new CommandTree(name, type, List.of());
    }

    private CommandTree child(String word) {
        for (CommandTree c : children) {
            if (c.name.equals(word)) {
                return c;
            }
        }
        return null;
    }

    /**
     * @param args a command line
     * @return the branch it names, or the whole tree when it needs more
     */
    static CommandTree forArgs(String[] args) {
        List<CommandTree> path = new ArrayList<>();
        CommandTree at = ROOT;
        for (String a : args) {
            if (NEEDS_ALL.contains(a)) {
                return ROOT;
            }
            if ("--".equals(a)) {
                break;
            }
            if (a.startsWith("-")) {
                continue;
            }
            if (at.children.isEmpty()) {
                break; // a leaf's own parameters, or its own subcommands
            }
            CommandTree next = at.child(a);
            if (next == null) {
                return ROOT; // not a command: picocli suggests the close names
            }
            path.add(next);
            at = next;
        }
        if (path.isEmpty() || !at.children.isEmpty()) {
            return ROOT;
        }
        CommandTree branch = at;
        for (int i = path.size() - 2; i >= 0; i--) {
            branch = new CommandTree(path.get(i).name, path.get(i).type, List.of(branch));
        }
        return new CommandTree(ROOT.name, ROOT.type, List.of(branch));
    }

    /** @return a picocli model of this tree */
    CommandLine toCommandLine() {
        CommandLine cl = new CommandLine(type);
        addChildren(cl);
        return cl;
    }

    private void addChildren(CommandLine cl) {
        for (CommandTree c : children) {
            CommandLine sub = new CommandLine(c.type);
            c.addChildren(sub);
            cl.addSubcommand(c.name, sub);
        }
    }
}
