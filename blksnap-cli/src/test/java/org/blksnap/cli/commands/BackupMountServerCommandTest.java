package org.blksnap.cli.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;

import org.blksnap.cli.Main;
import org.junit.jupiter.api.Test;

/**
 * The background server of 'backup mount' runs with the JVM options
 * bin/blksnap gave the command (its AOT cache, JIT mode and GC), not the
 * JVM's defaults, and never with one that dumps an archive at exit.
 */
class BackupMountServerCommandTest {
    private static final Path JAVA = Path.of("/opt/jdk/bin/java");
    private static final List<String> ARGS = List.of("backup", "mount", "--foreground", "b1", "--repo", "/r",
            "--device", "vda", "/mnt");

    @Test
    void theLaunchersOptionsAreHandedOn() {
        List<String> launcher = List.of("--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xss1m", "-XX:AOTCache=/x/blksnap.aot", "-Xlog:aot=off",
                "-Dblksnap.native-sha=false");
        List<String> cmd = BackupMountCommand.serverCommand(JAVA, launcher, "/x/blksnap.jar", ARGS);
        assertEquals(List.of("setsid", JAVA.toString(), "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-Xss1m",
                "-XX:AOTCache=/x/blksnap.aot", "-Xlog:aot=off", "-Dblksnap.native-sha=false", "-cp", "/x/blksnap.jar",
                Main.class.getName(), "backup", "mount", "--foreground", "b1", "--repo", "/r", "--device", "vda",
                "/mnt"), cmd);
    }

    @Test
    void noArchiveIsWrittenWhenTheServerExits() {
        List<String> launcher = List.of("-XX:SharedArchiveFile=/c/blksnap-1.jsa", "-XX:+AutoCreateSharedArchive",
                "-XX:AOTCacheOutput=/x/out.aot", "-XX:ArchiveClassesAtExit=/c/a.jsa", "-XX:+UseSerialGC");
        List<String> cmd = BackupMountCommand.serverCommand(JAVA, launcher, "/x/blksnap.jar", ARGS);
        assertEquals(List.of("setsid", JAVA.toString(), "-XX:SharedArchiveFile=/c/blksnap-1.jsa",
                "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED", "-cp", "/x/blksnap.jar",
                Main.class.getName()), cmd.subList(0, 8));
    }
}
