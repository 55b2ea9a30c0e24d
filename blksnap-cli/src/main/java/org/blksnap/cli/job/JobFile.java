package org.blksnap.cli.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.blksnap.api.Sizes;
import org.blksnap.backup.engine.MaxUnused;
import org.blksnap.backup.hooks.HookFailurePolicy;
import org.blksnap.backup.retention.Within;
import org.blksnap.cli.Converters;
import org.blksnap.cli.job.JobConfig.Retention;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;

/**
 * A job file, read and checked whole before anything runs: an unknown key,
 * a value of the wrong kind or a relative path is one line naming the file
 * and the key, never a half-run job.
 *
 * @param name   the job's name (the file's name without .conf)
 * @param file   where it was read
 * @param config what it says
 */
public record JobFile(String name, Path file, JobConfig config) {
    /** Where {@code backup run NAME} looks. */
    public static final Path DEFAULT_DIR = Path.of("/etc/blksnap/jobs");
    /** The timer's schedule when the job names none. */
    public static final String DEFAULT_SCHEDULE = "daily";
    /** How long each step waits for the repository when the job does not say: a timer should wait, not fail. */
    public static final String DEFAULT_LOCK_WAIT = "10m";

    /** Names that are also valid systemd instance names and file names. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final Pattern COUNT = Pattern.compile("\\d{1,9}|unlimited");
    private static final Pattern PERCENT = Pattern.compile("(100|[1-9]?\\d)%");

    private static final ObjectMapper TOML = TomlMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /**
     * @param nameOrFile a job name (looked up in {@code dir}) or a path to a job file (with a '/')
     * @param dir        the jobs directory
     * @return the job, checked
     * @throws JobFileException if there is no such job or the file is not a valid one
     * @throws IOException      if the file cannot be read
     */
    public static JobFile find(String nameOrFile, Path dir) throws IOException {
        Path file;
        String name;
        if (nameOrFile.contains("/")) {
            file = Path.of(nameOrFile);
            String base = file.getFileName().toString();
            name = base.endsWith(".conf") ? base.substring(0, base.length() - ".conf".length()) : base;
        } else {
            name = nameOrFile;
            file = dir.resolve(name + ".conf");
        }
        if (!NAME.matcher(name).matches()) {
            throw new JobFileException("invalid job name '" + name + "': letters, digits, '_', '.' and '-', "
                    + "starting with a letter or digit, at most 64");
        }
        if (!Files.isRegularFile(file)) {
            throw new JobFileException("no job '" + name + "': " + file + (Files.exists(file) ? " is not a file"
                    : " does not exist"));
        }
        return parse(name, file, Files.readString(file));
    }

    /**
     * @param name the job's name
     * @param file where the text came from, for messages
     * @param text the TOML
     * @return the job, checked
     * @throws JobFileException if the text is not a valid job
     */
    public static JobFile parse(String name, Path file, String text) {
        JobConfig c;
        try {
            c = TOML.readValue(text, JobConfig.class);
        } catch (UnrecognizedPropertyException e) {
            throw new JobFileException(file + where(e) + ": unknown key '" + e.getPropertyName() + "'"
                    + section(e) + " (keys: " + String.join(", ", knownKeys(e)) + ")");
        } catch (MismatchedInputException e) {
            throw new JobFileException(file + where(e) + ": " + key(e) + "expected " + kind(e.getTargetType()));
        } catch (JsonMappingException e) {
            throw new JobFileException(file + where(e) + ": " + key(e) + e.getOriginalMessage()
                    .replaceAll("\\s*\\n.*", ""));
        } catch (IOException e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage().replaceAll("\\s*\\n.*", "");
            throw new JobFileException(file + ": not valid TOML: " + m);
        }
        if (c == null) {
            throw new JobFileException(file + ": empty: a job needs devices and repository");
        }
        JobFile job = new JobFile(name, file, c);
        job.check();
        return job;
    }

    private void check() {
        JobConfig c = config;
        if (c.devices() == null || c.devices().isEmpty()) {
            throw bad("devices", "missing: the block devices to back up, e.g. devices = [\"/dev/vdb\"]");
        }
        for (String d : c.devices()) {
            absolute("devices", d);
        }
        if (c.repository() == null || c.repository().isBlank()) {
            throw bad("repository", "missing: a directory or s3:... URL");
        }
        if (!c.repository().startsWith("s3:")) {
            absolute("repository", c.repository());
        }
        int secrets = (c.passwordFile() != null ? 1 : 0) + (c.keyFile() != null ? 1 : 0)
                + (c.passwordCommand() != null ? 1 : 0);
        if (secrets > 1) {
            throw bad("password_file", "give one of password_file, key_file and password_command");
        }
        if (c.passwordFile() != null) {
            absolute("password_file", c.passwordFile());
        }
        if (c.keyFile() != null) {
            absolute("key_file", c.keyFile());
        }
        if (c.encryption() != null && !List.of("aes-256-gcm", "none").contains(c.encryption())) {
            throw bad("encryption", "'" + c.encryption() + "': expected aes-256-gcm or none");
        }
        if (c.lockWait() != null) {
            duration("lock_wait", c.lockWait());
        }
        if (c.schedule() != null && (c.schedule().isBlank() || !c.schedule().matches("[\\x20-\\x7e]+"))) {
            throw bad("schedule", "'" + c.schedule() + "': expected a systemd calendar event, e.g. daily or "
                    + "*-*-* 02:30");
        }
        if (c.storage() != null) {
            if (c.storage().path() != null) {
                absolute("storage.path", c.storage().path());
            }
            if (c.storage().limit() != null) {
                size("storage.limit", c.storage().limit());
            }
        }
        if (c.hooks() != null) {
            if (c.hooks().dir() != null) {
                absolute("hooks.dir", c.hooks().dir());
            }
            if (c.hooks().timeout() != null) {
                duration("hooks.timeout", c.hooks().timeout());
            }
            if (c.hooks().failure() != null) {
                try {
                    HookFailurePolicy.of(c.hooks().failure());
                } catch (IllegalArgumentException e) {
                    throw bad("hooks.failure", "'" + c.hooks().failure() + "': expected abort or ignore");
                }
            }
        }
        if (c.retention() != null) {
            checkRetention(c.retention());
        }
        if (c.check() != null && c.check().readDataSubset() != null) {
            if (Boolean.TRUE.equals(c.check().readData())) {
                throw bad("check.read_data_subset", "give read_data or read_data_subset, not both");
            }
            if (!PERCENT.matcher(c.check().readDataSubset()).matches()) {
                throw bad("check.read_data_subset", "'" + c.check().readDataSubset() + "': expected a share "
                        + "such as 5%");
            }
        }
    }

    private void checkRetention(Retention r) {
        String[][] counts = {{"keep_last", r.keepLast()}, {"keep_hourly", r.keepHourly()},
            {"keep_daily", r.keepDaily()}, {"keep_weekly", r.keepWeekly()}, {"keep_monthly", r.keepMonthly()},
            {"keep_yearly", r.keepYearly()}};
        boolean any = false;
        for (String[] kv : counts) {
            if (kv[1] != null) {
                if (!COUNT.matcher(kv[1]).matches()) {
                    throw bad("retention." + kv[0], "'" + kv[1] + "': expected 0 or more, or \"unlimited\"");
                }
                any |= !"0".equals(kv[1].replaceFirst("^0+(?=\\d)", ""));
            }
        }
        if (r.keepWithin() != null) {
            try {
                any |= !Within.parse(r.keepWithin()).isZero();
            } catch (IllegalArgumentException e) {
                throw bad("retention.keep_within", e.getMessage());
            }
        }
        if (!any) {
            throw bad("retention", "keeps nothing: give at least one keep_* rule (e.g. keep_last = 7), or leave "
                    + "[retention] out to keep every backup");
        }
        if (r.groupBy() != null && !List.of("device", "device-tags", "none").contains(r.groupBy())) {
            throw bad("retention.group_by", "'" + r.groupBy() + "': expected device, device-tags or none");
        }
        if (r.maxUnused() != null) {
            try {
                MaxUnused.parse(r.maxUnused());
            } catch (IllegalArgumentException e) {
                throw bad("retention.max_unused", e.getMessage().replaceFirst("^--max-unused: ", ""));
            }
        }
    }

    /** @return the arguments of the 'backup create' this job runs */
    public List<String> createArgs() {
        JobConfig c = config;
        List<String> a = new ArrayList<>(List.of("backup", "create", "--job", name));
        for (String d : c.devices()) {
            a.addAll(List.of("--device", d));
        }
        repoArgs(a);
        opt(a, "--encryption", c.encryption());
        opt(a, "--tag", c.tag());
        if (c.storage() != null) {
            opt(a, "--storage", c.storage().path());
            opt(a, "--limit", c.storage().limit());
        }
        if (c.hooks() != null) {
            opt(a, "--hooks-dir", c.hooks().dir());
            opt(a, "--hooks-timeout", c.hooks().timeout());
            opt(a, "--hooks-failure", c.hooks().failure());
        }
        return a;
    }

    /** @return the arguments of the 'backup prune' after a successful backup, or none without [retention] */
    public List<String> pruneArgs() {
        Retention r = config.retention();
        if (r == null) {
            return List.of();
        }
        List<String> a = new ArrayList<>(List.of("backup", "prune"));
        repoArgs(a);
        opt(a, "--keep-last", r.keepLast());
        opt(a, "--keep-hourly", r.keepHourly());
        opt(a, "--keep-daily", r.keepDaily());
        opt(a, "--keep-weekly", r.keepWeekly());
        opt(a, "--keep-monthly", r.keepMonthly());
        opt(a, "--keep-yearly", r.keepYearly());
        opt(a, "--keep-within", r.keepWithin());
        opt(a, "--group-by", r.groupBy());
        opt(a, "--max-unused", r.maxUnused());
        return a;
    }

    /** @return the arguments of the 'backup check' after prune, or none without [check] */
    public List<String> checkArgs() {
        JobConfig.Check k = config.check();
        if (k == null) {
            return List.of();
        }
        List<String> a = new ArrayList<>(List.of("backup", "check"));
        repoArgs(a);
        if (Boolean.TRUE.equals(k.readData())) {
            a.add("--read-data");
        }
        opt(a, "--read-data-subset", k.readDataSubset());
        return a;
    }

    /** @return when the timer runs the job */
    public String schedule() {
        return config.schedule() != null ? config.schedule() : DEFAULT_SCHEDULE;
    }

    private void repoArgs(List<String> a) {
        JobConfig c = config;
        a.addAll(List.of("--repo", c.repository(), "--lock-wait",
                c.lockWait() != null ? c.lockWait() : DEFAULT_LOCK_WAIT));
        opt(a, "--password-file", c.passwordFile());
        opt(a, "--key-file", c.keyFile());
        opt(a, "--password-command", c.passwordCommand());
    }

    private static void opt(List<String> a, String option, String value) {
        if (value != null) {
            a.add(option);
            a.add(value);
        }
    }

    private void absolute(String key, String path) {
        if (path == null || path.isEmpty() || !Path.of(path).isAbsolute()) {
            throw bad(key, "'" + path + "': give an absolute path (a timer runs the job from /)");
        }
    }

    private void size(String key, String value) {
        try {
            if (Sizes.parseBytes(value) <= 0) {
                throw new IllegalArgumentException("size must be positive");
            }
        } catch (IllegalArgumentException e) {
            throw bad(key, e.getMessage());
        }
    }

    private void duration(String key, String value) {
        try {
            new Converters.Wait().convert(value);
        } catch (RuntimeException e) {
            throw bad(key, "'" + value + "': expected a duration such as 30s, 10m, 1h");
        }
    }

    private JobFileException bad(String key, String what) {
        return new JobFileException(file + ": " + key + ": " + what);
    }

    /** @return what a key of this type looks like in TOML */
    private static String kind(Class<?> type) {
        if (type == null) {
            return "another kind of value";
        }
        if (java.util.Collection.class.isAssignableFrom(type)) {
            return "a list, e.g. [\"/dev/vdb\"]";
        }
        if (type.isRecord()) {
            return "a [section]";
        }
        if (type == Boolean.class) {
            return "true or false";
        }
        return "a string or number";
    }

    private static String where(JsonMappingException e) {
        JsonLocation l = e.getLocation();
        return l != null && l.getLineNr() > 0 ? " line " + l.getLineNr() : "";
    }

    private static String key(JsonMappingException e) {
        String path = String.join(".", e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName()
                : "[" + r.getIndex() + "]").toList()).replace(".[", "[");
        return path.isEmpty() ? "" : path + ": ";
    }

    private static String section(UnrecognizedPropertyException e) {
        List<JsonMappingException.Reference> p = e.getPath();
        return p.size() > 1 ? " in [" + p.getFirst().getFieldName() + "]" : "";
    }

    private static List<String> knownKeys(UnrecognizedPropertyException e) {
        return e.getKnownPropertyIds().stream().map(Object::toString).sorted().toList();
    }
}
