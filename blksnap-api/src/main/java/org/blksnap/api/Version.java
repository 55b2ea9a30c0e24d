package org.blksnap.api;

/**
 * Version of the loaded kernel module ({@code struct blksnap_version}).
 *
 * @param major    changes when the interface changes incompatibly
 * @param minor    changes when the interface grows
 * @param revision changes with fixes
 * @param build    build number, 0 for a local build
 */
public record Version(int major, int minor, int revision, int build) {
    @Override
    public String toString() {
        return major + "." + minor + "." + revision + "." + build;
    }
}
