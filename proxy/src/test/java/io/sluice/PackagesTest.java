package io.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.Policy;
import io.sluice.fetch.Call;
import io.sluice.upstream.Upstream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The rooms of the code, read from the sources: the pipeline kernel ({@code fetch}) names no
 * transport, every stage is a {@code …Stage}, the call keeps no upstream (each hop's comes down the
 * chain), and no two packages depend on each other.
 */
class PackagesTest {
    private static final Path SOURCES = sources();
    private static final Pattern SLUICE_PACKAGE = Pattern.compile("\\bio\\.sluice\\.([a-z]+)\\.");
    private static final Pattern STAGE = Pattern.compile("\\bclass (\\w+)[^{]*\\bimplements\\b[^{]*\\bStage\\b(?!\\.)");

    @Test
    void theKernelNamesNoTransport() {
        List<String> found = new ArrayList<>();
        for (Path file : javaFiles(SOURCES.resolve("fetch"))) {
            String code = code(file);
            for (String forbidden : List.of(
                    "org.xnio.",
                    "io.undertow.",
                    "java.net.http.HttpClient",
                    "io.sluice.send.",
                    "io.sluice.connect.",
                    "io.sluice.server.",
                    "io.sluice.tls.")) {
                if (code.contains(forbidden)) found.add(SOURCES.relativize(file) + " names " + forbidden);
            }
        }
        assertThat(found).isEmpty();
    }

    @Test
    void everyStageIsNamedForItsJob() {
        List<String> stages = new ArrayList<>();
        List<String> misnamed = new ArrayList<>();
        for (Path file : javaFiles(SOURCES)) {
            Matcher m = STAGE.matcher(code(file));
            while (m.find()) {
                stages.add(m.group(1));
                if (!m.group(1).endsWith("Stage")) misnamed.add(SOURCES.relativize(file) + ": " + m.group(1));
            }
        }
        assertThat(stages).contains("ResolveUpstreamStage", "DeadlineStage", "RedirectStage", "SendStage");
        assertThat(misnamed).isEmpty();
    }

    @Test
    void theCallKeepsNoUpstream() {
        // A hop's upstream (and its policy) comes down the chain from ResolveUpstreamStage and is handed
        // on as an argument; a copy kept on the call, written by one stage for another to read, hides
        // which hop it governs (a redirect hop may have another).
        Set<Class<?>> perHop = Set.of(Upstream.class, Policy.class);
        List<String> found = new ArrayList<>();
        for (Field f : Call.class.getDeclaredFields()) {
            if (perHop.contains(f.getType()))
                found.add("field " + f.getName() + ": " + f.getType().getSimpleName());
        }
        for (Method m : Call.class.getDeclaredMethods()) {
            if (perHop.contains(m.getReturnType()) || m.getName().equals("upstream")) {
                found.add("method " + m.getName() + "(): " + m.getReturnType().getSimpleName());
            }
        }
        assertThat(found).as("what Call keeps of a hop's upstream").isEmpty();
    }

    @Test
    void noPackagesDependOnEachOther() {
        Map<String, Set<String>> uses = new TreeMap<>();
        for (Path file : javaFiles(SOURCES)) {
            if (file.getParent().equals(SOURCES))
                continue; // Main, SluiceBuilder and StandardPipeline wire every package
            String from = file.getParent().getFileName().toString();
            Set<String> to = uses.computeIfAbsent(from, p -> new TreeSet<>());
            Matcher m = SLUICE_PACKAGE.matcher(code(file));
            while (m.find()) {
                if (!m.group(1).equals(from)) to.add(m.group(1));
            }
        }
        assertThat(uses).containsKeys("fetch", "send", "limit", "cache", "redirect");
        List<String> cycles = new ArrayList<>();
        uses.forEach((from, targets) -> {
            for (String to : targets) {
                List<String> back = path(uses, to, from);
                if (back != null) cycles.add(from + " -> " + String.join(" -> ", back));
            }
        });
        assertThat(cycles).isEmpty();
    }

    /** The packages from {@code from} to {@code to} along dependencies, or null if there is no way. */
    private static List<String> path(Map<String, Set<String>> uses, String from, String to) {
        Map<String, String> cameFrom = new TreeMap<>();
        Deque<String> queue = new ArrayDeque<>(List.of(from));
        cameFrom.put(from, "");
        while (!queue.isEmpty()) {
            String at = queue.poll();
            if (at.equals(to)) {
                List<String> path = new ArrayList<>();
                for (String p = at; !p.isEmpty(); p = cameFrom.get(p)) path.add(0, p);
                return path;
            }
            for (String next : uses.getOrDefault(at, Set.of())) {
                if (cameFrom.putIfAbsent(next, at) == null) queue.add(next);
            }
        }
        return null;
    }

    /** The file's code without comments and string or character literals, which may name anything. */
    private static String code(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        StringBuilder code = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (text.startsWith("//", i)) {
                i = text.indexOf('\n', i);
                if (i < 0) break;
            } else if (text.startsWith("/*", i)) {
                int end = text.indexOf("*/", i + 2);
                i = end < 0 ? text.length() : end + 2;
                code.append(' ');
            } else if (text.startsWith("\"\"\"", i)) {
                int end = text.indexOf("\"\"\"", i + 3);
                i = end < 0 ? text.length() : end + 3;
                code.append("\"\"");
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < text.length() && text.charAt(j) != c) j += text.charAt(j) == '\\' ? 2 : 1;
                i = j + 1;
                code.append(c).append(c);
            } else {
                code.append(c);
                i++;
            }
        }
        return code.toString();
    }

    private static List<Path> javaFiles(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.toString().endsWith(".java")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path sources() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            Path sources = d.resolve("proxy/src/main/java/io/sluice");
            if (Files.isDirectory(sources)) return sources;
            if (d.getFileName() != null
                    && d.getFileName().toString().equals("proxy")
                    && Files.isDirectory(d.resolve("src/main/java/io/sluice"))) {
                return d.resolve("src/main/java/io/sluice");
            }
        }
        throw new IllegalStateException("no proxy/src/main/java/io/sluice above " + dir);
    }
}
