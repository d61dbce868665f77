package io.sluice.tls;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * What interception needs to know of a client's TLS ClientHello before choosing the engine that
 * answers it (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2): the SNI name, and whether the client can be
 * served the EC (P-256) leaf. The handshake bytes go on unchanged to the engine chosen, which
 * parses them again and alone decides the handshake (only their framing may change: {@link
 * #asOneRecord}). A misread only picks the slower engine.
 *
 * <p>The hello may span several handshake records (post-quantum key shares make it large); {@link
 * #read} asks for more until the whole message is in. A caller bounds what it buffers ({@link
 * #MAX_BYTES} of message and the record headers around it) and hands a hello still incomplete past
 * that to JSSE.
 */
public final class ClientHello {
    /** More than any hello seen in use (a few KB with post-quantum shares); past it, JSSE decides. */
    public static final int MAX_BYTES = 32 * 1024;

    private static final int HANDSHAKE_RECORD = 22;
    private static final int CLIENT_HELLO = 1;
    private static final int RECORD_HEADER = 5;
    private static final int MAX_RECORD = (1 << 14) + 2048;

    private static final int EXT_SERVER_NAME = 0;
    private static final int EXT_SUPPORTED_GROUPS = 10;
    private static final int EXT_SIGNATURE_ALGORITHMS = 13;
    private static final int EXT_SUPPORTED_VERSIONS = 43;

    private static final int TLS12 = 0x0303;
    private static final int TLS13 = 0x0304;
    private static final int ECDSA_P256_SHA256 = 0x0403;
    private static final int ECDSA_SHA384 = 0x0503;
    private static final int ECDSA_SHA512 = 0x0603;
    private static final int SECP256R1 = 0x0017;
    private static final int SECP384R1 = 0x0018;
    private static final int X25519 = 0x001d;
    /** TLS 1.2 ECDHE_ECDSA suites BoringSSL serves: AES-GCM, ChaCha20, AES-CBC-SHA. */
    private static final int[] ECDHE_ECDSA_SUITES = {0xc02b, 0xc02c, 0xcca9, 0xc009, 0xc00a};

    private ClientHello() {}

    /** The outcome of reading what has arrived so far. */
    public sealed interface Peek {}

    /** Not all of the hello has arrived: read more and ask again. */
    public record Incomplete() implements Peek {}

    /** Not a TLS 1.x ClientHello that can be read (or larger than {@link #MAX_BYTES}). */
    public record Unreadable(String why) implements Peek {}

    /**
     * A whole hello.
     *
     * @param serverName the SNI host name as sent, if any
     * @param ecP256 whether a server holding a P-256 ECDSA certificate can complete this handshake:
     *     TLS 1.3 with {@code ecdsa_secp256r1_sha256} offered, or TLS 1.2 with an ECDHE_ECDSA suite,
     *     an ECDSA signature scheme and the P-256 group
     */
    public record Hello(Optional<String> serverName, boolean ecP256) implements Peek {}

    private static final Incomplete INCOMPLETE = new Incomplete();

    /** Reads {@code data} from its position to its limit; neither is moved. */
    public static Peek read(ByteBuffer data) {
        ByteBuffer in = data.duplicate();
        // Reassemble the handshake message from the records that carry it.
        ByteBuffer message = null;
        int messageLength = -1;
        while (true) {
            if (in.remaining() < RECORD_HEADER) return INCOMPLETE;
            int type = u8(in, in.position());
            int major = u8(in, in.position() + 1);
            int recordLength = u16(in, in.position() + 3);
            if (type != HANDSHAKE_RECORD || major != 3) return unreadable("not a TLS handshake record");
            if (recordLength == 0 || recordLength > MAX_RECORD) return unreadable("bad record length");
            if (in.remaining() < RECORD_HEADER + recordLength) return INCOMPLETE;
            ByteBuffer fragment = in.slice(in.position() + RECORD_HEADER, recordLength);
            in.position(in.position() + RECORD_HEADER + recordLength);
            if (message == null) {
                if (fragment.remaining() < 4) {
                    // A header split across records: legal, never seen; let JSSE deal with it.
                    return unreadable("handshake header split across records");
                }
                if (u8(fragment, 0) != CLIENT_HELLO) return unreadable("not a ClientHello");
                messageLength = (u8(fragment, 1) << 16) | u16(fragment, 2);
                if (messageLength > MAX_BYTES) return unreadable("hello too long");
                message = ByteBuffer.allocate(messageLength);
                fragment.position(4);
            }
            int take = Math.min(fragment.remaining(), message.remaining());
            message.put(fragment.slice(fragment.position(), take));
            if (!message.hasRemaining()) {
                message.flip();
                return parse(message);
            }
        }
    }

    /**
     * {@code data}, whose first bytes {@link #read} found to be a whole {@link Hello}, with that hello
     * framed as one record when the client cut it into several, followed by whatever came after it;
     * {@code data} itself when the hello is in one record already (or could not be one). Record
     * boundaries carry no meaning in TLS (RFC 8446 §5.1, RFC 5246 §6.2.1: only handshake messages
     * are hashed), but a server whose TLS layer unwraps one record per read of the socket stalls on a
     * hello cut into many (some clients do so to get past DPI boxes).
     */
    public static ByteBuffer asOneRecord(ByteBuffer data) {
        ByteBuffer in = data.duplicate();
        int start = in.position();
        if (in.remaining() < RECORD_HEADER + 4) return data;
        short version = in.getShort(start + 1);
        int first = u16(in, start + 3);
        int messageLength = (u8(in, start + 6) << 16) | u16(in, start + 7);
        int needed = 4 + messageLength;
        if (needed <= first || needed > (1 << 14)) return data;
        ByteBuffer out = ByteBuffer.allocate(in.remaining() + RECORD_HEADER);
        out.put((byte) HANDSHAKE_RECORD).putShort(version).putShort((short) needed);
        while (needed > 0) {
            int at = in.position();
            int length = u16(in, at + 3);
            int take = Math.min(length, needed);
            out.put(in.slice(at + RECORD_HEADER, take));
            needed -= take;
            if (take < length) {
                // The rest of the record that ends the hello stays a record of its own.
                out.put((byte) HANDSHAKE_RECORD).putShort(version).putShort((short) (length - take));
                out.put(in.slice(at + RECORD_HEADER + take, length - take));
            }
            in.position(at + RECORD_HEADER + length);
        }
        out.put(in);
        return out.flip();
    }

    private static Peek parse(ByteBuffer body) {
        try {
            int legacyVersion = u16(body);
            skip(body, 32); // random
            skip(body, u8(body)); // legacy_session_id
            int suitesLength = u16(body);
            ByteBuffer suites = take(body, suitesLength);
            skip(body, u8(body)); // legacy_compression_methods
            String serverName = null;
            boolean tls13 = false;
            boolean ecdsaP256Scheme = false;
            boolean ecdsaScheme = false;
            boolean p256Group = false;
            boolean ecdheGroup = false;
            if (body.hasRemaining()) {
                ByteBuffer extensions = take(body, u16(body));
                while (extensions.hasRemaining()) {
                    int type = u16(extensions);
                    ByteBuffer ext = take(extensions, u16(extensions));
                    switch (type) {
                        case EXT_SERVER_NAME -> serverName = hostName(ext);
                        case EXT_SUPPORTED_VERSIONS -> {
                            ByteBuffer versions = take(ext, u8(ext));
                            while (versions.remaining() >= 2) tls13 |= u16(versions) == TLS13;
                        }
                        case EXT_SIGNATURE_ALGORITHMS -> {
                            ByteBuffer schemes = take(ext, u16(ext));
                            while (schemes.remaining() >= 2) {
                                int scheme = u16(schemes);
                                ecdsaP256Scheme |= scheme == ECDSA_P256_SHA256;
                                ecdsaScheme |=
                                        scheme == ECDSA_P256_SHA256 || scheme == ECDSA_SHA384 || scheme == ECDSA_SHA512;
                            }
                        }
                        case EXT_SUPPORTED_GROUPS -> {
                            ByteBuffer groups = take(ext, u16(ext));
                            while (groups.remaining() >= 2) {
                                int group = u16(groups);
                                p256Group |= group == SECP256R1;
                                ecdheGroup |= group == SECP256R1 || group == SECP384R1 || group == X25519;
                            }
                        }
                        default -> {}
                    }
                }
            }
            boolean ecP256;
            if (tls13) {
                ecP256 = ecdsaP256Scheme && ecdheGroup;
            } else {
                ecP256 = legacyVersion == TLS12 && ecdsaScheme && p256Group && offersEcdsaSuite(suites);
            }
            return new Hello(Optional.ofNullable(serverName), ecP256);
        } catch (IllegalArgumentException e) {
            return unreadable(e.getMessage());
        }
    }

    private static boolean offersEcdsaSuite(ByteBuffer suites) {
        while (suites.remaining() >= 2) {
            int suite = u16(suites);
            for (int ecdsa : ECDHE_ECDSA_SUITES) {
                if (suite == ecdsa) return true;
            }
        }
        return false;
    }

    /** The first {@code host_name} entry of a server_name list (RFC 6066 §3). */
    private static String hostName(ByteBuffer ext) {
        ByteBuffer list = take(ext, u16(ext));
        while (list.hasRemaining()) {
            int nameType = u8(list);
            ByteBuffer name = take(list, u16(list));
            if (nameType == 0) return StandardCharsets.US_ASCII.decode(name).toString();
        }
        return null;
    }

    private static Unreadable unreadable(String why) {
        return new Unreadable(why);
    }

    private static ByteBuffer take(ByteBuffer in, int length) {
        if (length > in.remaining()) throw new IllegalArgumentException("a length runs past its container");
        ByteBuffer part = in.slice(in.position(), length);
        in.position(in.position() + length);
        return part;
    }

    private static void skip(ByteBuffer in, int length) {
        take(in, length);
    }

    private static int u8(ByteBuffer in) {
        if (!in.hasRemaining()) throw new IllegalArgumentException("truncated");
        return in.get() & 0xff;
    }

    private static int u16(ByteBuffer in) {
        if (in.remaining() < 2) throw new IllegalArgumentException("truncated");
        return in.getShort() & 0xffff;
    }

    private static int u8(ByteBuffer in, int at) {
        return in.get(at) & 0xff;
    }

    private static int u16(ByteBuffer in, int at) {
        return in.getShort(at) & 0xffff;
    }
}
