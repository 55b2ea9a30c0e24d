package org.blksnap.cli.commands;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.KeyRing;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.RepositoryException;
import org.blksnap.backup.repo.Secret;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;
import org.blksnap.cli.UsageException;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blksnap backup key}: the passwords and key files of an encrypted repository. */
@Command(name = "key", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = {"The keys of an encrypted repository. Each key is a password or a key file wrapping the "
                + "same random master key, so any one of them opens the repository, and adding, changing or "
                + "removing one never re-encrypts the data.",
            "",
            "Every command but list first opens the repository with an existing key (--key-file, "
                    + "--password-command, $" + Secrets.PASSWORD_FILE_ENV + " or the terminal). The new password "
                    + "of add and passwd comes from --new-key-file, --new-password-command, $"
                    + Secrets.NEW_PASSWORD_FILE_ENV + " or the terminal (asked twice).",
            "",
            "Lose every password and key file, and the backups are lost: nobody can decrypt them."},
        footer = {"", "Examples:",
            "  blksnap backup key list --repo /backup/vdb",
            "  head -c 64 /dev/urandom > /root/vdb.key && chmod 600 /root/vdb.key",
            "  blksnap backup key add --repo /backup/vdb --new-key-file /root/vdb.key",
            "  blksnap backup key passwd --repo /backup/vdb",
            "  blksnap backup key remove 1f2e3d4c --repo /backup/vdb --key-file /root/vdb.key"},
        subcommands = {KeyCommand.Add.class, KeyCommand.ListKeys.class, KeyCommand.Remove.class,
            KeyCommand.Passwd.class})
public final class KeyCommand extends BaseCommand {
    @Override
    public Integer call() {
        throw new UsageException("missing command: add, list, remove or passwd (see 'blksnap backup key --help')");
    }

    /**
     * @param memory     Argon2id memory in bytes, or null for the default
     * @param iterations Argon2id passes, or null for the default
     * @return the cost
     */
    static KeyRing.Argon2 cost(Long memory, Integer iterations) {
        KeyRing.Argon2 d = KeyRing.Argon2.DEFAULT;
        int kib = memory == null ? d.memoryKib() : (int) Math.min(Integer.MAX_VALUE, memory >> 10);
        return new KeyRing.Argon2(kib, iterations == null ? d.iterations() : iterations, d.parallelism());
    }

    /** The options naming the new secret of add and passwd. */
    static final class NewSecret {
        @Option(names = "--new-key-file", paramLabel = "FILE",
                description = "The new key is this key file (at least 32 random bytes) instead of a password.")
        Path keyFile;

        @Option(names = "--new-password-command", paramLabel = "COMMAND",
                description = "A command printing the new password on its first line.")
        String command;

        @Option(names = "--kdf-memory", paramLabel = "SIZE", converter = org.blksnap.cli.Converters.Size.class,
                description = "Argon2id memory for the new password (default: 64M).")
        Long kdfMemory;

        @Option(names = "--kdf-iterations", paramLabel = "N",
                description = "Argon2id passes for the new password (default: 3).")
        Integer kdfIterations;

        Secret.Source source(RepoOption repo) {
            return Secrets.source(keyFile, Secrets.NEW_PASSWORD_FILE_ENV, command, "New password for " + repo.location(),
                    true);
        }
    }

    /** What a key command does once the repository is held alone and open with an existing key. */
    @FunctionalInterface
    interface KeyChange {
        /**
         * @param store  the repository's store, held exclusively
         * @param opened the master key and the key that opened it
         * @return the line to print
         * @throws java.io.IOException if the key object cannot be changed
         */
        String apply(ChunkStore store, KeyRing.Unlocked opened) throws java.io.IOException;
    }

    /** Only a holder of a key may change keys: opens the repository alone with one, then changes. */
    static void changeKeys(BaseCommand cmd, RepoOption repo, KeyChange change) throws java.io.IOException {
        Secret current = repo.secrets().get();
        try (Repository r = Repository.open(repo.store(), ChunkStore.LockMode.EXCLUSIVE, repo.lockWait,
                () -> current)) {
            if (!r.config().encrypted()) {
                throw new RepositoryException(repo.location() + " is not encrypted: it has no keys");
            }
            cmd.note(change.apply(r.store(), KeyRing.unlock(r.store(), current)));
        }
    }

    /** {@code key add}. */
    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add a password or key file that opens the repository.")
    static final class Add extends BaseCommand {
        @Mixin
        RepoOption repo;
        @Mixin
        NewSecret next;

        @Override
        public Integer call() throws Exception {
            changeKeys(this, repo, (store, u) -> "added key " + KeyRing.add(store, u.master(),
                    next.source(repo).get(), cost(next.kdfMemory, next.kdfIterations)));
            return 0;
        }
    }

    /** {@code key passwd}. */
    @Command(name = "passwd", mixinStandardHelpOptions = true,
            description = "Replace the key that opens the repository now by a new password or key file.")
    static final class Passwd extends BaseCommand {
        @Mixin
        RepoOption repo;
        @Mixin
        NewSecret next;

        @Override
        public Integer call() throws Exception {
            changeKeys(this, repo, (store, u) -> "key " + u.keyId() + " replaced by key " + KeyRing.replace(store,
                    u, next.source(repo).get(), cost(next.kdfMemory, next.kdfIterations)));
            return 0;
        }
    }

    /** {@code key remove}. */
    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove a key (not the last one). The data stays encrypted with the same master key: "
                    + "someone who kept a copy of the removed key and of the key object can still open it.")
    static final class Remove extends BaseCommand {
        @Parameters(paramLabel = "ID", description = "The key, as 'key list' shows it.")
        String id;
        @Mixin
        RepoOption repo;

        @Override
        public Integer call() throws Exception {
            changeKeys(this, repo, (store, u) -> {
                KeyRing.remove(store, id);
                return "removed key " + id;
            });
            return 0;
        }
    }

    /** {@code key list}. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the keys: id, kind (password or key file), Argon2id cost, when it was added. "
                    + "Needs no password.")
    static final class ListKeys extends BaseCommand {
        @Mixin
        RepoOption repo;
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws Exception {
            ChunkStore store = repo.store();
            if (!store.exists()) {
                throw new RepositoryException(repo.location() + " is not a blksnap backup repository");
            }
            KeyRing.Ring ring;
            // Shared: a key change (exclusive) is not half seen. No password: the list shows no secret.
            ChunkStore.Lock lock = store.lock(ChunkStore.LockMode.SHARED, repo.lockWait);
            try {
                if (store.size(ChunkStore.Kind.CONFIG, KeyRing.OBJECT) < 0) {
                    throw new RepositoryException(repo.location() + " is not encrypted: it has no keys");
                }
                ring = KeyRing.read(store);
            } finally {
                lock.close();
            }
            if (json.json) {
                List<Map<String, Object>> keys = new ArrayList<>();
                for (KeyRing.Key k : ring.keys()) {
                    Map<String, Object> o = Output.record();
                    o.put("id", k.id());
                    o.put("kind", kind(k));
                    o.put("created", k.created());
                    if (k.kdf() != null && KeyRing.ARGON2ID.equals(k.kdf().algorithm())) {
                        o.put("memory_kib", k.kdf().memoryKib());
                        o.put("iterations", k.kdf().iterations());
                        o.put("parallelism", k.kdf().parallelism());
                    }
                    keys.add(o);
                }
                new Output(out(), true).print(Map.of("keys", keys));
            } else {
                out().printf("%-8s  %-8s  %-22s  %s%n", "ID", "KIND", "ARGON2ID", "ADDED");
                for (KeyRing.Key k : ring.keys()) {
                    String cost = k.kdf() != null && KeyRing.ARGON2ID.equals(k.kdf().algorithm())
                            ? k.kdf().memoryKib() / 1024 + "M, t=" + k.kdf().iterations() + ", p="
                                    + k.kdf().parallelism()
                            : "-";
                    out().printf("%-8s  %-8s  %-22s  %s%n", k.id(), kind(k), cost, k.created());
                }
                out().flush();
            }
            return 0;
        }

        private static String kind(KeyRing.Key k) {
            return k.kdf() != null && KeyRing.KEY_FILE.equals(k.kdf().algorithm()) ? "key-file" : "password";
        }
    }
}
