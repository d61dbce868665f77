package io.sluice.testing;

import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.upstream.Upstreams;
import java.util.Map;

/** Configs written as YAML in a test, read as Sluice reads its file (with an empty environment). */
public final class TestConfig {
    private TestConfig() {}

    public static SluiceConfig fromYaml(String yaml) {
        return new ConfigLoader(Map.of()).fromYaml(yaml);
    }

    /** The named policies of the config {@code yaml}, bound to their origins as Sluice binds them. */
    public static Upstreams upstreams(String yaml) {
        return upstreams(fromYaml(yaml));
    }

    public static Upstreams upstreams(SluiceConfig config) {
        return new Upstreams(config.defaults(), config.upstreams().values());
    }
}
