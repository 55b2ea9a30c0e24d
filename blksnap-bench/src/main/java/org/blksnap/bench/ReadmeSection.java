package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Replaces the text between two marker comments of the README. */
final class ReadmeSection {
    static final String BEGIN = "<!-- bench:latest:begin -->";
    static final String END = "<!-- bench:latest:end -->";

    private ReadmeSection() {
    }

    /**
     * @param text    the README
     * @param content the new text between the markers
     * @return the README with the section replaced
     * @throws IllegalArgumentException if the markers are missing or out of order
     */
    static String replace(String text, String content) {
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        if (b < 0 || e < b || text.indexOf(BEGIN, b + 1) >= 0) {
            throw new IllegalArgumentException("the README needs exactly one '" + BEGIN + "' followed by '" + END
                    + "'");
        }
        return text.substring(0, b + BEGIN.length()) + "\n" + content.strip() + "\n" + text.substring(e);
    }

    static void update(Path readme, String content) throws IOException {
        Files.writeString(readme, replace(Files.readString(readme), content));
    }
}
