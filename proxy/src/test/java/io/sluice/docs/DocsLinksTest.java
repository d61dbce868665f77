package io.sluice.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every relative link in README.md and docs/*.md reaches a file, and its {@code #anchor} a heading there. */
class DocsLinksTest {
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Path ROOT = root();

    @Test
    void relativeLinksAndAnchorsResolve() {
        List<String> broken = new ArrayList<>();
        int checked = 0;
        for (Path page : pages()) {
            for (String target : links(read(page))) {
                if (target.matches("^[a-z]+:.*")) continue; // https:, mailto:
                checked++;
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                Path resolved =
                        file.isEmpty() ? page : page.getParent().resolve(file).normalize();
                if (!Files.exists(resolved)) {
                    broken.add(ROOT.relativize(page) + ": " + target + " (no such file)");
                } else if (hash >= 0 && !anchors(read(resolved)).contains(target.substring(hash + 1))) {
                    broken.add(ROOT.relativize(page) + ": " + target + " (no such heading)");
                }
            }
        }
        assertThat(checked).isGreaterThan(50);
        assertThat(broken).isEmpty();
    }

    @Test
    void readmeLinksEveryDocsPage() {
        Set<String> linked = new LinkedHashSet<>(links(read(ROOT.resolve("README.md"))));
        for (Path page : pages()) {
            if (page.getParent().equals(ROOT)) continue;
            String relative = ROOT.relativize(page).toString();
            assertThat(linked).as("README links %s", relative).contains(relative);
        }
    }

    @Test
    void anchorsFollowGitHubsSlugs() {
        assertThat(anchors("## Use it through `HTTPS_PROXY`\n## State file: changes survive a restart\n## A\n## A\n"))
                .containsExactly("use-it-through-https_proxy", "state-file-changes-survive-a-restart", "a", "a-1");
    }

    /** Link targets outside code blocks. */
    private static List<String> links(String markdown) {
        List<String> found = new ArrayList<>();
        Matcher m = LINK.matcher(outsideCode(markdown));
        while (m.find()) found.add(m.group(1));
        return found;
    }

    /** GitHub's heading anchors: lower case, punctuation other than '-' and '_' dropped, spaces to '-'. */
    static Set<String> anchors(String markdown) {
        Set<String> anchors = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String line : outsideCode(markdown).split("\n")) {
            if (!line.matches("#{1,6} .*")) continue;
            String slug = line.replaceFirst("^#+ ", "")
                    .strip()
                    .toLowerCase(Locale.ROOT)
                    .replaceAll("[^\\p{L}\\p{N} _-]", "")
                    .replace(' ', '-');
            int n = seen.merge(slug, 1, Integer::sum);
            anchors.add(n == 1 ? slug : slug + "-" + (n - 1));
        }
        return anchors;
    }

    private static String outsideCode(String markdown) {
        StringBuilder out = new StringBuilder();
        boolean fence = false;
        for (String line : markdown.split("\n", -1)) {
            if (line.startsWith("```")) {
                fence = !fence;
                continue;
            }
            if (!fence) out.append(line).append('\n');
        }
        return out.toString();
    }

    private static List<Path> pages() {
        List<Path> pages = new ArrayList<>();
        pages.add(ROOT.resolve("README.md"));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pages;
    }

    private static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("docs")) && Files.isRegularFile(d.resolve("README.md"))) return d;
        }
        throw new IllegalStateException("no docs/ directory above " + dir);
    }

    private static String read(Path path) {
        try {
            return Files.readString(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
