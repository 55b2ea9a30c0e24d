package org.blksnap.backup.repo;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Objects;
import java.util.Optional;

/**
 * SHA-256 of a chunk by the system's libcrypto (OpenSSL 3's one-shot
 * {@code SHA256()}, which uses the CPU's SHA instructions), called through
 * the FFM API on the Java array itself (a critical downcall: no copy).
 *
 * <p>Why: the JDK's SHA-256 is fast only once C2 has compiled it with its
 * intrinsic (C1 and the interpreter hash at 25-50 MiB/s). With the hashing
 * in native code, as zstd already is, a backup of a plain repository needs
 * no C2 at all, and the launcher can run it with C1 alone: measured on a
 * 1 GiB ext4 image, 22% less CPU for the full and 30% less for a small
 * incremental (C2's compilations are most of what a process pays besides
 * its start). Without the library, or with {@code -Dblksnap.native-sha=false},
 * {@link ChunkId#of} uses the JDK's digest; the ids are the same.
 */
@SuppressWarnings("restricted")
final class NativeSha256 {
    /** The system property that turns the native digest off. */
    static final String PROPERTY = "blksnap.native-sha";
    private static final MethodHandle SHA256 = load();

    private NativeSha256() {
    }

    private static MethodHandle load() {
        if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))) {
            return null;
        }
        for (String lib : new String[] {"libcrypto.so.3", "libcrypto.so"}) {
            try {
                Optional<MemorySegment> f = SymbolLookup.libraryLookup(lib, Arena.global()).find("SHA256");
                if (f.isPresent()) {
                    return Linker.nativeLinker().downcallHandle(f.get(),
                            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                                    ValueLayout.ADDRESS),
                            Linker.Option.critical(true));
                }
            } catch (IllegalArgumentException | IllegalCallerException | UnsupportedOperationException e) {
                // Not there, or native access denied: the JDK's digest serves.
            }
        }
        return null;
    }

    /** @return true if the native digest is in use */
    static boolean available() {
        return SHA256 != null;
    }

    /**
     * @param data   buffer
     * @param length bytes of it
     * @param out    32 bytes for the digest
     * @throws IndexOutOfBoundsException if length is beyond data, or out is short (native code would
     *                                   read or write past the array)
     */
    static void digest(byte[] data, int length, byte[] out) {
        Objects.checkFromIndexSize(0, length, data.length);
        Objects.checkFromIndexSize(0, ChunkId.BYTES, out.length);
        try {
            MemorySegment unused = (MemorySegment) SHA256.invokeExact(MemorySegment.ofArray(data), (long) length,
                    MemorySegment.ofArray(out));
        } catch (Throwable t) {
            throw new IllegalStateException("libcrypto's SHA256 failed", t);
        }
    }
}
