package org.blksnap.itest.report;

import org.junit.platform.engine.TestExecutionResult;

/** How one test case ended, as a JUnit XML report tells it. */
sealed interface Outcome {
    record Passed() implements Outcome {
    }

    /** An assertion did not hold: a {@code <failure>}. */
    record Failed(Throwable cause) implements Outcome {
    }

    /** Anything else was thrown: an {@code <error>}. */
    record Errored(Throwable cause) implements Outcome {
    }

    /** Disabled, or an assumption did not hold. */
    record Skipped(String reason) implements Outcome {
    }

    static Outcome of(TestExecutionResult r) {
        return switch (r.getStatus()) {
            case SUCCESSFUL -> new Passed();
            case ABORTED -> new Skipped(r.getThrowable().map(Throwable::getMessage).orElse("aborted"));
            case FAILED -> {
                Throwable t = r.getThrowable().orElseGet(() -> new AssertionError("failed without an exception"));
                yield t instanceof AssertionError ? new Failed(t) : new Errored(t);
            }
        };
    }
}
