package io.sluice.config;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The "Every key" table of docs/configuration.md, generated from the keys each section codec
 * reads, so the page cannot drift from the loader. ConfigReferenceTest fails when the page's table
 * is not this one, and rewrites it when run with {@code -Dsluice.docs.write=true}.
 */
final class ConfigReference {
    static final String BEGIN =
            "<!-- generated from the config codecs (io.sluice.config.*Codec): edit their KEYS, then run"
                    + " ConfigReferenceTest with -Dsluice.docs.write=true -->";
    static final String END = "<!-- end of the generated table -->";

    /** A {@code |} not escaped as {@code \|} would end a table cell. */
    private static final Pattern BARE_BAR = Pattern.compile("(?<!\\\\)\\|");

    private ConfigReference() {}

    /** Every key, in the page's order: the data port and server, admin, the shared cache, upstreams, policy, TLS, tracing, logs, Redis. */
    static List<ConfigKey> keys() {
        List<ConfigKey> keys = new ArrayList<>();
        keys.addAll(ServerCodec.KEYS);
        keys.addAll(AdminCodec.KEYS);
        keys.addAll(CacheCodec.KEYS);
        keys.addAll(UpstreamCodec.KEYS);
        keys.addAll(PolicyCodec.KEYS);
        keys.addAll(TlsCodec.KEYS);
        keys.addAll(TracingCodec.KEYS);
        keys.addAll(LogCodec.KEYS);
        keys.addAll(RedisCodec.KEYS);
        return List.copyOf(keys);
    }

    /** The Markdown table of {@link #keys()}, between its markers. */
    static String table() {
        StringBuilder out = new StringBuilder(BEGIN).append('\n');
        out.append("| key | type | default | meaning |\n");
        out.append("|---|---|---|---|\n");
        for (ConfigKey key : keys()) {
            out.append("| `").append(key.name()).append("` | ");
            out.append(cell(key, key.type())).append(" | ");
            out.append(cell(key, key.defaultValue())).append(" | ");
            out.append(cell(key, key.meaning())).append(" |\n");
        }
        return out.append(END).append('\n').toString();
    }

    /** {@code page} with the text from {@link #BEGIN} to {@link #END} replaced by {@link #table()}. */
    static String regenerate(String page) {
        int begin = page.indexOf(BEGIN);
        int end = page.indexOf(END);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("the page has no generated table (" + BEGIN + " … " + END + ")");
        }
        int after = end + END.length();
        if (after < page.length() && page.charAt(after) == '\n') after++;
        return page.substring(0, begin) + table() + page.substring(after);
    }

    private static String cell(ConfigKey key, String text) {
        if (text.isBlank() || text.contains("\n") || BARE_BAR.matcher(text).find()) {
            throw new IllegalStateException(
                    key.name() + ": a table cell needs one line of text with | escaped: " + text);
        }
        return text;
    }
}
