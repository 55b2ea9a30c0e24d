package org.blksnap.backup.hooks;

/** What a failing pre-freeze hook does to the backup. */
public enum HookFailurePolicy {
    /** The snapshot is destroyed untaken, nothing is stored, the command fails. */
    ABORT("abort"),
    /** The failure is reported and the backup goes on (crash-consistent only). */
    IGNORE("ignore");

    private final String word;

    HookFailurePolicy(String word) {
        this.word = word;
    }

    /** @return the word of --hooks-failure and of job files */
    public String word() {
        return word;
    }

    /**
     * @param word "abort" or "ignore"
     * @return the policy
     * @throws IllegalArgumentException for another word
     */
    public static HookFailurePolicy of(String word) {
        for (HookFailurePolicy p : values()) {
            if (p.word.equals(word)) {
                return p;
            }
        }
        throw new IllegalArgumentException("invalid hook failure policy '" + word + "': expected abort or ignore");
    }
}
