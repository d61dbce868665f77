package io.sluice.connect;

import io.sluice.config.TlsProvider;

/** Every case of {@link ConnectTest} with {@code tls.provider: conscrypt}. */
class ConnectConscryptTest extends ConnectTest {
    @Override
    TlsProvider tlsProvider() {
        return TlsProvider.CONSCRYPT;
    }
}
