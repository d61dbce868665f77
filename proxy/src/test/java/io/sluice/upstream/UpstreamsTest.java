package io.sluice.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UpstreamsTest {
    private final SluiceConfig config = new ConfigLoader(Map.of()).fromYaml("""
            upstreams:
              example-wild: {match: ["*.example.com"]}
              example-deep: {match: ["*.eu.example.com"]}
              example-api: {match: [api.example.com]}
              example-api-tls: {match: ["https://api.example.com"]}
              internal: {match: ["http://127.0.0.1:9000"]}
              github: {base_url: "https://api.github.com"}
            """);
    private final Upstreams upstreams =
            new Upstreams(config.defaults(), config.upstreams().values());

    private String resolve(String url) {
        return upstreams.resolve(URI.create(url)).name();
    }

    @Test
    void prefersExactOriginThenExactHostThenLongestWildcard() {
        assertThat(resolve("https://api.example.com/x")).isEqualTo("example-api-tls");
        assertThat(resolve("http://api.example.com/x")).isEqualTo("example-api");
        assertThat(resolve("https://a.eu.example.com/")).isEqualTo("example-deep");
        assertThat(resolve("https://www.example.com/")).isEqualTo("example-wild");
        assertThat(resolve("https://api.github.com/repos")).isEqualTo("github");
    }

    @Test
    void fallsBackToDefaultWhenNothingMatches() {
        assertThat(resolve("https://example.com/")).isEqualTo("default");
        assertThat(resolve("http://127.0.0.1:9001/")).isEqualTo("default");
        assertThat(resolve("http://127.0.0.1:9000/health")).isEqualTo("internal");
        assertThat(resolve("http://api.github.com/")).isEqualTo("default");
    }

    @Test
    void removingAnUpstreamHandsItsOriginsToTheNextMatch() {
        assertThat(upstreams.remove("example-api-tls")).isTrue();
        assertThat(resolve("https://api.example.com/x")).isEqualTo("example-api");
        assertThat(upstreams.remove("example-api-tls")).isFalse();
    }
}
