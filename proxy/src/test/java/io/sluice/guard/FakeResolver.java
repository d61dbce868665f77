package io.sluice.guard;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * DNS under the test's control: each host gives its scripted answers in turn and then keeps giving the
 * last one, the way a rebinding attacker's name server switches from a public answer to loopback.
 */
final class FakeResolver implements AddressGuard.Resolver {

    private final Map<String, Deque<List<InetAddress>>> answers = new ConcurrentHashMap<>();
    private final List<String> lookups = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();

    /** Adds the next answer for {@code host}. */
    FakeResolver answer(String host, String... addresses) {
        answers.computeIfAbsent(host, h -> new ArrayDeque<>()).add(Addresses.list(addresses));
        return this;
    }

    @Override
    public synchronized List<InetAddress> lookup(String host) throws UnknownHostException {
        lookups.add(host);
        threads.add(Thread.currentThread());
        Deque<List<InetAddress>> scripted = answers.get(host);
        if (scripted == null) {
            throw new UnknownHostException(host + ": Name or service not known");
        }
        return scripted.size() > 1 ? scripted.poll() : scripted.peek();
    }

    List<String> lookups() {
        return lookups;
    }

    List<Thread> threads() {
        return threads;
    }
}
