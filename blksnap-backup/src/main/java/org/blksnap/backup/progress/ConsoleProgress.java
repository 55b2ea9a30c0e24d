package org.blksnap.backup.progress;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.blksnap.api.Sizes;
import org.blksnap.backup.engine.ProgressListener;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress for people: a bar per task (bytes, rate, ETA) on a terminal,
 * else a plain line every few seconds and one at the end of each task.
 */
public final class ConsoleProgress {
    private ConsoleProgress() {
    }

    /** @return true if stderr is probably a terminal */
    public static boolean onTerminal() {
        return System.console() != null && System.console().isTerminal() && System.getenv("TERM") != null
                && !"dumb".equals(System.getenv("TERM"));
    }

    /**
     * @param unit   "bytes" or "chunks"
     * @param prefix line prefix, e.g. "blksnap backup create: "
     * @param err    where plain lines go
     * @return bars on a terminal, lines elsewhere
     */
    public static ProgressListener create(String unit, String prefix, PrintWriter err) {
        return onTerminal() ? new Bars(unit, System.err) : new Lines(unit, prefix, err);
    }

    /** One progress bar per task. */
    static final class Bars implements ProgressListener {
        private final String unit;
        private final PrintStream stream;
        private final Map<String, ProgressBar> bars = new ConcurrentHashMap<>();

        Bars(String unit, PrintStream stream) {
            this.unit = unit;
            this.stream = stream;
        }

        @Override
        public void start(String task, long total) {
            ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                    .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(stream))
                    .setUpdateIntervalMillis(250).showSpeed().continuousUpdate();
            if ("bytes".equals(unit)) {
                b.setUnit(" MiB", 1 << 20);
            }
            bars.put(task, b.build());
        }

        @Override
        public void advance(String task, long n) {
            ProgressBar bar = bars.get(task);
            if (bar != null) {
                bar.stepBy(n);
            }
        }

        @Override
        public void finish(String task, boolean completed) {
            ProgressBar bar = bars.remove(task);
            if (bar != null) {
                bar.close();
            }
        }
    }

    /** Log lines for files and pipes. */
    static final class Lines implements ProgressListener {
        private static final long INTERVAL_NANOS = 5_000_000_000L;
        private final String unit;
        private final String prefix;
        private final PrintWriter err;
        private final Map<String, Task> tasks = new ConcurrentHashMap<>();

        private record Task(long total, long startNanos, AtomicLong done, AtomicLong lastPrint) {
        }

        Lines(String unit, String prefix, PrintWriter err) {
            this.unit = unit;
            this.prefix = prefix;
            this.err = err;
        }

        @Override
        public void start(String task, long total) {
            long now = System.nanoTime();
            tasks.put(task, new Task(total, now, new AtomicLong(), new AtomicLong(now)));
        }

        @Override
        public void advance(String task, long n) {
            Task t = tasks.get(task);
            if (t == null) {
                return;
            }
            long done = t.done().addAndGet(n);
            long now = System.nanoTime();
            long last = t.lastPrint().get();
            if (now - last >= INTERVAL_NANOS && t.lastPrint().compareAndSet(last, now)) {
                print(task, t, done, now, false);
            }
        }

        @Override
        public void finish(String task, boolean completed) {
            Task t = tasks.remove(task);
            if (t != null && completed) {
                print(task, t, t.done().get(), System.nanoTime(), true);
            }
        }

        private void print(String task, Task t, long done, long now, boolean end) {
            double secs = Math.max(1e-3, (now - t.startNanos()) / 1e9);
            double rate = done / secs;
            StringBuilder line = new StringBuilder(prefix).append(task).append(": ");
            if ("bytes".equals(unit)) {
                line.append(Sizes.format(done)).append(" of ").append(Sizes.format(t.total()))
                        .append(String.format(" (%.0f%%), %s/s", t.total() == 0 ? 100.0 : 100.0 * done / t.total(),
                                Sizes.format((long) rate)));
            } else {
                line.append(done).append(" of ").append(t.total()).append(' ').append(unit);
            }
            if (end) {
                line.append(String.format(", done in %.1f s", secs));
            } else if (rate > 0) {
                line.append(String.format(", ETA %.0f s", (t.total() - done) / rate));
            }
            synchronized (err) {
                err.println(line);
                err.flush();
            }
        }
    }
}
