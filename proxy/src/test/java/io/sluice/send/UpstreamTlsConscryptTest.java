package io.sluice.send;

import io.sluice.config.TlsProvider;

/** Every case of {@link UpstreamTlsTest} with {@code tls.provider: conscrypt}. */
class UpstreamTlsConscryptTest extends UpstreamTlsTest {
    @Override
    TlsProvider tlsProvider() {
        return TlsProvider.CONSCRYPT;
    }
}
