package io.sluice.send;

import java.nio.ByteBuffer;
import java.security.KeyManagementException;
import java.security.SecureRandom;
import java.util.List;
import java.util.function.BiFunction;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * Keeps the reason a TLS handshake on one upstream connection failed. Undertow's TLS layer logs a
 * failed handshake at debug level and closes the connection, so its client reports only
 * {@code ClosedChannelException}; the reason (unknown issuer, hostname mismatch, an alert from the
 * upstream) is what an operator needs. Each connection's engine is made through {@link #context},
 * which wraps the profile's real context and records the first {@link SSLException} its engine
 * throws; everything else is the real engine's (session cache and resumption included).
 */
final class HandshakeWitness {
    private volatile SSLException failure;

    /** The first TLS failure on this connection, or null. */
    SSLException failure() {
        return failure;
    }

    /** {@code real}, making engines that report their failures here. */
    SSLContext context(SSLContext real) {
        return new SSLContext(new Spi(real, this), real.getProvider(), real.getProtocol()) {};
    }

    private void record(SSLException e) {
        if (failure == null) failure = e;
    }

    private static final class Spi extends SSLContextSpi {
        private final SSLContext real;
        private final HandshakeWitness witness;

        Spi(SSLContext real, HandshakeWitness witness) {
            this.real = real;
            this.witness = witness;
        }

        @Override
        protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom random)
                throws KeyManagementException {
            throw new KeyManagementException("already initialised");
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            return real.getSocketFactory();
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            return real.getServerSocketFactory();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return new Engine(real.createSSLEngine(), witness);
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return new Engine(real.createSSLEngine(host, port), witness);
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return real.getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return real.getClientSessionContext();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return real.getDefaultSSLParameters();
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return real.getSupportedSSLParameters();
        }
    }

    /** The real engine, with its {@code wrap}/{@code unwrap} failures recorded on the way out. */
    private static final class Engine extends SSLEngine {
        private final SSLEngine real;
        private final HandshakeWitness witness;

        Engine(SSLEngine real, HandshakeWitness witness) {
            super(real.getPeerHost(), real.getPeerPort());
            this.real = real;
            this.witness = witness;
        }

        @Override
        public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst) throws SSLException {
            try {
                return real.wrap(srcs, offset, length, dst);
            } catch (SSLException e) {
                witness.record(e);
                throw e;
            }
        }

        @Override
        public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length) throws SSLException {
            try {
                return real.unwrap(src, dsts, offset, length);
            } catch (SSLException e) {
                witness.record(e);
                throw e;
            }
        }

        @Override
        public Runnable getDelegatedTask() {
            return real.getDelegatedTask();
        }

        @Override
        public void closeInbound() throws SSLException {
            real.closeInbound();
        }

        @Override
        public boolean isInboundDone() {
            return real.isInboundDone();
        }

        @Override
        public void closeOutbound() {
            real.closeOutbound();
        }

        @Override
        public boolean isOutboundDone() {
            return real.isOutboundDone();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return real.getSupportedCipherSuites();
        }

        @Override
        public String[] getEnabledCipherSuites() {
            return real.getEnabledCipherSuites();
        }

        @Override
        public void setEnabledCipherSuites(String[] suites) {
            real.setEnabledCipherSuites(suites);
        }

        @Override
        public String[] getSupportedProtocols() {
            return real.getSupportedProtocols();
        }

        @Override
        public String[] getEnabledProtocols() {
            return real.getEnabledProtocols();
        }

        @Override
        public void setEnabledProtocols(String[] protocols) {
            real.setEnabledProtocols(protocols);
        }

        @Override
        public SSLSession getSession() {
            return real.getSession();
        }

        @Override
        public SSLSession getHandshakeSession() {
            return real.getHandshakeSession();
        }

        @Override
        public void beginHandshake() throws SSLException {
            try {
                real.beginHandshake();
            } catch (SSLException e) {
                witness.record(e);
                throw e;
            }
        }

        @Override
        public SSLEngineResult.HandshakeStatus getHandshakeStatus() {
            return real.getHandshakeStatus();
        }

        @Override
        public void setUseClientMode(boolean mode) {
            real.setUseClientMode(mode);
        }

        @Override
        public boolean getUseClientMode() {
            return real.getUseClientMode();
        }

        @Override
        public void setNeedClientAuth(boolean need) {
            real.setNeedClientAuth(need);
        }

        @Override
        public boolean getNeedClientAuth() {
            return real.getNeedClientAuth();
        }

        @Override
        public void setWantClientAuth(boolean want) {
            real.setWantClientAuth(want);
        }

        @Override
        public boolean getWantClientAuth() {
            return real.getWantClientAuth();
        }

        @Override
        public void setEnableSessionCreation(boolean flag) {
            real.setEnableSessionCreation(flag);
        }

        @Override
        public boolean getEnableSessionCreation() {
            return real.getEnableSessionCreation();
        }

        @Override
        public SSLParameters getSSLParameters() {
            return real.getSSLParameters();
        }

        @Override
        public void setSSLParameters(SSLParameters params) {
            real.setSSLParameters(params);
        }

        @Override
        public String getApplicationProtocol() {
            return real.getApplicationProtocol();
        }

        @Override
        public String getHandshakeApplicationProtocol() {
            return real.getHandshakeApplicationProtocol();
        }

        @Override
        public void setHandshakeApplicationProtocolSelector(BiFunction<SSLEngine, List<String>, String> selector) {
            real.setHandshakeApplicationProtocolSelector(selector);
        }

        @Override
        public BiFunction<SSLEngine, List<String>, String> getHandshakeApplicationProtocolSelector() {
            return real.getHandshakeApplicationProtocolSelector();
        }
    }
}
