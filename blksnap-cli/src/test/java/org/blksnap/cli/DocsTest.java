package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.blksnap.cli.doc.ManPage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.AutoComplete;
import picocli.CommandLine;

class DocsTest {
    private static CommandLine model() {
        return Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    }

    @Test
    void manPageDescribesEveryCommandAndRendersWithMan(@TempDir Path dir) throws Exception {
        String page = ManPage.render(model(), "9.9");
        for (String c : CliTest.COMMANDS) {
            assertTrue(page.contains("\n.SS " + c.replace("-", "\\-") + "\n"), c);
        }
        Path file = dir.resolve("blksnap.8");
        Files.writeString(file, page);
        Process p = new ProcessBuilder("man", "--warnings", "-l", "-Tutf8", file.toString())
                .redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), text);
        assertTrue(text.contains("snapshot_create"), text);
        assertTrue(!text.contains("warning"), text);
    }

    @Test
    void everyCommandHasItsOwnPageThatRendersWithMan(@TempDir Path dir) throws Exception {
        CommandLine model = model();
        List<String> pages = new ArrayList<>();
        for (CommandLine c : ManPage.commands(model)) {
            String name = ManPage.pageName(c.getCommandSpec());
            Path file = dir.resolve(name + ".8");
            Files.writeString(file, ManPage.renderCommand(c, "9.9"));
            Process p = new ProcessBuilder("man", "--warnings", "-l", "-Tutf8", file.toString())
                    .redirectErrorStream(true).start();
            // Without a terminal man overstrikes bold text ("b\bb"): undo that.
            String text = new String(p.getInputStream().readAllBytes()).replaceAll(".\b", "");
            assertEquals(0, p.waitFor(), text);
            assertTrue(!text.contains("warning"), text);
            assertTrue(text.contains("SYNOPSIS") && text.contains(c.getCommandSpec().qualifiedName()), text);
            pages.add(name);
        }
        for (String c : CliTest.COMMANDS) {
            assertTrue(pages.contains("blksnap-" + c), c + " has no page in " + pages);
        }
        String main = ManPage.render(model, "9.9");
        for (String page : pages) {
            assertTrue(main.contains(".BR " + page.replace("-", "\\-") + " (8)"), page + " not in SEE ALSO");
        }
    }

    @Test
    void exitStatusesAreDescribedOnceInBlksnap8() {
        CommandLine model = model();
        String main = ManPage.render(model, "9.9");
        assertEquals(1, main.split("\n\\.SH EXIT STATUS\n", -1).length - 1, "one EXIT STATUS section");
        for (ExitCodes.Meaning m : ExitCodes.TABLE) {
            String entry = ".TP\n.B " + m.code() + "\n" + ManPage.escape(m.text()) + "\n";
            assertEquals(1, main.split(java.util.regex.Pattern.quote(entry), -1).length - 1, entry);
        }
        assertTrue(!main.contains("Exit status: 0 on success"), "the commands' pointer is not in blksnap(8)");
        assertTrue(main.contains("BLKSNAP_REPO"), "BLKSNAP_REPO is documented");
        for (CommandLine c : ManPage.commands(model)) {
            String page = ManPage.renderCommand(c, "9.9");
            assertTrue(page.contains(".SH EXIT STATUS\nAs for\n.BR blksnap (8).\n"), ManPage.pageName(c.getCommandSpec()));
            for (ExitCodes.Meaning m : ExitCodes.TABLE.subList(1, ExitCodes.TABLE.size())) {
                assertTrue(!page.contains(ManPage.escape(m.text())), m + " repeated in " + ManPage.pageName(
                        c.getCommandSpec()));
            }
        }
    }

    @Test
    void bashCompletionKnowsEveryCommand(@TempDir Path dir) throws Exception {
        String script = AutoComplete.bash("blksnap", model());
        Path file = dir.resolve("blksnap.bash");
        Files.writeString(file, script);
        Process p = new ProcessBuilder("bash", "-c", "source " + file + " && COMP_WORDS=(blksnap snapshot_) "
                + "COMP_CWORD=1 COMP_LINE='blksnap snapshot_' COMP_POINT=16 && _complete_blksnap && "
                + "printf '%s\\n' \"${COMPREPLY[@]}\"").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        for (String c : CliTest.COMMANDS) {
            if (c.startsWith("snapshot_")) {
                assertTrue(out.contains(c + "\n"), c + " in " + out);
            }
        }
    }
}
