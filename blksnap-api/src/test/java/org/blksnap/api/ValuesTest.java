package org.blksnap.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.blksnap.api.sys.Abi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Records and decoders that need no kernel. */
class ValuesTest {

    @Test
    void uuidRoundTrips() {
        byte[] b = new byte[16];
        for (int i = 0; i < 16; i++) {
            b[i] = (byte) (0xf0 + i);
        }
        Uuid u = Uuid.of(b);
        assertEquals("f0f1f2f3-f4f5-f6f7-f8f9-fafbfcfdfeff", u.toString());
        assertArrayEquals(b, u.bytes());
        assertEquals(u, Uuid.parse(u.toString()));
        assertEquals(u, Uuid.parse("F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF"));
        assertEquals(u, SnapshotId.parse(u.toString()).uuid());
        assertThrows(IllegalArgumentException.class, () -> Uuid.parse("f0f1"));
        assertThrows(IllegalArgumentException.class, () -> Uuid.parse("z0f1f2f3-f4f5-f6f7-f8f9-fafbfcfdfeff"));
        assertTrue(new Uuid(0, 0).isNil());
    }

    @Test
    void uuidWritesRawBytes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(32);
            Uuid u = Uuid.random();
            u.write(s, 8);
            assertEquals(0, s.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(u, Uuid.read(s, 8));
        }
    }

    @Test
    void sectorRanges() {
        assertEquals(new SectorRange(0, 1), SectorRange.ofBytes(0, 1));
        assertEquals(new SectorRange(1, 2), SectorRange.ofBytes(1000, 100));
        assertEquals(new SectorRange(8, 8), SectorRange.ofBytes(4096, 4096));
        assertThrows(IllegalArgumentException.class, () -> new SectorRange(-1, 1));
        assertThrows(IllegalArgumentException.class, () -> new SectorRange(0, 0));
        assertThrows(IllegalArgumentException.class, () -> new SectorRange(Long.MAX_VALUE, 2));
    }

    @Test
    void snapshotInfoImagePath() {
        assertEquals(Optional.empty(), new SnapshotInfo(0, "").imagePath());
        assertEquals(Optional.of(Path.of("/dev/blksnap-253-0")), new SnapshotInfo(0, "blksnap-253-0").imagePath());
        assertTrue(new SnapshotInfo(-28, "blksnap-253-0").corrupted());
        assertFalse(new SnapshotInfo(0, "x").corrupted());
    }

    @Test
    void eventsDecode() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment e = arena.allocate(Abi.BLKSNAP_SNAPSHOT_EVENT);
            long data = Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "data");
            e.set(ValueLayout.JAVA_LONG, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "time_label"), 77L);
            e.set(ValueLayout.JAVA_INT, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "code"), Abi.EVENT_CODE_CORRUPTED);
            e.set(ValueLayout.JAVA_INT, data, 253);
            e.set(ValueLayout.JAVA_INT, data + 4, 16);
            e.set(ValueLayout.JAVA_INT, data + 8, -28);
            assertEquals(new SnapshotEvent.Corrupted(253, 16, 28, 77), Events.decode(e));

            e.set(ValueLayout.JAVA_INT, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "code"), Abi.EVENT_CODE_NO_SPACE);
            e.set(ValueLayout.JAVA_LONG, data, 1L << 21);
            assertEquals(new SnapshotEvent.NoSpace(1L << 21, 77), Events.decode(e));

            e.set(ValueLayout.JAVA_INT, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "code"), 9);
            assertEquals(new SnapshotEvent.Unknown(9, 77), Events.decode(e));
        }
    }

    @Test
    void deviceNumbersDecodeLikeGlibc() {
        assertEquals(new DeviceNumber(8, 1), DeviceNumber.decode(0x801));
        assertEquals(new DeviceNumber(253, 16), DeviceNumber.decode((253L << 8) | 16));
        assertEquals(new DeviceNumber(259, 300), DeviceNumber.decode(makedev(259, 300)));
        assertEquals(new DeviceNumber(4100, 1 << 20), DeviceNumber.decode(makedev(4100, 1 << 20)));
    }

    /** glibc's makedev(3), written out independently of the decoder. */
    private static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8)
                | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }

    @Test
    void diffStorageKinds(@TempDir Path dir) throws IOException {
        assertEquals(DiffStorage.Kind.DIRECTORY, DiffStorage.of(dir).kind());
        Path file = dir.resolve("diff");
        assertEquals(DiffStorage.Kind.FILE, DiffStorage.of(file).kind());
        assertEquals(file.toAbsolutePath(), DiffStorage.of(file).prepare());
        assertTrue(Files.isRegularFile(file), "prepare creates the file");
        assertEquals(DiffStorage.Kind.FILE, DiffStorage.of(file).kind());
        DiffStorageException e = assertThrows(DiffStorageException.class, () -> DiffStorage.of(Path.of("/dev/null")));
        assertTrue(e.getMessage().contains("neither a file, a directory nor a block device"), e.getMessage());
        assertThrows(DiffStorageException.class, () -> DiffStorage.directory(dir.resolve("missing")).prepare());
        assertThrows(DiffStorageException.class, () -> DiffStorage.blockDevice(file).prepare());
    }

    @Test
    void filterOpenRefusesNonDevices(@TempDir Path dir) throws IOException {
        Path file = Files.createFile(dir.resolve("plain"));
        NotBlockDeviceException e = assertThrows(NotBlockDeviceException.class, () -> Filter.open(file));
        assertEquals(file + " is not a block device", e.getMessage());
        NotBlockDeviceException missing = assertThrows(NotBlockDeviceException.class,
                () -> Filter.open(dir.resolve("nope")));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        assertThrows(NotBlockDeviceException.class, () -> Filter.open(Path.of("/dev/null")));
    }

    @Test
    void controlDeviceMissingSaysModprobe() {
        // The host never has the module loaded (it cannot load modules).
        ModuleNotLoadedException e = assertThrows(ModuleNotLoadedException.class, BlkSnap::open);
        assertEquals("blksnap module not loaded: modprobe blksnap", e.getMessage());
    }
}
