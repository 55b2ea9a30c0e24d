package org.blksnap.cli;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.BlkSnapException;
import org.blksnap.api.ModuleNotLoadedException;

import picocli.CommandLine.IVersionProvider;

/**
 * {@code blksnap --version}: the command's own version and the loaded
 * module's (its VERSION ioctl), so one line of a bug report says both. A
 * missing module is an answer here, not an error.
 */
public final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = VersionProvider.class.getPackage().getImplementationVersion();
        return new String[] {"blksnap command " + (v == null ? "(development build)" : v),
            "blksnap module " + moduleVersion(),
            "Java " + Runtime.version()};
    }

    private static String moduleVersion() {
        try (BlkSnap blksnap = BlkSnap.open()) {
            return blksnap.version().toString();
        } catch (ModuleNotLoadedException e) {
            return "not loaded";
        } catch (BlkSnapException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}
