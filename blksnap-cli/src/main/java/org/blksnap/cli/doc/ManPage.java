package org.blksnap.cli.doc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.blksnap.cli.ExitCodes;

import picocli.CommandLine;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Renders blksnap(8) in troff from the picocli model, so the man page says
 * exactly what {@code --help} says.
 */
public final class ManPage {
    private ManPage() {
    }

    /**
     * @param root    the configured command line
     * @param version the version for the page footer
     * @return the page in man(7) format
     */
    public static String render(CommandLine root, String version) {
        CommandSpec spec = root.getCommandSpec();
        StringBuilder m = new StringBuilder();
        m.append(".\\\" Generated from the picocli model by ").append(ManPage.class.getName())
                .append("; do not edit.\n");
        m.append(".TH BLKSNAP 8 \"\" \"blksnap ").append(esc(version)).append("\" \"System Administration\"\n");
        m.append(".SH NAME\nblksnap \\- point-in-time snapshots and change-block tracking of block devices\n");
        m.append(".SH SYNOPSIS\n.B blksnap\n[\\fB\\-hvV\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n");
        m.append(".SH DESCRIPTION\n");
        paragraphs(m, spec.usageMessage().description());
        m.append(".SH GLOBAL OPTIONS\n");
        options(m, spec, false);
        m.append(".SH COMMANDS\n");
        for (CommandLine sub : root.getSubcommands().values()) {
            if ("help".equals(sub.getCommandName())) {
                continue;
            }
            command(m, sub.getCommandSpec());
        }
        m.append(".SH EXIT STATUS\n");
        for (ExitCodes.Meaning e : ExitCodes.TABLE) {
            m.append(".TP\n.B ").append(e.code()).append('\n').append(esc(e.text())).append('\n');
        }
        m.append(".PP\nThe pages of the single commands refer here. With \\fB\\-\\-json\\fR, a failure also "
                + "prints one line on standard output:\n.nf\n.RS 4\n")
                .append(esc("{\"error\":{\"command\":\"blksnap backup list\",\"message\":\"...\","
                        + "\"exit_status\":1,\"errno\":null}}"))
                .append("\n.RE\n.fi\n");
        m.append(".SH ENVIRONMENT\n");
        env(m, "BLKSNAP_REPO", "The backup repository of the backup commands when --repo is not given.");
        env(m, "BLKSNAP_JAVA_HOME", "Java runtime (>= 22) the launcher uses instead of searching for one.");
        env(m, "BLKSNAP_JAVA_OPTS", "Extra options for the Java virtual machine.");
        env(m, "BLKSNAP_CDS", "0 turns off both start-up caches of the launcher: the JVM's AOT cache next to "
                + "the jar and the class-data-sharing archive it falls back to; aot keeps the AOT cache (while "
                + "it is valid) and never writes that archive.");
        env(m, "BLKSNAP_CACHE_DIR", "Where the launcher keeps that archive (default ~/.cache/blksnap).");
        m.append(".SH FILES\n.TP\n.I /dev/blksnap-control\nthe module's control device\n");
        m.append(".TP\n.I /usr/lib/blksnap/blksnap.aot\nthe JVM's AOT cache of the command (classes loaded and "
                + "linked ahead of time), written when the package is installed; used only while it matches the "
                + "installed jars and runtime\n");
        m.append(".TP\n.I /dev/blksnap-MAJOR-MINOR\nthe snapshot image of device MAJOR:MINOR\n");
        m.append(".SH SEE ALSO\n");
        for (CommandLine sub : commands(root)) {
            m.append(".BR ").append(esc(pageName(sub.getCommandSpec()))).append(" (8),\n");
        }
        m.append(".BR losetup (8),\n.BR dmsetup (8)\n");
        return m.toString();
    }

    /**
     * Every command below {@code root}, depth first, so that a group's
     * subcommands (e.g. {@code blksnap backup create}) get pages too.
     *
     * @param root the configured command line
     * @return the commands that get a page of their own, without 'help'
     */
    public static List<CommandLine> commands(CommandLine root) {
        List<CommandLine> all = new ArrayList<>();
        for (CommandLine sub : root.getSubcommands().values()) {
            if (!"help".equals(sub.getCommandName()) && !all.contains(sub)) {
                all.add(sub);
                all.addAll(commands(sub));
            }
        }
        return all;
    }

    /**
     * @param spec a command
     * @return its page name: the qualified command name joined by hyphens,
     *         e.g. {@code blksnap-snapshot_create}
     */
    public static String pageName(CommandSpec spec) {
        return spec.qualifiedName("-");
    }

    /**
     * Renders the page of one command, e.g. {@code blksnap-attach(8)}.
     *
     * @param command a command of the configured command line
     * @param version the version for the page footer
     * @return the page in man(7) format
     */
    public static String renderCommand(CommandLine command, String version) {
        CommandSpec spec = command.getCommandSpec();
        String name = pageName(spec);
        String[] description = spec.usageMessage().description();
        StringBuilder m = new StringBuilder();
        m.append(".\\\" Generated from the picocli model by ").append(ManPage.class.getName())
                .append("; do not edit.\n");
        m.append(".TH ").append(esc(name.toUpperCase(java.util.Locale.ROOT))).append(" 8 \"\" \"blksnap ")
                .append(esc(version)).append("\" \"System Administration\"\n");
        m.append(".SH NAME\n").append(esc(name)).append(" \\- ")
                .append(esc(description.length == 0 ? spec.qualifiedName() : firstSentence(description[0])))
                .append('\n');
        m.append(".SH SYNOPSIS\n.nf\n").append(esc(synopsis(spec))).append(".fi\n");
        m.append(".SH DESCRIPTION\n");
        paragraphs(m, description);
        m.append(".SH OPTIONS\n");
        options(m, spec, true);
        m.append(".PP\nThe global options of\n.BR blksnap (8)\n(\\fB\\-\\-help\\fR, \\fB\\-\\-verbose\\fR) apply too.\n");
        List<CommandLine> subs = commands(command);
        if (!subs.isEmpty()) {
            m.append(".SH COMMANDS\n");
            for (CommandLine sub : command.getSubcommands().values()) {
                if (!"help".equals(sub.getCommandName())) {
                    String[] d = sub.getCommandSpec().usageMessage().description();
                    m.append(".TP\n.BR ").append(esc(pageName(sub.getCommandSpec()))).append(" (8)\n")
                            .append(esc(d.length == 0 ? "" : firstSentence(d[0]))).append('\n');
                }
            }
        }
        List<String> examples = examples(spec);
        if (!examples.isEmpty()) {
            m.append(".SH EXAMPLES\n.nf\n.RS 4\n");
            for (String line : examples) {
                m.append(esc(line)).append('\n');
            }
            m.append(".RE\n.fi\n");
        }
        m.append(".SH EXIT STATUS\nAs for\n.BR blksnap (8).\n");
        m.append(".SH SEE ALSO\n.BR blksnap (8)\n");
        return m.toString();
    }

    /** The indented lines after "Examples:" in the help footer, unindented. */
    private static List<String> examples(CommandSpec spec) {
        List<String> footer = Arrays.asList(spec.usageMessage().footer());
        int start = footer.indexOf("Examples:");
        List<String> out = new ArrayList<>();
        if (start < 0) {
            return out;
        }
        for (String line : footer.subList(start + 1, footer.size())) {
            if (!line.startsWith("  ")) {
                break;
            }
            out.add(line.substring(2));
        }
        return out;
    }

    private static String firstSentence(String text) {
        int dot = text.indexOf(". ");
        String s = dot < 0 ? text : text.substring(0, dot + 1);
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    private static void command(StringBuilder m, CommandSpec spec) {
        // "backup create", not "create": subcommand groups are rendered flat.
        String name = spec.qualifiedName(" ");
        m.append(".SS ").append(esc(name.substring(name.indexOf(' ') + 1))).append('\n');
        m.append(".nf\n").append(esc(synopsis(spec))).append(".fi\n");
        paragraphs(m, spec.usageMessage().description());
        options(m, spec, true);
        List<String> footer = new ArrayList<>(Arrays.asList(spec.usageMessage().footer()));
        int exit = -1;
        for (int i = 0; i < footer.size() && exit < 0; i++) {
            exit = footer.get(i).startsWith("Exit status:") ? i : -1;
        }
        if (exit >= 0) {
            footer = footer.subList(0, Math.max(0, exit - 1));
        }
        while (!footer.isEmpty() && footer.getFirst().isBlank()) {
            footer.removeFirst();
        }
        if (!footer.isEmpty()) {
            m.append(".PP\n").append(esc(footer.getFirst())).append("\n.PP\n.nf\n.RS 4\n");
            for (String line : footer.subList(1, footer.size())) {
                m.append(esc(line.strip().isEmpty() ? "" : line.substring(2))).append('\n');
            }
            m.append(".RE\n.fi\n");
        }
        for (CommandLine sub : spec.subcommands().values()) {
            command(m, sub.getCommandSpec());
        }
    }

    private static String synopsis(CommandSpec spec) {
        return new CommandLine.Help(spec, CommandLine.Help.defaultColorScheme(Ansi.OFF))
                .synopsis(0).replaceAll("\\s+\n", "\n").replaceAll("\n\\s+", "\n    ");
    }

    private static void options(StringBuilder m, CommandSpec spec, boolean skipGlobal) {
        for (OptionSpec o : spec.options()) {
            // --help, --version and --verbose work everywhere and are
            // described once under GLOBAL OPTIONS.
            if (o.hidden() || skipGlobal && (o.usageHelp() || o.versionHelp() || o.longestName().equals("--verbose"))) {
                continue;
            }
            m.append(".TP\n.B ").append(esc(String.join(", ", o.names())));
            if (o.typeInfo().isBoolean() && o.arity().max() == 0) {
                m.append('\n');
            } else {
                m.append(" \\fI").append(esc(o.paramLabel())).append("\\fR\n");
            }
            m.append(esc(String.join(" ", o.description())
                    .replace("${DEFAULT-VALUE}", String.valueOf(o.defaultValue()))
                    .replace("${COMPLETION-CANDIDATES}", candidates(o)))).append('\n');
        }
        for (PositionalParamSpec p : spec.positionalParameters()) {
            m.append(".TP\n.I ").append(esc(p.paramLabel())).append('\n')
                    .append(esc(String.join(" ", p.description()))).append('\n');
        }
    }

    private static String candidates(OptionSpec o) {
        List<String> c = new ArrayList<>();
        if (o.completionCandidates() != null) {
            o.completionCandidates().forEach(c::add);
        }
        return String.join(", ", c);
    }

    private static void paragraphs(StringBuilder m, String[] lines) {
        m.append(".PP\n");
        boolean verbatim = false;
        for (String line : lines) {
            if (line.isBlank()) {
                if (verbatim) {
                    m.append(".fi\n");
                    verbatim = false;
                }
                m.append(".PP\n");
            } else if (line.startsWith("  ")) {
                if (!verbatim) {
                    m.append(".nf\n");
                    verbatim = true;
                }
                m.append(esc(line)).append('\n');
            } else {
                if (verbatim) {
                    m.append(".fi\n");
                    verbatim = false;
                }
                m.append(esc(line)).append('\n');
            }
        }
        if (verbatim) {
            m.append(".fi\n");
        }
    }

    private static void env(StringBuilder m, String name, String text) {
        m.append(".TP\n.B ").append(name).append('\n').append(esc(text)).append('\n');
    }

    /**
     * @param s text
     * @return it escaped for troff, as the pages have it
     */
    public static String escape(String s) {
        return esc(s);
    }

    /** Escapes text for troff: backslashes, hyphens, and control characters at line start. */
    static String esc(String s) {
        String t = s.replace("\\", "\\e").replace("-", "\\-");
        StringBuilder out = new StringBuilder();
        for (String line : t.split("\n", -1)) {
            if (!out.isEmpty()) {
                out.append('\n');
            }
            if (line.startsWith(".") || line.startsWith("'")) {
                out.append("\\&");
            }
            out.append(line);
        }
        return out.toString();
    }
}
