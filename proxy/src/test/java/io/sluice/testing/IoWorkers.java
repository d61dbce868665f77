package io.sluice.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Xnio;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

/** Real XNIO workers for tests of code that runs on IO threads, and a way to run a step on one. */
public final class IoWorkers {
    private IoWorkers() {}

    /** A worker of {@code ioThreads} IO threads (numbered from 0) named {@code name}; shut it down after. */
    public static XnioWorker start(String name, int ioThreads) {
        try {
            return Xnio.getInstance(io.undertow.Undertow.class.getClassLoader())
                    .createWorker(OptionMap.builder()
                            .set(Options.WORKER_IO_THREADS, ioThreads)
                            .set(Options.WORKER_TASK_CORE_THREADS, 1)
                            .set(Options.WORKER_TASK_MAX_THREADS, 1)
                            .set(Options.WORKER_NAME, name)
                            .getMap());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What {@code task} returns (or throws) run on {@code thread}, waited for up to 10 s. */
    public static <T> T on(XnioIoThread thread, Callable<T> task) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        thread.execute(() -> {
            try {
                result.complete(task.call());
            } catch (Exception e) {
                result.completeExceptionally(e);
            }
        });
        return result.get(10, TimeUnit.SECONDS);
    }
}
