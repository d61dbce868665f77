package io.sluice.admin;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Collects the audit log's lines (the {@code io.sluice.audit} logger, via java.util.logging). */
final class AuditCapture extends Handler implements AutoCloseable {
    private final Logger logger = Logger.getLogger("io.sluice.audit");
    private final List<String> lines = new CopyOnWriteArrayList<>();

    static AuditCapture start() {
        AuditCapture capture = new AuditCapture();
        capture.logger.addHandler(capture);
        return capture;
    }

    List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void publish(LogRecord record) {
        lines.add(new java.util.logging.SimpleFormatter().formatMessage(record));
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
