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
 * Build step (run by Maven at package time): writes the man pages
 * {@code blksnap.8} and one {@code blksnap-COMMAND.8} per command (nested
 * ones included, e.g. {@code blksnap-backup-create.8}) under {@code man8/},
 * and the bash completion script {@code blksnap.bash}, from the picocli model.
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
        Path man = Files.createDirectories(dir.resolve("man8"));
        Files.writeString(man.resolve("blksnap.8"), ManPage.render(cl, args[1]));
        for (CommandLine sub : ManPage.commands(cl)) {
            Files.writeString(man.resolve(ManPage.pageName(sub.getCommandSpec()) + ".8"),
                    ManPage.renderCommand(sub, args[1]));
        }
        Files.writeString(dir.resolve("blksnap.bash"), AutoComplete.bash("blksnap", cl));
    }
}
