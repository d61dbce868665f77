package io.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.fuzz.FuzzInputs;
import java.nio.ByteBuffer;

/**
 * The strict chunked-body grammar: it never throws, and it gives the same verdict however the bytes
 * arrive, all at once or cut into reads anywhere (the first byte of the input picks the cut).
 */
class ChunkGrammarFuzzTest {

    @FuzzTest(maxDuration = FuzzInputs.DURATION)
    void judgesAnyBodyAlikeHoweverItIsCut(byte[] input) {
        if (input.length == 0) return;
        int cut = input[0] & 0xff;
        ByteBuffer body = ByteBuffer.wrap(input, 1, input.length - 1).slice();
        int length = body.remaining();

        ChunkGrammar whole = new ChunkGrammar(64);
        int wholeEnd = whole.check(body, 0, length);

        ChunkGrammar pieces = new ChunkGrammar(64);
        int piecesEnd = 0;
        int step = Math.max(1, cut % 7);
        for (int from = 0; from < length; from += step) {
            int to = Math.min(length, from + step);
            piecesEnd = pieces.check(body, from, to);
            if (piecesEnd < to) break;
        }

        assertThat(wholeEnd).isBetween(0, length);
        assertThat(pieces.failure()).isEqualTo(whole.failure());
        assertThat(pieces.done()).isEqualTo(whole.done());
        assertThat(piecesEnd).isEqualTo(wholeEnd);
        assertThat(whole.done() && whole.failure() != null).isFalse();
        // A body that is not over and not refused has accepted every byte so far.
        if (!whole.done() && whole.failure() == null) assertThat(wholeEnd).isEqualTo(length);
        assertThat(body.position()).isZero();
    }
}
