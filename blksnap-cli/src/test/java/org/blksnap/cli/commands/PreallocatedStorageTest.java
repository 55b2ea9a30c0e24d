package org.blksnap.cli.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

class PreallocatedStorageTest {
    private static final String MOUNTINFO = String.join("\n",
            "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro",
            "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw",
            "24 22 0:22 / /tmp rw,nosuid,nodev shared:13 - tmpfs tmpfs rw,size=4096k",
            "25 22 254:17 / /srv/my\\040data rw,relatime shared:2 - xfs /dev/vdb1 rw,attr2,inode64",
            "26 22 254:33 / /backup ro,relatime shared:3 - ext4 /dev/vdc1 ro",
            "27 22 254:1 /var/lib /mnt/bind rw,relatime shared:1 - ext4 /dev/vda1 rw",
            "28 22 0:40 / /data rw,relatime shared:4 - btrfs /dev/vdd rw,space_cache=v2",
            "");

    @Test
    void onlyReadWriteExtAndXfsMountsOncePerDevice() {
        List<PreallocatedStorage.Mount> m = PreallocatedStorage.candidates(MOUNTINFO);
        assertEquals(List.of(new PreallocatedStorage.Mount(Path.of("/"), "ext4", "254:1", 0),
                new PreallocatedStorage.Mount(Path.of("/srv/my data"), "xfs", "254:17", 0)), m);
    }

    @Test
    void theMostFreeSpaceWins() {
        var root = new PreallocatedStorage.Mount(Path.of("/"), "ext4", "254:1", 5L << 30);
        var srv = new PreallocatedStorage.Mount(Path.of("/srv"), "xfs", "254:17", 9L << 30);
        assertEquals(srv, PreallocatedStorage.choose(List.of(root, srv)));
        assertEquals(root, PreallocatedStorage.choose(List.of(root)));
    }
}
