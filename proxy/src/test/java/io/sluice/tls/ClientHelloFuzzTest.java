package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.fuzz.FuzzInputs;
import io.sluice.testing.TlsRecords;
import java.nio.ByteBuffer;

/**
 * The ClientHello peek reads bytes a client chose: whatever they are, it never throws, moves
 * nothing, and gives the same answer however the handshake bytes are cut into records; a hello
 * re-framed as one record reads the same.
 */
class ClientHelloFuzzTest {

    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void readsAnyBytesWithoutThrowingAndAlikeHoweverTheyAreCut(byte[] input) {
        ByteBuffer bytes = ByteBuffer.wrap(input);

        ClientHello.Peek peek = ClientHello.read(bytes);

        assertThat(peek).isNotNull();
        assertThat(bytes.position()).isZero();
        assertThat(bytes.limit()).isEqualTo(input.length);
        if (peek instanceof ClientHello.Hello) {
            // Framed as one record, the hello reads the same, and nothing is lost.
            ByteBuffer one = ClientHello.asOneRecord(bytes);
            assertThat(ClientHello.read(one)).isEqualTo(peek);
            assertThat(one.remaining()).isBetween(input.length - 5 * 2048, input.length + 5);
            assertThat(bytes.position()).isZero();
        }
        if (peek instanceof ClientHello.Hello && input.length > 5) {
            int recordLength = ((input[3] & 0xff) << 8) | (input[4] & 0xff);
            if (recordLength + 5 == input.length) {
                // One record holding the whole hello: the same hello cut into small records reads the same.
                int size = 4 + (input[input.length - 1] & 0x3f);
                assertThat(ClientHello.read(TlsRecords.recut(ByteBuffer.wrap(input), size)))
                        .isEqualTo(peek);
            }
        }
    }
}
