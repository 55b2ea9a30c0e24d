package org.blksnap.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** Entry point of the blksnap command. */
public final class Main {
    private Main() {
    }

    /** @param args command line */
    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /**
     * Runs the command with the given streams, for tests and embedding.
     *
     * @param args command line
     * @param out  standard output
     * @param err  standard error
     * @return the exit status
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return configure(CommandTree.forArgs(args), out, err).execute(args);
    }

    /**
     * @param out standard output
     * @param err standard error
     * @return the configured picocli model, also used to generate the man
     *         page and the bash completion
     */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        return configure(CommandTree.ROOT, out, err);
    }

    private static CommandLine configure(CommandTree tree, PrintWriter out, PrintWriter err) {
        Errors errors = new Errors();
        // Set after the subcommands are added: picocli copies these settings down to them.
        CommandLine cl = tree.toCommandLine()
                .setOut(out)
                .setErr(err)
                .setExecutionExceptionHandler(errors)
                .setParameterExceptionHandler(errors)
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setUsageHelpAutoWidth(true);
        addExitStatus(cl.getCommandSpec(), ExitCodes.footer());
        return cl;
    }

    private static void addExitStatus(CommandSpec spec, List<String> text) {
        List<String> footer = new ArrayList<>(Arrays.asList(spec.usageMessage().footer()));
        footer.addAll(text);
        spec.usageMessage().footer(footer.toArray(String[]::new));
        for (CommandLine sub : spec.subcommands().values()) {
            if (!"help".equals(sub.getCommandName())) {
                addExitStatus(sub.getCommandSpec(), ExitCodes.SUBCOMMAND_FOOTER);
            }
        }
    }
}
