package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;

import org.blksnap.api.CbtInfo;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.api.SnapshotInfo;
import org.blksnap.api.Uuid;
import org.blksnap.api.Version;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class OutputTest {
    private static String print(boolean json, Map<String, ?> m) {
        StringWriter w = new StringWriter();
        new Output(new PrintWriter(w), json).print(m);
        return w.toString();
    }

    @Test
    void cbtInfoAsTextKeepsTheUpstreamKeysAndOrder() {
        CbtInfo info = new CbtInfo(1L << 30, 65536, 16384, Uuid.parse("00112233-4455-6677-8899-aabbccddeeff"), 3);
        assertEquals("""
                block_size=65536
                device_capacity=1073741824
                block_count=16384
                generation_id=00112233-4455-6677-8899-aabbccddeeff
                changes_number=3
                """, print(false, Texts.cbtInfo(info)));
    }

    @Test
    void everyKeyIsSnakeCase() {
        assertEquals("{\"a_b\":[{\"c1\":2}]}\n", print(true, Map.of("a_b", List.of(Map.of("c1", 2)))));
        for (Map<String, ?> bad : List.of(Map.of("bytesRead", 1), Map.of("ok", List.of(Map.of("Id", 1))),
                Map.of("x", Map.of("chunk-size", 1)))) {
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> print(true, bad));
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> print(false, bad));
        }
    }

    @Test
    void jsonParsesBack() throws Exception {
        CbtInfo info = new CbtInfo(1L << 30, 65536, 16384, Uuid.parse("00112233-4455-6677-8899-aabbccddeeff"), 3);
        JsonNode n = new ObjectMapper().readTree(print(true, Texts.cbtInfo(info)));
        assertEquals(65536, n.get("block_size").asInt());
        assertEquals(1L << 30, n.get("device_capacity").asLong());
        assertEquals("00112233-4455-6677-8899-aabbccddeeff", n.get("generation_id").asText());
        assertEquals(3, n.get("changes_number").asInt());

        JsonNode v = new ObjectMapper().readTree(print(true, Texts.version(new Version(1, 2, 3, 4))));
        assertEquals("1.2.3.4", v.get("version").asText());
        assertEquals(4, v.get("build").asInt());
    }

    @Test
    void snapshotInfoAndEvents() {
        assertEquals("error_code=0\nimage=\n", print(false, Texts.snapshotInfo(new SnapshotInfo(0, ""))));
        assertEquals("error_code=-28\nimage=/dev/blksnap-253-0\n",
                print(false, Texts.snapshotInfo(new SnapshotInfo(-28, "blksnap-253-0"))));
        assertEquals("result=ok\ntime=9\nevent=corrupted\ndevice=253:0\nerror=ENOSPC\nerr_code=-28\n",
                print(false, Texts.event(new SnapshotEvent.Corrupted(253, 0, 28, 9))));
        assertEquals("result=ok\ntime=9\nevent=no_space\nrequested_nr_sect=2048\n",
                print(false, Texts.event(new SnapshotEvent.NoSpace(2048, 9))));
    }

    @Test
    void lists() {
        StringWriter w = new StringWriter();
        new Output(new PrintWriter(w), false).printList("id", List.of("a", "b"));
        assertEquals("id=a\nid=b\n", w.toString());
        StringWriter j = new StringWriter();
        new Output(new PrintWriter(j), true).printList("snapshots", List.of("a", "b"));
        assertEquals("{\"snapshots\":[\"a\",\"b\"]}\n", j.toString());
    }
}
