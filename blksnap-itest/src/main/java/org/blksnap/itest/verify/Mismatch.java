package org.blksnap.itest.verify;

/**
 * One failed check: which device and block, what the model allowed there
 * and what was found, both decoded.
 *
 * @param device   the device (or image) checked
 * @param block    index of the 4 KiB block (or of the CBT block, see {@code what})
 * @param what     which check: "image", "cut", "cbt", ...
 * @param expected what the model allowed
 * @param found    what was read
 */
public record Mismatch(String device, long block, String what, String expected, String found) {
    @Override
    public String toString() {
        return String.format("%s: %s block %d: expected %s; found %s", device, what, block, expected, found);
    }
}
