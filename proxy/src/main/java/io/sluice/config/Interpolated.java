package io.sluice.config;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A config string with {@code ${ENV}} / {@code ${ENV:-default}} references: {@code template} as
 * written, {@code value} with the environment substituted. Anything shown to people (admin API,
 * logs, {@link #toString()}) uses the template, so a secret injected through the environment
 * never leaves the process.
 */
public record Interpolated(String template, String value) {
    private static final Pattern REFERENCE = Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    /** Substitutes {@code env} into {@code template}; a reference to an unset variable without a default fails. */
    public static Interpolated of(String template, Map<String, String> env) {
        Matcher matcher = REFERENCE.matcher(template);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String replacement;
            if (matcher.group().equals("$$")) {
                replacement = "$";
            } else {
                String name = matcher.group(1);
                String fallback = matcher.group(2);
                String fromEnv = env.get(name);
                if (fromEnv != null && !(fallback != null && fromEnv.isEmpty())) {
                    replacement = fromEnv;
                } else if (fallback != null) {
                    replacement = fallback;
                } else {
                    throw new IllegalArgumentException("environment variable " + name + " is not set (write ${" + name
                            + ":-} to allow it to be empty)");
                }
            }
            matcher.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        matcher.appendTail(out);
        return new Interpolated(template, out.toString());
    }

    public static Interpolated literal(String value) {
        return new Interpolated(value.replace("$", "$$"), value);
    }

    /** Whether the value came (in part) from the environment, and so may be a secret. */
    public boolean fromEnvironment() {
        return REFERENCE.matcher(template).find() && !template.equals(value);
    }

    /** Whether the template names at least one environment variable ({@code $$} is only an escaped dollar). */
    public boolean namesVariables() {
        Matcher matcher = REFERENCE.matcher(template);
        while (matcher.find()) if (matcher.group(1) != null) return true;
        return false;
    }

    @Override
    public String toString() {
        return template;
    }
}
