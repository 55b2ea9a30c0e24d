package org.blksnap.cli;

import picocli.CommandLine.IVersionProvider;

/** {@code blksnap --version}: the command's own version (the module's is 'blksnap version'). */
public final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = VersionProvider.class.getPackage().getImplementationVersion();
        return new String[] {"blksnap command " + (v == null ? "(development build)" : v),
            "Java " + Runtime.version()};
    }
}
