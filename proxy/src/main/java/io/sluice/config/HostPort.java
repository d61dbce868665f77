package io.sluice.config;

/** A listen address, written {@code 127.0.0.1:7600}, {@code [::1]:7600} or {@code :7600}. */
public record HostPort(String host, int port) {
    public HostPort {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("host cannot be empty");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port out of range: " + port);
    }

    public static HostPort parse(String text) {
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("invalid address \"" + text + "\" (use HOST:PORT)");
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        if (host.isEmpty()) host = "127.0.0.1";
        try {
            return new HostPort(host, Integer.parseInt(s.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid port in \"" + text + "\"");
        }
    }

    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
