package org.blksnap.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {

    @ParameterizedTest
    @CsvSource({
        "4096, 4096", "1K, 1024", "1k, 1024", "512M, 536870912", "4G, 4294967296", "4GiB, 4294967296",
        "4GB, 4294967296", "2T, 2199023255552", "1.5G, 1610612736", "8s, 4096", "0, 0", "' 3M ', 3145728",
        "100b, 100"})
    void parses(String text, long bytes) {
        assertEquals(bytes, Sizes.parseBytes(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "G", "4X", "-1G", "4 G G", "1e3", "99999999999999999999", "9000000P", "0x10"})
    void rejectsWithActionableMessage(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parseBytes(text));
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"1, 1", "512, 1", "513, 2", "4G, 8388608"})
    void sectorsRoundUp(String text, long sectors) {
        assertEquals(sectors, Sizes.parseSectors(text));
    }

    @ParameterizedTest
    @CsvSource({"0, 0B", "1023, 1023B", "1024, 1K", "1536, 1.5K", "4294967296, 4G"})
    void formats(long bytes, String text) {
        assertEquals(text, Sizes.format(bytes));
    }
}
