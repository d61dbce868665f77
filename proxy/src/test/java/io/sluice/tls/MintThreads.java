package io.sluice.tls;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records the name of the thread of every leaf minted while open, for tests in other packages. */
public final class MintThreads implements AutoCloseable {
    private final List<String> names = new CopyOnWriteArrayList<>();

    private MintThreads() {}

    public static MintThreads record() {
        MintThreads threads = new MintThreads();
        LeafMinter.mintObserver = thread -> threads.names.add(thread.getName());
        return threads;
    }

    public List<String> names() {
        return List.copyOf(names);
    }

    @Override
    public void close() {
        LeafMinter.mintObserver = null;
    }
}
