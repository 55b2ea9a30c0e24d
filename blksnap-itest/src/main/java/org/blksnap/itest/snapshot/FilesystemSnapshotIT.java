package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.blksnap.itest.support.Shell;
import org.blksnap.api.DiffStorage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A live filesystem changed after the take still shows, on the mounted
 * image, every file exactly as it was at the take.
 */
class FilesystemSnapshotIT {

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"ext4, virtio", "xfs, virtio", "ext4, loop", "xfs, loop"})
    void filesChangedAfterTakeKeepTheirOldContentOnTheImage(String fs, String kind) throws Exception {
        try (Rig rig = new Rig()) {
            Path device = kind.equals("virtio") ? GuestOs.VDB : rig.loop(512L << 20);
            GuestOs.mkfs(fs, device);
            Path live = rig.mount(device, fs);
            for (int i = 0; i < 6; i++) {
                Data.writeFile(live.resolve("file" + i), (i + 1) << 20, i);
            }
            Files.createDirectories(live.resolve("dir"));
            Data.writeFile(live.resolve("dir/small"), 5000, 77);
            Map<String, String> atTake = Data.md5Tree(live);

            Path image = rig.snapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 21, device).get(0);

            Data.overwrite(live.resolve("file0"), 4096, 100_000, 1000);
            Data.writeFile(live.resolve("file1"), 3 << 20, 1001);
            Files.delete(live.resolve("file2"));
            Data.overwrite(live.resolve("dir/small"), 0, 100, 1002);
            Data.writeFile(live.resolve("new"), 2 << 20, 1003);
            Shell.sh("sync");
            assertNotEquals(atTake, Data.md5Tree(live), "the live filesystem must have changed");

            Path mounted = rig.mountImage(image, fs);
            assertEquals(atTake, Data.md5Tree(mounted));
            assertEquals(0, Rig.info(device).errorCode());
        }
    }
}
