package io.sluice.send;

import io.sluice.fetch.Call;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

/** Where the work of an upstream exchange over Undertow's clients runs: one IO thread, reached from any. */
final class IoThreads {
    private IoThreads() {}

    /** The call's own IO thread when it has one (it arrived on it), else one of {@code worker}'s. */
    static XnioIoThread of(Call call, XnioWorker worker) {
        return call.affinity() instanceof XnioIoThread own ? own : worker.getIoThread();
    }

    /** Runs {@code task} now if this is {@code thread}, else queues it there. */
    static void run(XnioIoThread thread, Runnable task) {
        if (Thread.currentThread() == thread) {
            task.run();
        } else {
            thread.execute(task);
        }
    }
}
