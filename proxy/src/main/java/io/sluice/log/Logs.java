package io.sluice.log;

import io.sluice.config.LogConfig;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/** Installs the log format of {@code log.format} on the JVM's root logger. */
public final class Logs {
    private Logs() {}

    /**
     * Every handler of the root logger writes in {@code config}'s format. Text stays the one-line
     * format {@code Main} sets for {@link java.util.logging.SimpleFormatter}.
     */
    public static void install(LogConfig config) {
        if (config.format() != LogConfig.Format.JSON) return;
        Formatter json = new JsonLineFormatter();
        Logger root = LogManager.getLogManager().getLogger("");
        for (Handler handler : root.getHandlers()) handler.setFormatter(json);
    }
}
