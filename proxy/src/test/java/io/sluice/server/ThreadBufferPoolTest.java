package io.sluice.server;

import static io.sluice.testing.IoWorkers.on;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.testing.IoWorkers;
import io.undertow.connector.PooledByteBuffer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

class ThreadBufferPoolTest {
    @Test
    void aFreedBufferComesBackClearedToTheSameThread() {
        var pool = new ThreadBufferPool(true, 1024, 4, 0);
        PooledByteBuffer first = pool.allocate();
        ByteBuffer buffer = first.getBuffer();
        assertThat(buffer.isDirect()).isTrue();
        assertThat(buffer.capacity()).isEqualTo(1024);
        buffer.put((byte) 7).flip();
        first.close();

        PooledByteBuffer second = pool.allocate();
        assertThat(second.getBuffer()).isSameAs(buffer);
        assertThat(second.getBuffer().position()).isZero();
        assertThat(second.getBuffer().limit()).isEqualTo(1024);
    }

    @Test
    void closingTwiceFreesOnce() {
        var pool = new ThreadBufferPool(false, 64, 4, 4);
        PooledByteBuffer pooled = pool.allocate();
        pooled.close();
        pooled.close();
        assertThat(pooled.isOpen()).isFalse();
        assertThatThrownBy(pooled::getBuffer).isInstanceOf(IllegalStateException.class);

        // Freed twice, it would be handed to two owners at once.
        assertThat(pool.allocate().getBuffer()).isNotSameAs(pool.allocate().getBuffer());
    }

    @Test
    void concurrentClosesFreeOnce() throws Exception {
        var pool = new ThreadBufferPool(false, 64, 0, 1000);
        List<PooledByteBuffer> buffers = new ArrayList<>();
        for (int i = 0; i < 200; i++) buffers.add(pool.allocate());
        var start = new CountDownLatch(1);
        try (var threads = Executors.newFixedThreadPool(2)) {
            List<CompletableFuture<Void>> closers = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                closers.add(CompletableFuture.runAsync(
                        () -> {
                            awaitQuietly(start);
                            buffers.forEach(PooledByteBuffer::close);
                        },
                        threads));
            }
            start.countDown();
            CompletableFuture.allOf(closers.toArray(CompletableFuture[]::new)).get();
        }
        Set<ByteBuffer> handedOut = identitySet();
        for (int i = 0; i < 400; i++) handedOut.add(pool.allocate().getBuffer());
        assertThat(handedOut).hasSize(400);
    }

    @Test
    void buffersBeyondAThreadsShareGoToOtherThreads() throws Exception {
        var pool = new ThreadBufferPool(false, 64, 1, 8);
        PooledByteBuffer kept = pool.allocate();
        PooledByteBuffer spare = pool.allocate();
        ByteBuffer spareBuffer = spare.getBuffer();
        kept.close(); // this thread's one
        spare.close(); // beyond it: shared

        var elsewhere = new AtomicReference<ByteBuffer>();
        Thread other =
                Thread.ofPlatform().start(() -> elsewhere.set(pool.allocate().getBuffer()));
        other.join();
        assertThat(elsewhere.get()).isSameAs(spareBuffer);
    }

    @Test
    void aVirtualThreadKeepsNoListOfItsOwn() throws Exception {
        var pool = new ThreadBufferPool(false, 64, 4, 4);
        var freed = new AtomicReference<ByteBuffer>();
        Thread virtual = Thread.ofVirtual().start(() -> {
            PooledByteBuffer pooled = pool.allocate();
            freed.set(pooled.getBuffer());
            pooled.close();
        });
        virtual.join();
        assertThat(pool.allocate().getBuffer()).isSameAs(freed.get());
    }

    @Test
    void whatIsFreedBeyondBothLimitsIsLeftToTheCollector() {
        var pool = new ThreadBufferPool(false, 64, 1, 1);
        List<PooledByteBuffer> three = List.of(pool.allocate(), pool.allocate(), pool.allocate());
        Set<ByteBuffer> first = identitySet();
        three.forEach(p -> first.add(p.getBuffer()));
        three.forEach(PooledByteBuffer::close);

        Set<ByteBuffer> again = identitySet();
        for (int i = 0; i < 3; i++) again.add(pool.allocate().getBuffer());
        // One was kept for this thread and one shared; the third was dropped, so one is new.
        again.retainAll(first);
        assertThat(again).hasSize(2);
    }

    @Test
    void theArrayBackedPoolIsOnTheHeapAndAClosedPoolRefuses() {
        var pool = new ThreadBufferPool(true, 256, 2, 2);
        assertThat(pool.isDirect()).isTrue();
        assertThat(pool.getBufferSize()).isEqualTo(256);
        ByteBuffer heap = pool.getArrayBackedPool().allocate().getBuffer();
        assertThat(heap.isDirect()).isFalse();
        assertThat(heap.hasArray()).isTrue();

        PooledByteBuffer open = pool.allocate();
        pool.close();
        open.close(); // after close: dropped, no error
        assertThatThrownBy(pool::allocate).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(pool.getArrayBackedPool()::allocate).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void onIoThreadsABufferComesBackToTheThreadThatFreedItAndIsCountedOutUntilFreedAnywhere() throws Exception {
        XnioWorker worker = IoWorkers.start("pool-test", 2);
        try {
            var pool = new ThreadBufferPool(false, 64, 4, 0);
            XnioIoThread zero = worker.getIoThread(0);
            XnioIoThread one = worker.getIoThread(1);

            PooledByteBuffer taken = on(zero, pool::allocate);
            ByteBuffer buffer = taken.getBuffer();
            PooledByteBuffer second = on(one, pool::allocate);
            assertThat(pool.inUse()).isEqualTo(2);

            on(one, () -> {
                taken.close(); // freed on the other IO thread: it joins that thread's list
                return null;
            });
            assertThat(pool.inUse()).isEqualTo(1);
            assertThat(on(one, () -> pool.allocate().getBuffer())).isSameAs(buffer);
            assertThat(on(zero, () -> pool.allocate().getBuffer())).isNotSameAs(buffer);
            assertThat(pool.inUse()).isEqualTo(3);

            second.close(); // on a thread that is not an IO thread
            assertThat(pool.inUse()).isEqualTo(2);
        } finally {
            worker.shutdownNow();
        }
    }

    private static Set<ByteBuffer> identitySet() {
        return Collections.newSetFromMap(new IdentityHashMap<>());
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
