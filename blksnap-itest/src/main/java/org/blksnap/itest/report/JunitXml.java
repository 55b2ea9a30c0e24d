package org.blksnap.itest.report;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Locale;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/** One test suite in the JUnit XML format Surefire and the console launcher write. */
final class JunitXml {
    record Case(String className, String name, double seconds, Outcome outcome) {
    }

    private JunitXml() {
    }

    static String render(String suite, String timestamp, double seconds, List<Case> cases) {
        StringWriter out = new StringWriter();
        try {
            XMLStreamWriter x = XMLOutputFactory.newFactory().createXMLStreamWriter(out);
            x.writeStartDocument("UTF-8", "1.0");
            x.writeCharacters("\n");
            x.writeStartElement("testsuite");
            x.writeAttribute("name", clean(suite));
            x.writeAttribute("tests", Integer.toString(cases.size()));
            x.writeAttribute("failures", count(cases, Outcome.Failed.class));
            x.writeAttribute("errors", count(cases, Outcome.Errored.class));
            x.writeAttribute("skipped", count(cases, Outcome.Skipped.class));
            x.writeAttribute("time", secs(seconds));
            x.writeAttribute("timestamp", timestamp);
            x.writeCharacters("\n");
            for (Case c : cases) {
                x.writeStartElement("testcase");
                x.writeAttribute("name", clean(c.name()));
                x.writeAttribute("classname", clean(c.className()));
                x.writeAttribute("time", secs(c.seconds()));
                switch (c.outcome()) {
                    case Outcome.Passed p -> {
                    }
                    case Outcome.Failed f -> problem(x, "failure", f.cause());
                    case Outcome.Errored e -> problem(x, "error", e.cause());
                    case Outcome.Skipped s -> {
                        x.writeStartElement("skipped");
                        if (s.reason() != null) {
                            x.writeAttribute("message", clean(s.reason()));
                        }
                        x.writeEndElement();
                    }
                }
                x.writeEndElement();
                x.writeCharacters("\n");
            }
            x.writeEndElement();
            x.writeCharacters("\n");
            x.writeEndDocument();
            x.close();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("cannot write the report of " + suite, e);
        }
        return out.toString();
    }

    private static void problem(XMLStreamWriter x, String tag, Throwable t) throws XMLStreamException {
        x.writeStartElement(tag);
        if (t.getMessage() != null) {
            x.writeAttribute("message", clean(t.getMessage()));
        }
        x.writeAttribute("type", t.getClass().getName());
        StringWriter trace = new StringWriter();
        t.printStackTrace(new PrintWriter(trace));
        x.writeCharacters(clean(trace.toString()));
        x.writeEndElement();
    }

    private static String count(List<Case> cases, Class<? extends Outcome> kind) {
        return Long.toString(cases.stream().filter(c -> kind.isInstance(c.outcome())).count());
    }

    private static String secs(double s) {
        return String.format(Locale.ROOT, "%.3f", s);
    }

    /** XML 1.0 cannot carry most control characters, whatever the escaping. */
    static String clean(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            boolean ok = c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF)
                    || (c >= 0xE000 && c <= 0xFFFD) || c >= 0x10000;
            b.appendCodePoint(ok ? c : '?');
        });
        return b.toString();
    }
}
