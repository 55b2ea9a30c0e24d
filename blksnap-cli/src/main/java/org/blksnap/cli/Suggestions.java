package org.blksnap.cli;

import java.util.List;

import picocli.CommandLine;
import picocli.CommandLine.UnmatchedArgumentException;

/** "did you mean" for a mistyped command name, from picocli's own similarity ranking. */
final class Suggestions {
    private Suggestions() {
    }

    /**
     * @param e an unmatched argument
     * @return {@code ": did you mean 'x'?"} (or two names), or "" if nothing is close
     */
    static String didYouMean(UnmatchedArgumentException e) {
        List<String> unmatched = e.getUnmatched();
        String typed = unmatched.isEmpty() ? "" : unmatched.getFirst();
        // picocli ranks every name, however far; a name that does not even
        // begin with the same letter is no help.
        List<String> close = e.getSuggestions().stream()
                .filter(s -> !"help".equals(s) && !typed.isEmpty() && s.charAt(0) == typed.charAt(0))
                .limit(2).toList();
        return close.isEmpty() ? "" : ": did you mean '" + String.join("' or '", close) + "'?";
    }

    /**
     * @param parent a command with subcommands
     * @param typed  a name that is not one of them
     * @return the suggestion text, as {@link #didYouMean(UnmatchedArgumentException)}
     */
    static String didYouMean(CommandLine parent, String typed) {
        return didYouMean(new UnmatchedArgumentException(parent, List.of(typed)));
    }
}
