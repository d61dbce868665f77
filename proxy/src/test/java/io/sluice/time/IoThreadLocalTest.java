package io.sluice.time;

import static io.sluice.testing.IoWorkers.on;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testing.IoWorkers;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

/** Real XNIO IO threads, two per worker, numbered 0 and 1 in each. */
class IoThreadLocalTest {
    private final AtomicInteger made = new AtomicInteger();
    private final IoThreadLocal<String> local = new IoThreadLocal<>(io -> io.getName() + "#" + made.incrementAndGet());
    private final java.util.List<XnioWorker> workers = new java.util.ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (XnioWorker worker : workers) {
            worker.shutdownNow();
            worker.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void eachIoThreadHasItsOwnValueMadeOnceOnThatThread() throws Exception {
        XnioWorker worker = worker("a");
        String first = on(worker.getIoThread(0), local::get);
        String second = on(worker.getIoThread(1), local::get);

        assertThat(first).startsWith(worker.getIoThread(0).getName());
        assertThat(second).startsWith(worker.getIoThread(1).getName());
        assertThat(on(worker.getIoThread(0), local::get)).isSameAs(first);
        assertThat(on(worker.getIoThread(1), local::get)).isSameAs(second);
        assertThat(made).hasValue(2);
    }

    @Test
    void aThreadThatIsNotAnIoThreadGetsNull() throws Exception {
        assertThat(local.get()).isNull();
        assertThat(CompletableFuture.supplyAsync(local::get).get(10, TimeUnit.SECONDS))
                .isNull();
        assertThat(made).hasValue(0);
    }

    @Test
    void anIoThreadOfASecondWorkerWithTheSameNumberIsNotGivenTheFirstOnesValue() throws Exception {
        XnioWorker a = worker("a");
        XnioWorker b = worker("b");
        XnioIoThread first = a.getIoThread(0);
        XnioIoThread second = b.getIoThread(0);
        assertThat(first.getNumber()).isEqualTo(second.getNumber());

        String ofFirst = on(first, local::get);
        String ofSecond = on(second, local::get);

        assertThat(ofSecond).isNotEqualTo(ofFirst).startsWith(second.getName());
        assertThat(on(second, local::get)).isSameAs(ofSecond);
        assertThat(on(first, local::get)).isSameAs(ofFirst);
    }

    @Test
    void aSlotWhoseThreadEndedIsHandedOnToTheNextThreadOfThatNumber() throws Exception {
        XnioWorker old = worker("old");
        String ofOld = on(old.getIoThread(0), local::get);
        old.shutdownNow();
        assertThat(old.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        XnioIoThread gone = old.getIoThread(0);
        gone.join(10_000);
        assertThat(gone.isAlive()).isFalse();

        XnioWorker next = worker("next");
        String ofNext = on(next.getIoThread(0), local::get);

        assertThat(ofNext).isNotEqualTo(ofOld).startsWith(next.getIoThread(0).getName());
        assertThat(on(next.getIoThread(0), local::get)).isSameAs(ofNext);
    }

    private XnioWorker worker(String name) {
        XnioWorker worker = IoWorkers.start("iotl-" + name, 2);
        workers.add(worker);
        return worker;
    }
}
