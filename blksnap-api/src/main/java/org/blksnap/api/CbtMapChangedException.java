package org.blksnap.api;

/**
 * The CBT map was rebuilt while it was being read (the device was resized,
 * or the filter detached and attached again): what was read belongs to no
 * single state of the tracker. Reading it again from the start, with a
 * fresh {@link CbtInfo}, gives a consistent copy; {@link CbtMap#read} does.
 */
public class CbtMapChangedException extends BlkSnapException {
    private static final long serialVersionUID = 1L;

    /** @param message actionable one-line message */
    public CbtMapChangedException(String message) {
        super(message, 0);
    }
}
