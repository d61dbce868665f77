import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.handlers.proxy.LoadBalancingProxyClient;
import io.undertow.server.handlers.proxy.ProxyHandler;
import java.io.FileInputStream;
import java.net.URI;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.xnio.OptionMap;
import org.xnio.Xnio;

/**
 * Section (t)'s ceiling for the route form to a TLS origin: Undertow's own reverse proxy over its
 * own HTTP client, to {@code https://localhost:PORT}, over HTTP/1.1 or HTTP/2 (ALPN) — the server
 * and client Sluice is built on, with no stages, limits, cache, guard, metrics or trace. Its HTTP/2
 * row answers whether Undertow's HTTP/2 client would serve an h2 origin better than
 * {@code java.net.http}, which Sluice uses for it (design.md: java.net.http stays for HTTP/2 unless
 * a measurement beats it). The origin's certificate is verified against CA_FILE (chain and host
 * name); the JDK's TLS (JSSE).
 *
 * <p>Run by tls_bench.py with Sluice's jar for Undertow:
 * {@code java -cp sluice.jar UndertowProxyTls.java CA_FILE h1|h2 LISTEN_PORT ORIGIN_PORT IO_THREADS}.
 */
public final class UndertowProxyTls {
    public static void main(String[] args) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (FileInputStream in = new FileInputStream(args[0])) {
            trust.setCertificateEntry("origin-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trustManagers.getTrustManagers(), null);
        boolean h2 = args[1].equals("h2");
        OptionMap options = OptionMap.builder()
                .set(UndertowOptions.ENABLE_HTTP2, h2)
                .set(UndertowOptions.ENDPOINT_IDENTIFICATION_ALGORITHM, "HTTPS")
                .getMap();
        LoadBalancingProxyClient client = new LoadBalancingProxyClient()
                .addHost(
                        new URI("https://localhost:" + args[3]),
                        null,
                        new UndertowXnioSsl(Xnio.getInstance(), OptionMap.EMPTY, context),
                        options)
                // One HTTP/2 connection per IO thread multiplexes every request; HTTP/1.1 pools as Sluice does.
                .setConnectionsPerThread(h2 ? 1 : 64)
                .setSoftMaxConnectionsPerThread(h2 ? 1 : 64)
                .setMaxQueueSize(4096);
        ProxyHandler proxy = ProxyHandler.builder()
                .setProxyClient(client)
                .setMaxRequestTime(30_000)
                .build();
        Undertow.builder()
                .setIoThreads(Integer.parseInt(args[4]))
                .addHttpListener(Integer.parseInt(args[2]), "127.0.0.1")
                .setHandler(proxy)
                .build()
                .start();
    }
}
