package org.blksnap.itest.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Runs fixture classes in a launcher of its own with ClassReports and reads
 * back the reports. The fixtures are static nested classes, which Surefire
 * does not run by itself.
 */
class ClassReportsTest {
    /** Where the fixtures' reports go; read by {@link Second} while it runs. */
    static Path dir;

    @Order(1)
    static class First {
        @Test
        void passes() {
        }

        @Test
        void fails() {
            throw new AssertionError("expected 1 but was 2");
        }

        @Test
        void errs() {
            throw new IllegalStateException("device busy \u0001");
        }

        @Test
        @Disabled("not today")
        void disabled() {
        }

        @ParameterizedTest
        @ValueSource(ints = {1, 2})
        void twice(int n) {
        }
    }

    @Order(2)
    static class Second {
        @Test
        void firstClassReportIsWrittenBeforeTheNextClassRuns() throws Exception {
            Path first = dir.resolve("TEST-" + First.class.getName() + ".xml");
            assertTrue(Files.exists(first), first + " is not there while " + Second.class.getName() + " runs");
            assertEquals(Second.class.getName() + "\n", Files.readString(dir.resolve(ClassReports.RUNNING)));
        }
    }

    @Order(3)
    static class SetupFails {
        @BeforeAll
        static void setUp() {
            throw new IllegalStateException("no scratch disk");
        }

        @Test
        void a() {
        }

        @Test
        void b() {
        }
    }

    @Order(4)
    static class TeardownFails {
        @AfterAll
        static void tearDown() {
            throw new IllegalStateException("module still busy");
        }

        @Test
        void a() {
        }
    }

    @Test
    void writesOneReportPerClassWithEachOutcome(@TempDir Path tmp) throws Exception {
        dir = tmp;
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(First.class), selectClass(Second.class), selectClass(SetupFails.class),
                        selectClass(TeardownFails.class))
                .configurationParameter("junit.jupiter.testclass.order.default",
                        ClassOrderer.OrderAnnotation.class.getName())
                .build(), new ClassReports(tmp));

        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(List.of("TEST-" + First.class.getName() + ".xml", "TEST-" + Second.class.getName() + ".xml",
                    "TEST-" + SetupFails.class.getName() + ".xml", "TEST-" + TeardownFails.class.getName() + ".xml"),
                    files.map(p -> p.getFileName().toString()).sorted((a, b) -> order(a) - order(b)).toList(),
                    "one report per class, no .running or temporary file left");
        }

        Element first = suite(tmp, First.class);
        assertTrue(first.getAttribute("timestamp").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d"),
                first.getAttribute("timestamp"));
        assertEquals("6", first.getAttribute("tests"));
        assertEquals("1", first.getAttribute("failures"));
        assertEquals("1", first.getAttribute("errors"));
        assertEquals("1", first.getAttribute("skipped"));
        assertEquals("expected 1 but was 2", child(testcase(first, "fails()"), "failure").getAttribute("message"));
        Element err = child(testcase(first, "errs()"), "error");
        assertEquals(IllegalStateException.class.getName(), err.getAttribute("type"));
        assertEquals("device busy ?", err.getAttribute("message"), "a control character cannot go into XML");
        assertEquals("not today", child(testcase(first, "disabled()"), "skipped").getAttribute("message"));
        assertEquals(2, testcases(first).stream().filter(t -> t.getAttribute("name").startsWith("twice(int)")).count());

        Element second = suite(tmp, Second.class);
        assertEquals("1", second.getAttribute("tests"));
        assertEquals("0", second.getAttribute("failures"), "the first class's report was not there in time");
        assertEquals("0", second.getAttribute("errors"));

        Element setup = suite(tmp, SetupFails.class);
        assertEquals("2", setup.getAttribute("tests"), "tests that never ran after a failed @BeforeAll are counted");
        assertEquals("2", setup.getAttribute("errors"));
        assertEquals("no scratch disk", child(testcase(setup, "a()"), "error").getAttribute("message"));

        Element teardown = suite(tmp, TeardownFails.class);
        assertEquals("2", teardown.getAttribute("tests"), "a failed @AfterAll is a case of its own");
        assertEquals("1", teardown.getAttribute("errors"));
        Element afterAll = testcases(teardown).get(1);
        assertEquals(TeardownFails.class.getName(), afterAll.getAttribute("classname"));
        assertEquals("module still busy", child(afterAll, "error").getAttribute("message"));
    }

    @Test
    void withoutADirectoryNothingIsWritten(@TempDir Path tmp) throws Exception {
        dir = tmp;
        LauncherFactory.create().execute(
                LauncherDiscoveryRequestBuilder.request().selectors(selectClass(TeardownFails.class)).build(),
                new ClassReports(null));
        try (Stream<Path> files = Files.list(tmp)) {
            assertFalse(files.findAny().isPresent());
        }
    }

    private static int order(String file) {
        for (Class<?> c : List.of(First.class, Second.class, SetupFails.class, TeardownFails.class)) {
            if (file.equals("TEST-" + c.getName() + ".xml")) {
                return c.getAnnotation(Order.class).value();
            }
        }
        return 99;
    }

    private static Element suite(Path dir, Class<?> c) throws Exception {
        Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(dir.resolve("TEST-" + c.getName() + ".xml").toFile());
        Element s = d.getDocumentElement();
        assertEquals("testsuite", s.getTagName());
        assertEquals(c.getName(), s.getAttribute("name"));
        return s;
    }

    private static List<Element> testcases(Element suite) {
        NodeList n = suite.getElementsByTagName("testcase");
        return IntStream.range(0, n.getLength()).mapToObj(i -> (Element) n.item(i)).toList();
    }

    private static Element testcase(Element suite, String name) {
        return testcases(suite).stream().filter(t -> t.getAttribute("name").equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no testcase " + name));
    }

    private static Element child(Element e, String tag) {
        NodeList n = e.getElementsByTagName(tag);
        assertEquals(1, n.getLength(), "one <" + tag + "> in " + e.getAttribute("name"));
        return (Element) n.item(0);
    }
}
