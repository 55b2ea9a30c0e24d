package org.blksnap.cli.doc;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.cli.Main;

import picocli.AutoComplete;
import picocli.CommandLine;

/**
 * Build step (run by Maven at package time): writes the man page
 * {@code blksnap.8} and the bash completion script {@code blksnap.bash}
 * from the picocli model.
 */
public final class GenerateDocs {
    private GenerateDocs() {
    }

    /**
     * @param args output directory, then the version
     * @throws IOException if the files cannot be written
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: GenerateDocs OUTPUT_DIR VERSION");
        }
        Path dir = Files.createDirectories(Path.of(args[0]));
        CommandLine cl = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        Files.writeString(dir.resolve("blksnap.8"), ManPage.render(cl, args[1]));
        Files.writeString(dir.resolve("blksnap.bash"), AutoComplete.bash("blksnap", cl));
    }
}
