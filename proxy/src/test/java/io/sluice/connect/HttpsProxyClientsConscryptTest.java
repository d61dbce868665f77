package io.sluice.connect;

import io.sluice.config.TlsProvider;

/** Every case of {@link HttpsProxyClientsTest} with {@code tls.provider: conscrypt}. */
class HttpsProxyClientsConscryptTest extends HttpsProxyClientsTest {
    @Override
    TlsProvider tlsProvider() {
        return TlsProvider.CONSCRYPT;
    }
}
