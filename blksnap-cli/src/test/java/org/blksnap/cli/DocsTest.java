package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

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
