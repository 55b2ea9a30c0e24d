package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import picocli.CommandLine;
import picocli.CommandLine.Command;

class CommandTreeTest {
    @TempDir
    static Path dir;

    @Test
    void aLeafGetsOnlyItsBranch() {
        CommandTree t = CommandTree.forArgs(new String[] {"-v", "backup", "list", "-r", "/x", "--json"});
        assertEquals(List.of("backup"), t.children().stream().map(CommandTree::name).toList());
        CommandTree backup = t.children().getFirst();
        assertEquals(List.of("list"), backup.children().stream().map(CommandTree::name).toList());
        assertEquals(List.of(), backup.children().getFirst().children());
    }

    @Test
    void anythingThatMayNameOtherCommandsGetsTheWholeTree() {
        for (String[] args : List.of(new String[] {}, new String[] {"help", "backup", "create"},
                new String[] {"backup"}, new String[] {"backup", "lst"}, new String[] {"bakup", "list"},
                new String[] {"backup", "list", "--help"}, new String[] {"--version"},
                new String[] {"backup", "create", "-h"})) {
            assertSame(CommandTree.ROOT, CommandTree.forArgs(args), String.join(" ", args));
        }
    }

    @Test
    void everyNameIsTheOneItsAnnotationGives() {
        check(CommandTree.ROOT);
    }

    private static void check(CommandTree t) {
        assertEquals(t.name(), t.type().getAnnotation(Command.class).name(), t.type().getName());
        t.children().forEach(CommandTreeTest::check);
    }

    static Stream<List<String>> commandLines() {
        String repo = dir.resolve("nothing-here").toString();
        return Stream.of(List.of("backup", "list", "-r", repo), List.of("backup", "list", "-r", repo, "--json"),
                List.of("backup", "list"), List.of("backup", "list", "--bogus"),
                List.of("backup", "restore", "latest", "-r", repo, "--to", "/dev/null"),
                List.of("backup", "prune", "-r", repo, "--keep-last", "x"),
                List.of("backup", "key", "list", "-r", repo), List.of("backup", "key", "lst"),
                List.of("backup", "key"), List.of("snapshot", "cleanup", "--bogus"),
                List.of("-v", "backup", "verify", "-r", repo), List.of("cbtinfo", "--device"),
                List.of("version", "--json", "extra"));
    }

    /** The pruned tree answers as the whole one: status, stdout and stderr. */
    @ParameterizedTest
    @MethodSource("commandLines")
    void theBranchBehavesAsTheWholeTree(List<String> args) {
        String[] a = args.toArray(String[]::new);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int whole = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(a);
        Run branch = Run.of(a);
        assertEquals(whole, branch.status(), branch::err);
        assertEquals(out.toString(), branch.out());
        // A --verbose stack trace ends in this test's frames, which differ between the two calls.
        assertEquals(withoutFrames(err.toString()), withoutFrames(branch.err()));
    }

    private static String withoutFrames(String text) {
        return text.lines().filter(l -> !l.startsWith("\tat ")).toList().toString();
    }
}
