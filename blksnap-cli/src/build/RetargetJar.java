/*
 * Build step: rewrites the class files of a jar compiled for Java 5 or older
 * as Java 8 class files, with stack maps, in place.
 *
 * Why: the JVM refuses to put such "old" classes into a class-data-sharing
 * archive, and picocli ships as Java 5 bytecode. Without this the launcher's
 * AppCDS archive holds the JDK but not picocli, and 'blksnap --help' spends
 * most of its start-up loading and verifying picocli with the old verifier.
 * The rewrite changes no instruction: only the version and the stack map
 * frames the new verifier needs (computed by java.lang.classfile).
 *
 * Usage: java RetargetJar.java JAR
 */
import java.io.IOException;
import java.io.OutputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

public class RetargetJar {
    private static final int OLD = 50;
    private static final int TARGET = 52;

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: java RetargetJar.java JAR");
        }
        Path jar = Path.of(args[0]);
        Path tmp = jar.resolveSibling(jar.getFileName() + ".tmp");
        int rewritten = 0;
        try (URLClassLoader loader = new URLClassLoader(new java.net.URL[] {jar.toUri().toURL()},
                ClassLoader.getPlatformClassLoader());
             JarFile in = new JarFile(jar.toFile());
             OutputStream os = Files.newOutputStream(tmp);
             JarOutputStream out = new JarOutputStream(os)) {
            // Stack maps name common super types: resolve picocli's own
            // classes from the jar, the JDK's from the system.
            ClassFile cf = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
                    ClassHierarchyResolver.defaultResolver().orElse(
                            ClassHierarchyResolver.ofResourceParsing(loader))));
            for (JarEntry e : Collections.list(in.entries())) {
                byte[] bytes = in.getInputStream(e).readAllBytes();
                if (e.getName().endsWith(".class") && !e.getName().startsWith("META-INF/")) {
                    ClassModel model = cf.parse(bytes);
                    if (model.majorVersion() < OLD) {
                        bytes = cf.transformClass(model,
                                ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)
                                        .andThen((builder, element) -> builder.with(
                                                element instanceof ClassFileVersion
                                                        ? ClassFileVersion.of(TARGET, 0) : element)));
                        rewritten++;
                    }
                }
                JarEntry copy = new JarEntry(e.getName());
                copy.setTime(e.getTime());
                out.putNextEntry(copy);
                out.write(bytes);
                out.closeEntry();
            }
        }
        if (rewritten == 0) {
            Files.delete(tmp);
            return;
        }
        Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("RetargetJar: " + rewritten + " classes of " + jar.getFileName() + " now version "
                + TARGET);
    }
}
