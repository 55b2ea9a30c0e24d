package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Command-line parsing, messages and exit codes; the host has no module loaded. */
class CliTest {
    static final List<String> COMMANDS = List.of("version", "status", "snapshot", "serve", "attach", "detach", "cbtinfo",
            "readcbtmap", "markdirtyblock", "snapshot_create", "snapshot_add", "snapshot_take", "snapshot_info",
            "snapshot_waitevent", "snapshot_watcher", "snapshot_collect", "snapshot_destroy");

    static Stream<String> commands() {
        return COMMANDS.stream();
    }

    @ParameterizedTest
    @MethodSource("commands")
    void everyCommandHasHelpWithExamplesAndExitStatus(String command) {
        Run r = Run.of(command, "--help");
        assertEquals(0, r.status(), r::err);
        assertTrue(r.out().startsWith("Usage: blksnap " + command), r.out());
        assertTrue(r.out().contains("Examples:\n  blksnap "), r.out());
        assertTrue(r.out().contains("\nExit status: 0 on success; the others are in 'blksnap --help' and "
                + "blksnap(8).\n"), r.out());
        assertTrue(!r.out().contains("module is not loaded"), "the table is not repeated: " + r.out());
    }

    @Test
    void topLevelHelpListsEveryCommand() {
        Run r = Run.of("--help");
        assertEquals(0, r.status());
        for (String c : COMMANDS) {
            assertTrue(r.out().contains("\n  " + c + " "), c);
        }
        assertEquals(r.out(), Run.of("help").out());
        for (ExitCodes.Meaning m : ExitCodes.TABLE) {
            assertTrue(r.out().contains("\n  " + m.code() + "  " + m.text() + "\n"), m::toString);
        }
    }

    static Stream<Arguments> usageErrors() {
        return Stream.of(
                Arguments.of(List.of("frobnicate"), "blksnap: unknown command 'frobnicate' (see 'blksnap --help')"),
                Arguments.of(List.of("attach"), "blksnap attach: Missing required option: '--device=DEVICE'"),
                Arguments.of(List.of("cbtinfo", "--device"), "blksnap cbtinfo: Missing required parameter for "
                        + "option '--device'"),
                Arguments.of(List.of("snapshot_create", "-f", "/tmp", "-l", "4X"), "blksnap snapshot_create: Invalid "
                        + "value for option '--limit': invalid size '4X': use a number with an optional K, M, G or T "
                        + "suffix, e.g. 4G"),
                Arguments.of(List.of("snapshot_create", "-f", "/tmp", "-l", "0"), "size must be positive: '0'"),
                Arguments.of(List.of("snapshot_take", "--id", "nope"), "invalid snapshot id 'nope': expected a uuid"),
                Arguments.of(List.of("markdirtyblock", "-d", "/dev/x", "--range", "12"),
                        "invalid range '12': expected SECTOR:COUNT in 512-byte sectors, e.g. 2048:8"),
                Arguments.of(List.of("markdirtyblock", "-d", "/dev/x", "--range", "1:0"),
                        "invalid range '1:0': sector count must be positive: 0"),
                Arguments.of(List.of("markdirtyblock", "-f", "/x", "-d", "/dev/x", "--range", "0:1"),
                        "are mutually exclusive"),
                Arguments.of(List.of("snapshot_waitevent", "-i", "00000000-0000-0000-0000-000000000001", "-t", "-5"),
                        "invalid timeout '-5': expected milliseconds between 0 and 4294967295"),
                Arguments.of(List.of("snapshot", "-d", "/dev/x", "-s", "/tmp", "-l", "1G"),
                        "Missing required parameter: 'COMMAND'"),
                Arguments.of(List.of("snapshot_info", "-d", "/dev/x", "--field", "colour"),
                        "Invalid value for option '--field': expected one of [image, error_code]"),
                Arguments.of(List.of("readcbtmap", "-d", "/dev/x", "--since", "x"),
                        "Invalid value for option '--since': 'x' is not an int"));
    }

    @ParameterizedTest
    @MethodSource("usageErrors")
    void usageErrorsAreOneLineAndExitTwo(List<String> args, String message) {
        Run r = Run.of(args.toArray(String[]::new));
        assertEquals(ExitCodes.USAGE, r.status(), r::err);
        assertEquals(1, r.errLines(), r::err);
        assertTrue(r.err().contains(message), r.err());
        assertTrue(r.err().strip().endsWith("--help')"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void everyShortOptionHasOneMeaningAcrossAllCommands() {
        picocli.CommandLine root = Main.commandLine(new java.io.PrintWriter(new java.io.StringWriter()),
                new java.io.PrintWriter(new java.io.StringWriter()));
        List<picocli.CommandLine> all = new java.util.ArrayList<>(org.blksnap.cli.doc.ManPage.commands(root));
        all.add(root);
        java.util.Map<String, java.util.Set<String>> meanings = new java.util.TreeMap<>();
        for (picocli.CommandLine c : all) {
            for (picocli.CommandLine.Model.OptionSpec o : c.getCommandSpec().options()) {
                for (String name : o.names()) {
                    if (name.matches("-[^-]")) {
                        meanings.computeIfAbsent(name, k -> new java.util.TreeSet<>())
                                .add(o.longestName() + " (" + c.getCommandSpec().qualifiedName() + ")");
                    }
                }
            }
        }
        for (var e : meanings.entrySet()) {
            java.util.Set<String> longNames = new java.util.TreeSet<>();
            e.getValue().forEach(v -> longNames.add(v.substring(0, v.indexOf(' '))));
            assertEquals(1, longNames.size(), e.getKey() + " means " + e.getValue());
        }
        assertTrue(meanings.keySet().containsAll(List.of("-d", "-r", "-s", "-l", "-j", "-q", "-i", "-f")),
                meanings::toString);
    }

    @Test
    void helpWorksForNestedCommands() {
        Run r = Run.of("help", "backup", "create");
        assertEquals(0, r.status(), r::err);
        assertTrue(r.out().startsWith("Usage: blksnap backup create"), r.out());
        assertEquals(Run.of("backup", "create", "--help").out(), r.out());
        Run inGroup = Run.of("backup", "help", "restore");
        assertEquals(0, inGroup.status(), inGroup::err);
        assertTrue(inGroup.out().startsWith("Usage: blksnap backup restore"), inGroup.out());
        assertTrue(Run.of("help", "backup").out().startsWith("Usage: blksnap backup "), "help backup");
        Run bad = Run.of("help", "backup", "lst");
        assertEquals(ExitCodes.USAGE, bad.status());
        assertEquals("blksnap help: no command 'backup lst': did you mean 'list'? (see 'blksnap backup --help')\n",
                bad.err());
        assertEquals("", bad.out());
    }

    @Test
    void unknownSubcommandsGetASuggestion() {
        Run r = Run.of("backup", "lst", "-r", "/x");
        assertEquals(ExitCodes.USAGE, r.status());
        assertEquals(1, r.errLines(), r::err);
        assertEquals("blksnap backup: unknown command 'lst': did you mean 'list'? (see 'blksnap backup --help')\n",
                r.err());
        Run top = Run.of("snapshot_creat");
        assertTrue(top.err().contains("did you mean 'snapshot_create'"), top.err());
        Run far = Run.of("frobnicate");
        assertTrue(!far.err().contains("did you mean"), far.err());
        Run option = Run.of("backup", "list", "--jsn");
        assertTrue(option.err().contains("Unknown option: '--jsn': did you mean '--json'?"), option.err());
    }

    @Test
    void jsonErrorsHaveOneShapeOnStdout() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        Run notLoaded = Run.of("version", "--json");
        assertEquals(ExitCodes.MODULE_NOT_LOADED, notLoaded.status());
        assertEquals("blksnap version: blksnap module not loaded: modprobe blksnap\n", notLoaded.err());
        assertEquals("{\"error\":{\"command\":\"blksnap version\",\"message\":\"blksnap module not loaded: "
                + "modprobe blksnap\",\"exit_status\":3,\"errno\":\"ENOENT\"}}\n", notLoaded.out());
        Run usage = Run.of("backup", "list", "--json", "--bogus");
        assertEquals(ExitCodes.USAGE, usage.status());
        var u = mapper.readTree(usage.out()).get("error");
        assertEquals("blksnap backup list", u.get("command").asText());
        assertEquals(2, u.get("exit_status").asInt());
        assertTrue(u.get("message").asText().startsWith("Unknown option: '--bogus'"), usage.out());
        Run repo = Run.of("backup", "list", "-j", "-r", "/nonexistent-blksnap-repo");
        assertEquals(ExitCodes.FAILURE, repo.status());
        var r = mapper.readTree(repo.out()).get("error");
        assertEquals(java.util.List.of("command", "message", "exit_status", "errno"),
                java.util.stream.StreamSupport.stream(java.util.Spliterators.spliteratorUnknownSize(r.fieldNames(), 0),
                        false).toList());
        assertTrue(r.get("errno").isNull());
        assertEquals(1, repo.out().lines().count());
        Run plain = Run.of("backup", "list", "-r", "/nonexistent-blksnap-repo");
        assertEquals("", plain.out(), "without --json nothing goes to stdout");
    }

    @Test
    void moduleNotLoadedSaysModprobe() {
        Run r = Run.of("version");
        assertEquals(ExitCodes.MODULE_NOT_LOADED, r.status());
        assertEquals("blksnap version: blksnap module not loaded: modprobe blksnap\n", r.err());
    }

    @Test
    void verboseAddsTheStackTrace() {
        Run r = Run.of("version", "--verbose");
        assertEquals(ExitCodes.MODULE_NOT_LOADED, r.status());
        assertTrue(r.errLines() > 3, r::err);
        assertTrue(r.err().contains("at org.blksnap.api.BlkSnap.open"), r.err());
        assertEquals(r.status(), Run.of("-v", "version").status());
    }

    @Test
    void notABlockDevice(@TempDir Path dir) throws IOException {
        Path file = Files.createFile(dir.resolve("plain"));
        for (String cmd : List.of("attach", "detach", "cbtinfo", "readcbtmap", "snapshot_info")) {
            Run r = Run.of(cmd, "--device", file.toString());
            assertEquals(ExitCodes.NOT_FOUND, r.status(), cmd);
            assertEquals("blksnap " + cmd + ": " + file + " is not a block device\n", r.err());
        }
        Run missing = Run.of("attach", "-d", dir.resolve("nope").toString());
        assertEquals(ExitCodes.NOT_FOUND, missing.status());
        assertTrue(missing.err().contains("is not a block device (it does not exist)"), missing.err());
    }

    @Test
    void statusWithoutModule() {
        Run r = Run.of("status");
        assertEquals(ExitCodes.MODULE_NOT_LOADED, r.status());
        assertTrue(r.out().contains("not loaded (modprobe blksnap)"), r.out());
        Run j = Run.of("status", "--json");
        assertEquals(ExitCodes.MODULE_NOT_LOADED, j.status());
        assertTrue(j.out().contains("\"module\":null"), j.out());
    }

    @Test
    void snapshotChecksStorageBeforeTheModule() {
        Run r = Run.of("snapshot", "-d", "/dev/null", "-s", "/dev/null", "-l", "1G", "--", "true");
        assertEquals(ExitCodes.FAILURE, r.status(), r::err);
        assertEquals("blksnap snapshot: /dev/null is neither a file, a directory nor a block device\n", r.err());
    }

    @Test
    void commandVersion() {
        Run r = Run.of("--version");
        assertEquals(0, r.status());
        assertTrue(r.out().startsWith("blksnap command "), r.out());
    }

    @Test
    void versionOptionSaysTheModuleIsNotLoadedWithoutFailing() {
        Run r = Run.of("--version");
        assertEquals(0, r.status(), r::err);
        assertTrue(r.out().contains("\nblksnap module not loaded\n"), r.out());
    }
}
