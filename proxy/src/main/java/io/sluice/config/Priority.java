package io.sluice.config;

import java.util.Locale;

/**
 * A request's class: which of an upstream's waiting queues it joins when {@code priority} is set.
 * Declared from most to least urgent; a class's reserve protects it from every class below it.
 */
public enum Priority {
    INTERACTIVE,
    BATCH,
    BACKGROUND;

    private static final Priority[] ALL = values();

    /** The name as written in headers, JSON and config, and as the metrics tag. */
    public String tag() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The class named {@code value} (case-insensitive); the message lists the known ones. */
    public static Priority parse(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        for (Priority p : ALL) if (p.tag().equals(v)) return p;
        throw new IllegalArgumentException("unknown priority \"" + value + "\" (interactive, batch or background)");
    }

    static Priority[] all() {
        return ALL.clone();
    }
}
