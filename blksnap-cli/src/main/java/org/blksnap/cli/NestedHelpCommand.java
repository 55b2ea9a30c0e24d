package org.blksnap.cli;

import java.util.ArrayList;
import java.util.List;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.IHelpCommandInitializable2;
import picocli.CommandLine.Parameters;

/**
 * {@code blksnap help [COMMAND [SUBCOMMAND...]]}: the help of any command,
 * nested ones included ({@code blksnap help backup create}); picocli's own
 * help command stops at the first level.
 */
@Command(name = "help", helpCommand = true,
        description = "Print the help of a command, e.g. 'blksnap help backup create'.",
        synopsisHeading = "Usage: ", customSynopsis = "blksnap help [COMMAND [SUBCOMMAND...]]")
public final class NestedHelpCommand implements IHelpCommandInitializable2, Runnable {
    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "The command, and the subcommand of it.")
    List<String> names = new ArrayList<>();

    private CommandLine self;
    private Help.ColorScheme colors;
    private java.io.PrintWriter out;

    @Override
    public void init(CommandLine helpCommandLine, Help.ColorScheme colorScheme, java.io.PrintWriter outWriter,
            java.io.PrintWriter errWriter) {
        this.self = helpCommandLine;
        this.colors = colorScheme;
        this.out = outWriter;
    }

    @Override
    public void run() {
        CommandLine target = self.getParent();
        for (String name : names) {
            CommandLine sub = target.getSubcommands().get(name);
            if (sub == null || "help".equals(name)) {
                throw new UsageException("no command '" + String.join(" ", names) + "'"
                        + Suggestions.didYouMean(target, name)
                        + " (see '" + target.getCommandSpec().qualifiedName() + " --help')");
            }
            target = sub;
        }
        target.usage(out, colors);
        out.flush();
    }
}
