package org.blksnap.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** The run depends on the order: later scenarios use the figures of earlier ones. */
class ScenariosTest {
    @Test
    void scenariosRunInTheIssuesOrder() {
        List<Integer> numbers = Scenarios.all().stream().map(Scenario::number).toList();
        assertEquals(IntStream.rangeClosed(1, 11).boxed().toList(), numbers);
    }
}
