package org.blksnap.cli.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void aFileOfAnotherBootIsStaleEvenWhenItsNumberIsInUseNow() {
        String boot = "0123abcd";
        // After a power loss the next boot's blksnap often gets the number the last one had.
        assertTrue(PreallocatedStorage.isStale(".blksnap-storage-ffff0000-612", boot, pid -> true));
        assertFalse(PreallocatedStorage.isStale(PreallocatedStorage.name(boot, 612), boot, pid -> true));
        assertTrue(PreallocatedStorage.isStale(PreallocatedStorage.name(boot, 612), boot, pid -> false));
        // Names of earlier versions carry no boot: the number alone decides.
        assertFalse(PreallocatedStorage.isStale(".blksnap-storage-612", boot, pid -> true));
        assertTrue(PreallocatedStorage.isStale(".blksnap-storage-612", boot, pid -> false));
        assertFalse(PreallocatedStorage.isStale(".blksnap-storage-x", boot, pid -> false));
        assertFalse(PreallocatedStorage.isStale("blksnap-storage-1", boot, pid -> false));
        assertFalse(PreallocatedStorage.isStale(".blksnap-storage-99999999999999999999999", boot, pid -> false));
    }

    @Test
    void theBootTagIsThisBootsId() throws Exception {
        String id = java.nio.file.Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
        assertEquals(id.substring(0, 8), PreallocatedStorage.bootTag());
    }
}
