package org.blksnap.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which stable name a device gets, on a made-up /dev/disk (regular files stand in for device nodes). */
class DeviceIdentityTest {
    @TempDir
    Path dir;
    Path disk;
    Path sdb;
    Path other;

    private static final DeviceIdentity.Probe NO_BLKID = d -> Map.of();

    @BeforeEach
    void devices() throws IOException {
        disk = Files.createDirectories(dir.resolve("disk"));
        sdb = Files.createFile(dir.resolve("sdb"));
        other = Files.createFile(dir.resolve("sdc"));
    }

    private void link(String kind, String name, Path to) throws IOException {
        Files.createDirectories(disk.resolve(kind));
        Files.createSymbolicLink(disk.resolve(kind).resolve(name), to);
    }

    private DeviceIdentity of(Path device) throws IOException {
        return DeviceIdentity.of(device, disk, NO_BLKID);
    }

    @Test
    void theWwnComesFirst() throws IOException {
        link("by-uuid", "1111-2222", sdb);
        link("by-partuuid", "abcd-01", sdb);
        link("by-id", "ata-DISK_MODEL_SERIAL1", sdb);
        link("by-id", "wwn-0x5000c500a1b2c3d4", sdb);
        link("by-id", "wwn-0x5000c500ffffffff", other);
        DeviceIdentity id = of(sdb);
        assertEquals("wwn:0x5000c500a1b2c3d4", id.id());
        assertEquals(sdb, id.label());
    }

    @Test
    void thenAnotherByIdNameButNotADeviceMapperName() throws IOException {
        link("by-uuid", "1111-2222", sdb);
        link("by-id", "dm-name-vg-root", sdb);
        link("by-id", "dm-uuid-LVM-abc", sdb);
        assertEquals("id:dm-uuid-LVM-abc", of(sdb).id());
        link("by-id", "dm-name-only", other);
        link("by-uuid", "3333", other);
        assertEquals("uuid:3333", of(other).id());
    }

    @Test
    void thenThePartitionUuidThenTheFilesystemUuid() throws IOException {
        link("by-uuid", "1111-2222", sdb);
        link("by-partuuid", "abcd-01", sdb);
        link("by-uuid", "3333", other);
        assertEquals("partuuid:abcd-01", of(sdb).id());
        assertEquals("uuid:3333", of(other).id());
    }

    @Test
    void aPathThroughALinkIsTheSameDevice() throws IOException {
        link("by-partuuid", "abcd-01", sdb);
        Path alias = Files.createSymbolicLink(dir.resolve("alias"), sdb);
        DeviceIdentity id = of(alias);
        assertEquals("partuuid:abcd-01", id.id());
        assertEquals(alias, id.label());
    }

    @Test
    void withoutUdevBlkidIsAsked() throws IOException {
        DeviceIdentity.Probe blkid = d -> d.equals(sdb.toRealPath())
                ? DeviceIdentity.parseExport("DEVNAME=/dev/sdb\nUUID=77-88\nTYPE=ext4\nPARTUUID=ee-02\n") : Map.of();
        assertEquals("partuuid:ee-02", DeviceIdentity.of(sdb, disk, blkid).id());
        DeviceIdentity.Probe fsOnly = d -> DeviceIdentity.parseExport("UUID=77-88\nTYPE=ext4\n");
        assertEquals("uuid:77-88", DeviceIdentity.of(sdb, disk, fsOnly).id());
    }

    @Test
    void withNothingStableThePathIsTheIdentity() throws IOException {
        link("by-id", "dm-name-x", sdb);
        assertEquals("path:" + sdb.toRealPath(), of(sdb).id());
        assertEquals(DeviceIdentity.Kind.PATH, DeviceIdentity.of(sdb, dir.resolve("no-such-dir"), NO_BLKID).kind());
    }

    @Test
    void danglingLinksAreIgnored() throws IOException {
        link("by-id", "wwn-0xdead", dir.resolve("gone"));
        link("by-uuid", "5555", sdb);
        assertEquals("uuid:5555", of(sdb).id());
    }
}
