package org.blksnap.bench;

import java.util.Locale;

/** The results as Markdown: the table, and the whole page around it. */
final class MarkdownReport {
    private MarkdownReport() {
    }

    /** @return the table: scenario, result, ratio to bare, target, met? */
    static String table(Results r) {
        StringBuilder b = new StringBuilder();
        b.append("| # | scenario | result | ratio to bare | target | met? |\n");
        b.append("|---|----------|-------:|--------------:|--------|------|\n");
        for (Measurement m : r.measurements()) {
            b.append("| ").append(m.scenario())
                    .append(" | ").append(cell(m.name()))
                    .append(" | ").append(Double.isNaN(m.value()) ? "—" : Format.number(m.value()) + " " + m.unit())
                    .append(" | ").append(m.ratio() == null ? "—" : Format.ratio(m.ratio()))
                    .append(" | ").append(m.target() == null ? "—" : cell(m.target().describe(m.unit())))
                    .append(" | ").append(m.verdict().label())
                    .append(" |\n");
        }
        return b.toString();
    }

    /**
     * @param r     the results
     * @param title e.g. "2026-11-23, commit abc1234"
     * @param chart the chart's file name, relative to the page
     * @param raw   the directory of the raw fio JSON, relative to the page
     * @param noise sentences on the run's noise and the host's load, or ""
     * @return the page
     */
    static String page(Results r, String title, String chart, String raw, String noise) {
        Profile p = r.profile();
        Results.Environment e = r.environment();
        StringBuilder b = new StringBuilder();
        b.append("# blksnap benchmark — ").append(title).append("\n\n");
        if (r.quick()) {
            b.append("**Quick (smoke) run: sizes and runtimes too small for the figures to mean anything; "
                    + "no target judged.**\n\n");
        }
        b.append("The guest is emulated (QEMU, TCG unless KVM was usable), so only ratios mean anything: every ")
                .append("ratio divides a figure by the bare device's figure for the same fio job in the same ")
                .append("boot, on the same disk and offsets. On a shared or loaded host every ratio is noisy.\n\n");
        if (!noise.isBlank()) {
            b.append(noise.strip()).append("\n\n");
        }
        b.append(String.format(Locale.ROOT, "Profile `%s`: region %d MiB from offset 0, random jobs %d s (after "
                + "%d s ramp), sequential jobs one pass over the region, queue depth %d, direct I/O (libaio); "
                + "%d bare/tracked pairs; %d takes per device set.%n%n", p.name(), p.regionBytes() >> 20,
                p.runtimeSeconds(), p.rampSeconds(), p.iodepth(), p.pairs(), p.takes()));
        b.append(String.format(Locale.ROOT, "Guest: kernel %s, %d CPUs, %d MiB, %s. Disks: %s. Started %s.%n%n",
                e.kernel(), e.cpus(), e.memoryKb() >> 10, e.fio(), e.disks(), r.started()));
        b.append(table(r)).append('\n');
        b.append("![ratios to bare](").append(chart).append(")\n\n");
        b.append("## Notes\n\n");
        b.append("A miss is reported with what the module's code makes it cost and what would fix it; a miss ")
                .append("smaller than the noise floor above may also be noise, to be confirmed on a quiet host.\n\n");
        for (Measurement m : r.measurements()) {
            if (m.verdict() == Verdict.MISSED) {
                b.append("- **").append(m.name()).append("** missed ")
                        .append(m.target().describe(m.unit())).append(": ").append(m.target().ifMissed());
                if (!m.note().isEmpty()) {
                    b.append(" (").append(m.note()).append(')');
                }
                b.append('\n');
            } else if (!m.note().isEmpty()) {
                b.append("- ").append(m.name()).append(": ").append(m.note()).append('\n');
            }
        }
        b.append("\nRaw fio output, one JSON file per job, and results.json: [`").append(raw).append("/`](")
                .append(raw).append(").\n");
        return b.toString();
    }

    /** Table cells must not break the row. */
    private static String cell(String s) {
        return s.replace("|", "\\|");
    }
}
