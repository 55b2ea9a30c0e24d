package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * On the host, after the guest run: the Markdown table, the PNG chart,
 * the raw JSON next to them, the README section; or, for the smoke run,
 * the one-test JUnit report.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Write the table (Markdown) and the chart (PNG) of a run's results.json.",
            "Without --publish they go into RUN_DIR as report.md and ratios.png."})
final class ReportCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RUN_DIR", description = "the directory 'run --out' wrote")
    private Path runDir;

    @Option(names = "--publish", paramLabel = "DIR",
            description = "write DIR/<date>-<commit>.md and .png, and copy the raw JSON to DIR/<date>-<commit>/")
    private Path publish;

    @Option(names = "--readme", paramLabel = "FILE",
            description = "replace the section between the bench:latest markers of FILE with the new table")
    private Path readme;

    @Option(names = "--junit", paramLabel = "FILE",
            description = "smoke check: write one JUnit test case, failed if the run failed or its results are invalid")
    private Path junit;

    @Option(names = "--guest-status", defaultValue = "0", description = "exit status of the guest run")
    private int guestStatus;

    @Option(names = "--commit", description = "commit label (default: git describe of the work tree)")
    private String commit;

    @Override
    public Integer call() throws Exception {
        if (junit != null) {
            return smoke();
        }
        Results r = Results.read(runDir);
        String label = commit != null ? commit : gitCommit();
        String date = r.started().substring(0, 10);
        String name = date + "-" + label;
        Path dir = publish != null ? publish : runDir;
        String md = publish != null ? name + ".md" : "report.md";
        String png = publish != null ? name + ".png" : "ratios.png";
        String raw = publish != null ? name : ".";
        Files.createDirectories(dir);
        RatioChart.write(r, dir.resolve(png), "blksnap: ratios to the bare device, " + date + ", " + label);
        String noise = Noise.describe(runDir) + " " + Noise.hostLoad();
        Files.writeString(dir.resolve(md), MarkdownReport.page(r, date + ", commit " + label, png, raw, noise));
        if (publish != null) {
            copyRaw(dir.resolve(name));
        }
        System.out.println("report: " + dir.resolve(md) + ", chart: " + dir.resolve(png));
        if (readme != null) {
            Path rel = readme.toAbsolutePath().getParent().relativize(dir.toAbsolutePath());
            String link = rel.toString().isEmpty() ? "" : rel + "/";
            ReadmeSection.update(readme, "Latest run: " + date + ", commit " + label + " (full page with the "
                    + "notes on every miss: [" + link + md + "](" + link + md + ")). " + noise.strip() + "\n\n"
                    + MarkdownReport.table(r) + "\n![ratios to bare](" + link + png + ")\n");
            System.out.println("report: updated " + readme);
        }
        return 0;
    }

    private int smoke() throws IOException {
        List<String> problems = new ArrayList<>();
        if (guestStatus != 0) {
            problems.add("the guest run of 'blksnap-bench run --quick' exited with status " + guestStatus);
        }
        try {
            Results r = Results.read(runDir);
            problems.addAll(SmokeCheck.problems(r, runDir));
            if (problems.isEmpty()) {
                // The report path is part of what the smoke run proves works.
                RatioChart.write(r, runDir.resolve("ratios.png"), "blksnap smoke run");
                Files.writeString(runDir.resolve("report.md"), MarkdownReport.page(r, "quick run", "ratios.png", ".",
                        Noise.describe(runDir)));
            }
        } catch (IOException | RuntimeException e) {
            problems.add(e.toString());
        }
        SmokeCheck.writeJUnit(junit, problems, 0);
        problems.forEach(p -> System.err.println("bench smoke: " + p));
        System.out.println("bench smoke: " + (problems.isEmpty() ? "passed" : "FAILED") + " (" + junit + ")");
        return problems.isEmpty() ? 0 : 1;
    }

    private void copyRaw(Path target) throws IOException {
        Files.createDirectories(target);
        try (var files = Files.list(runDir)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                Files.copy(f, target.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** @return the short commit, with "-dirty" when tracked files differ from it */
    private static String gitCommit() throws IOException {
        String hash = git("rev-parse", "--short", "HEAD");
        return git("status", "--porcelain", "--untracked-files=no").isEmpty() ? hash : hash + "-dirty";
    }

    private static String git(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        return Guest.sh(cmd);
    }
}
