package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;

import org.blksnap.api.BlkSnapException;
import org.blksnap.api.DeviceBusyException;
import org.blksnap.api.DiffStorageException;
import org.blksnap.api.FilterAlreadyAttachedException;
import org.blksnap.api.FilterNotAttachedException;
import org.blksnap.api.ModuleNotLoadedException;
import org.blksnap.api.NotBlockDeviceException;
import org.blksnap.api.PermissionDeniedException;
import org.blksnap.api.SnapshotNotFoundException;
import org.blksnap.api.SnapshotStateException;
import org.junit.jupiter.api.Test;

class ExitCodesTest {
    @Test
    void everyExceptionHasItsDocumentedStatus() {
        assertEquals(3, Errors.exitCode(new ModuleNotLoadedException("m", 2)));
        assertEquals(4, Errors.exitCode(new PermissionDeniedException("m", 1)));
        assertEquals(5, Errors.exitCode(new NotBlockDeviceException("m", 15)));
        assertEquals(5, Errors.exitCode(new SnapshotNotFoundException("m", 3)));
        assertEquals(5, Errors.exitCode(new FilterNotAttachedException("m", 2)));
        assertEquals(6, Errors.exitCode(new FilterAlreadyAttachedException("m", 114)));
        assertEquals(6, Errors.exitCode(new DeviceBusyException("m", 16)));
        assertEquals(6, Errors.exitCode(new SnapshotStateException("m", 114)));
        assertEquals(1, Errors.exitCode(new DiffStorageException("m", 28)));
        assertEquals(1, Errors.exitCode(new BlkSnapException("m", 5)));
        assertEquals(1, Errors.exitCode(new IOException("m")));
        assertEquals(2, Errors.exitCode(new IllegalArgumentException("m")));
        assertEquals(10, Errors.exitCode(new NoStorageSpaceException("m")));
    }
}
