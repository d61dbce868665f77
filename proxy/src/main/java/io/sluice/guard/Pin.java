package io.sluice.guard;

public interface Pin extends AutoCloseable {
    java.util.List<java.net.InetAddress> addresses();

    @Override
    void close();
}
