package io.sluice.guard;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Recognises the URI hosts that the JDK treats as address literals, which it connects to without
 * consulting any resolver and which therefore cannot be pinned, only classified.
 *
 * <p>The JDK reads an all-numeric host in decimal ({@code 2130706433} and {@code 127.1} are
 * 127.0.0.1), refuses hex, and reads leading zeros as decimal ({@code 0177.0.0.1} is 177.0.0.1),
 * while the C library's {@code inet_aton} reads the same text as octal (127.0.0.1). A literal whose
 * meaning depends on who reads it is refused outright instead of being classified by one reading.
 */
final class HostLiteral {
    private HostLiteral() {}

    /**
     * The address a literal host stands for, or null when the host is a name to be resolved.
     *
     * @param host as returned by {@link java.net.URI#getHost()}, IPv6 literals in brackets
     */
    static InetAddress parse(String host) throws BlockedAddressException, UnknownHostException {
        if (host.startsWith("[") || host.indexOf(':') >= 0) {
            // In brackets the JDK only ever parses an IPv6 literal and never resolves it.
            return InetAddress.getByName(host.startsWith("[") ? host : "[" + host + "]");
        }
        byte[] quad = dottedQuad(host);
        if (quad != null) {
            return InetAddress.getByAddress(quad); // the usual literal, read without splitting
        }
        if (!couldBeIpv4(host)) {
            return null; // a name: most hosts, decided without splitting
        }
        String[] parts = host.split("\\.", -1);
        for (String part : parts) {
            if (!isNumber(part)) {
                return null;
            }
        }
        for (String part : parts) {
            if (part.length() > 1 && part.charAt(0) == '0') {
                throw new BlockedAddressException(
                        "ambiguous IPv4 literal \"" + host + "\": leading zeros and hex mean different"
                                + " addresses to different parsers; write it in dotted decimal",
                        host,
                        null,
                        null);
            }
        }
        byte[] address = decimal(parts);
        if (address == null) {
            throw new BlockedAddressException("\"" + host + "\" is not a valid IPv4 address", host, null, null);
        }
        return InetAddress.getByAddress(address);
    }

    /**
     * The four bytes of {@code host} if it is four decimal numbers of at most 255 with no leading
     * zeros, separated by dots: the one IPv4 form every parser reads alike; else null.
     */
    private static byte[] dottedQuad(String host) {
        byte[] address = new byte[4];
        int part = 0;
        int i = 0;
        int n = host.length();
        while (true) {
            int start = i;
            int value = 0;
            while (i < n && i - start < 4) {
                char c = host.charAt(i);
                if (c < '0' || c > '9') break;
                value = value * 10 + (c - '0');
                i++;
            }
            int digits = i - start;
            if (digits == 0 || digits > 3 || value > 255 || (digits > 1 && host.charAt(start) == '0')) return null;
            address[part++] = (byte) value;
            if (part == 4) return i == n ? address : null;
            if (i >= n || host.charAt(i) != '.') return null;
            i++;
        }
    }

    /** Whether every character could be part of a numeric IPv4 form (digits, dots, 0x hex). */
    private static boolean couldBeIpv4(String host) {
        for (int i = 0; i < host.length(); i++) {
            char c = (char) (host.charAt(i) | 0x20);
            if (!(c >= '0' && c <= '9') && c != '.' && c != 'x' && !(c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    /** Decimal digits, or the 0x form that inet_aton accepts; anything else makes the host a name. */
    private static boolean isNumber(String part) {
        if (part.isEmpty()) {
            return false;
        }
        boolean hex = part.length() > 1 && part.charAt(0) == '0' && (part.charAt(1) | 0x20) == 'x';
        for (int i = hex ? 2 : 0; i < part.length(); i++) {
            char c = part.charAt(i);
            boolean digit = c >= '0' && c <= '9';
            if (!digit && !(hex && ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The classic forms a, a.b, a.b.c and a.b.c.d, where the last part fills the remaining bytes, exactly
     * as the JDK (and inet_aton, for decimal input) reads them.
     */
    private static byte[] decimal(String[] parts) {
        if (parts.length > 4) {
            return null;
        }
        long value = 0;
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].length() > 10) {
                return null;
            }
            long part = Long.parseLong(parts[i]);
            boolean last = i == parts.length - 1;
            long limit = last ? 1L << (8 * (4 - i)) : 256;
            if (part >= limit) {
                return null;
            }
            value = last ? value << (8 * (4 - i)) | part : value << 8 | part;
        }
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }
}
