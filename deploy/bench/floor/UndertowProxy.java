import io.undertow.Undertow;
import io.undertow.server.handlers.proxy.LoadBalancingProxyClient;
import io.undertow.server.handlers.proxy.ProxyHandler;
import java.net.URI;

/**
 * The bench's floor for Sluice's HTTP layer: Undertow's own reverse proxy — the server and client
 * Sluice is built on, with no stages, limits, cache, guard, metrics or trace — pooling keep-alive
 * connections per IO thread as Sluice does. What Sluice spends above this is its own.
 *
 * <p>Run by bench.py in section (f), with Sluice's jar for Undertow:
 * {@code java -cp sluice.jar UndertowProxy.java LISTEN_PORT UPSTREAM_PORT IO_THREADS}.
 */
public final class UndertowProxy {
    public static void main(String[] args) throws Exception {
        LoadBalancingProxyClient client = new LoadBalancingProxyClient()
                .addHost(new URI("http://127.0.0.1:" + args[1]))
                .setConnectionsPerThread(64)
                .setSoftMaxConnectionsPerThread(64)
                .setMaxQueueSize(4096);
        ProxyHandler proxy = ProxyHandler.builder()
                .setProxyClient(client)
                .setMaxRequestTime(30_000)
                .build();
        Undertow.builder()
                .setIoThreads(Integer.parseInt(args[2]))
                .addHttpListener(Integer.parseInt(args[0]), "127.0.0.1")
                .setHandler(proxy)
                .build()
                .start();
    }
}
