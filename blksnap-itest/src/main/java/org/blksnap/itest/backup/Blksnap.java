package org.blksnap.itest.backup;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;

import org.blksnap.cli.Main;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The blksnap command in this JVM (no JVM start per call under TCG). */
final class Blksnap {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Blksnap() {
    }

    /** What a command printed and returned. */
    record Result(int status, String out, String err) {
        Result ok() {
            if (status != 0) {
                throw new AssertionError("exit " + status + "\nstdout: " + out + "\nstderr: " + err);
            }
            return this;
        }

        JsonNode json() throws IOException {
            return JSON.readTree(out);
        }

        long errLines() {
            return err.lines().count();
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(status, out.toString(), err.toString());
    }
}
