package io.sluice.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

/**
 * Micrometer's JVM and process binders ({@code jvm_*}, {@code process_*}, {@code system_*}), bound
 * once, when first asked: by the first scrape of {@code /metrics}, not at start. Binding them makes
 * the JDK's management beans and loads their classes, which nothing on the way to a first {@code
 * /healthz} needs (figures: docs/performance.md, "A lean default run"), and a sidecar nobody scrapes
 * never pays for them. All but the GC binder read the JVM's running totals when scraped, so binding
 * late changes nothing in them; the GC binder counts the collections it is told of from then on
 * (docs/operating.md, "Metrics").
 */
final class JvmMetrics implements AutoCloseable {
    private final MeterRegistry registry;
    /** Made on binding: its constructor already reads the memory pools. */
    private JvmGcMetrics gc;

    private boolean bound;
    private boolean closed;

    JvmMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Binds every binder to the registry the first time; later calls return at once. */
    synchronized void bind() {
        if (bound || closed) return;
        bound = true;
        new JvmMemoryMetrics().bindTo(registry);
        gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /** Stops listening for GC notifications; a later {@link #bind} binds nothing. */
    @Override
    public synchronized void close() {
        closed = true;
        if (gc != null) gc.close();
    }
}
