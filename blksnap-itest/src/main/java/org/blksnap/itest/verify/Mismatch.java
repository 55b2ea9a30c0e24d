package org.blksnap.itest.verify;

/**
 * One failed check: which device and block, what the model allowed there
 * and what was found, both decoded.
 *
 * @param device   the device (or image) checked
 * @param block    index of the 4 KiB block (or of the CBT block, see {@code what}); -1 for none
 * @param what     which check: "image", "cut", "cbt", ...
 * @param expected what the model allowed
 * @param found    what was read
 */
public record Mismatch(String device, long block, String what, String expected, String found) {
    @Override
    public String toString() {
        String where = block < 0 ? what : what + " block " + block;
        return String.format("%s: %s: expected %s; found %s", device, where, expected, found);
    }
}
