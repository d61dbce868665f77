package io.sluice.log;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One JSON object per line: {@code time} (ISO-8601 UTC), {@code level}, {@code logger},
 * {@code message} and, when there is one, {@code error} (the stack trace as one string). The field
 * names are the ones Loki, Cloud Logging and Elastic's ingest read without mapping.
 */
final class JsonLineFormatter extends Formatter {
    @Override
    public String format(LogRecord record) {
        StringBuilder out = new StringBuilder(160);
        out.append("{\"time\":\"")
                .append(Instant.ofEpochMilli(record.getMillis()))
                .append('"');
        field(out, "level", record.getLevel().getName());
        field(out, "logger", record.getLoggerName() == null ? "" : record.getLoggerName());
        field(out, "message", formatMessage(record));
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            field(out, "error", trace.toString());
        }
        return out.append("}\n").toString();
    }

    private static void field(StringBuilder out, String name, String value) {
        out.append(",\"").append(name).append("\":\"");
        out.append(JsonStringEncoder.getInstance().quoteAsString(value));
        out.append('"');
    }
}
