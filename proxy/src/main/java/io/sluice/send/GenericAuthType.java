package io.sluice.send;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The JDK's trust manager as Conscrypt's engine can ask it: for TLS 1.3 (where the suite names no
 * key type) Conscrypt passes the auth type {@code GENERIC}, which the JDK's key-usage check rejects
 * ("Unknown authType"); JSSE itself passes {@code UNKNOWN} there, checking the digitalSignature key
 * usage only. Every other check (path, expiry, host name) is the JDK's, unchanged.
 */
final class GenericAuthType extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager jdk;

    GenericAuthType(X509ExtendedTrustManager jdk) {
        this.jdk = jdk;
    }

    private static String jdkName(String authType) {
        return "GENERIC".equals(authType) ? "UNKNOWN" : authType;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        jdk.checkServerTrusted(chain, jdkName(authType), engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        jdk.checkServerTrusted(chain, jdkName(authType), socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        jdk.checkServerTrusted(chain, jdkName(authType));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        jdk.checkClientTrusted(chain, jdkName(authType), engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        jdk.checkClientTrusted(chain, jdkName(authType), socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        jdk.checkClientTrusted(chain, jdkName(authType));
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return jdk.getAcceptedIssuers();
    }

    @Override
    public String toString() {
        return "GenericAuthType[" + jdk + "]";
    }
}
