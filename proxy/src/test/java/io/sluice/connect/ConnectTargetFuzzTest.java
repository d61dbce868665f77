package io.sluice.connect;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.fetch.ErrorType;
import io.sluice.fetch.FetchException;
import io.sluice.fuzz.FuzzInputs;

/** A {@code CONNECT} target: a {@link ConnectTarget} that reads back as itself, or {@code invalid_request}. */
class ConnectTargetFuzzTest {

    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void readsAnyAuthorityAsATargetOrAnInvalidRequest(byte[] input) {
        String authority = FuzzInputs.latin1(input);
        ConnectTarget target;
        try {
            target = ConnectTarget.parse(authority);
        } catch (FetchException e) {
            assertThat(e.type()).isEqualTo(ErrorType.INVALID_REQUEST);
            return;
        }
        assertThat(target.port()).isBetween(1, 65535);
        assertThat(target.host()).isNotEmpty().doesNotEndWith(".");
        assertThat(ConnectTarget.parse(target.authority())).isEqualTo(target);
        assertThat(target.matches(target.authority())).isTrue();
        assertThat(target.matches(authority)).isTrue();
        assertThat(target.origin().getHost()).isNotNull();
        assertThat(target.bareHost()).doesNotContain("[", "]");
    }
}
