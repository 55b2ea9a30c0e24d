package org.blksnap.backup.hooks;

/** When a hook runs; its word is the hook's first argument and $BLKSNAP_HOOK_PHASE. */
public enum HookPhase {
    /** Before the take: bring the application to a consistent state on disk and hold it there. */
    PRE_FREEZE("pre-freeze"),
    /** After the take, also a failed one: let the application go. */
    POST_THAW("post-thaw");

    private final String word;

    HookPhase(String word) {
        this.word = word;
    }

    /** @return the word hooks see, e.g. "pre-freeze" */
    public String word() {
        return word;
    }
}
