package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class ListenAddressTest {
    @Test
    void parsesHostAndPort() {
        assertEquals(new ListenAddress.Tcp("127.0.0.1", 10809), ListenAddress.parseTcp("127.0.0.1:10809"));
        assertEquals(new ListenAddress.Tcp("::1", 10809), ListenAddress.parseTcp("[::1]:10809"));
        assertEquals(new ListenAddress.Tcp("localhost", 0), ListenAddress.parseTcp("localhost:0"));
    }

    @Test
    void refusesWhatIsNotAddrPort() {
        for (String bad : new String[] {":10809", "10809", "host:", "::1:10809", "host:port", "host:70000", ""}) {
            assertThrows(IllegalArgumentException.class, () -> ListenAddress.parseTcp(bad), bad);
        }
    }

    @Test
    void urisAsLibnbdWritesThem() {
        assertEquals("nbd+unix:///vdb?socket=/run/blksnap/x.sock",
                new ListenAddress.Unix(Path.of("/run/blksnap/x.sock")).uri("vdb"));
        assertEquals("nbd://[::1]:10809/mapper%2Fvg-lv", new ListenAddress.Tcp("::1", 10809).uri("mapper/vg-lv"));
    }
}
