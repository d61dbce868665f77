package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.TlsProvider;
import java.security.Security;
import org.junit.jupiter.api.Test;

class TlsEnginesTest {
    @Test
    void conscryptIsAProviderInstanceNeverInstalledGlobally() throws Exception {
        TlsEngines engines = TlsEngines.select(TlsProvider.CONSCRYPT);

        assertThat(engines.effective()).isEqualTo(TlsProvider.CONSCRYPT);
        assertThat(engines.delegatesTasks()).isFalse();
        assertThat(engines.newContext().getProvider().getName()).isEqualTo("Conscrypt");
        assertThat(Security.getProvider("Conscrypt")).isNull();
        assertThat(javax.net.ssl.SSLContext.getDefault().getProvider().getName())
                .isEqualTo("SunJSSE");
    }

    @Test
    void conscryptThatCannotLoadFallsBackToTheJdk() throws Exception {
        TlsEngines engines = TlsEngines.select(TlsProvider.CONSCRYPT, () -> {
            throw new UnsatisfiedLinkError("no conscrypt_openjdk_jni-linux-aarch_64 in java.library.path");
        });

        assertThat(engines.effective()).isEqualTo(TlsProvider.JDK);
        assertThat(engines.delegatesTasks()).isTrue();
        assertThat(engines.newContext().getProvider().getName()).isEqualTo("SunJSSE");
    }

    @Test
    void jdkIsTheJdks() throws Exception {
        assertThat(TlsEngines.select(TlsProvider.JDK).newContext().getProvider().getName())
                .isEqualTo("SunJSSE");
    }

    @Test
    void autoIsConscryptWhereItLoads() throws Exception {
        TlsEngines engines = TlsEngines.select(TlsProvider.AUTO);

        assertThat(engines.effective()).isEqualTo(TlsProvider.CONSCRYPT);
        assertThat(engines.newContext().getProvider().getName()).isEqualTo("Conscrypt");
    }

    @Test
    void autoWhereConscryptCannotLoadIsTheJdks() throws Exception {
        TlsEngines engines = TlsEngines.select(TlsProvider.AUTO, () -> {
            throw new UnsatisfiedLinkError("no conscrypt_openjdk_jni-linux-riscv64 in java.library.path");
        });

        assertThat(engines.effective()).isEqualTo(TlsProvider.JDK);
        assertThat(engines.newContext().getProvider().getName()).isEqualTo("SunJSSE");
    }
}
