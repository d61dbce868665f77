package io.sluice.server;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.ServerConnection;
import io.undertow.util.AttachmentKey;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs an action if the client's connection closes while an exchange is still in progress.
 *
 * <p>Undertow's {@link ServerConnection#addCloseListener} cannot be undone, so a listener added per
 * request would stay on a keep-alive connection (holding that request's call) for as long as the
 * connection lives, a leak that grows with every request. Instead each connection gets one listener,
 * and an exchange's action is removed again when the exchange completes.
 */
public final class ClientDisconnect {
    private static final AttachmentKey<Watch> WATCH = AttachmentKey.create(Watch.class);

    private ClientDisconnect() {}

    /** Runs {@code action} once if the connection of {@code exchange} closes before the exchange ends. */
    public static void whileInProgress(HttpServerExchange exchange, Runnable action) {
        ServerConnection connection = exchange.getConnection();
        Watch watch = connection.getAttachment(WATCH);
        if (watch == null) {
            watch = new Watch();
            connection.putAttachment(WATCH, watch);
            connection.addCloseListener(watch);
        }
        Set<Runnable> actions = watch.actions;
        actions.add(action);
        exchange.addExchangeCompleteListener((ex, next) -> {
            actions.remove(action);
            next.proceed();
        });
    }

    private static final class Watch implements ServerConnection.CloseListener {
        final Set<Runnable> actions = ConcurrentHashMap.newKeySet();

        @Override
        public void closed(ServerConnection connection) {
            for (Runnable action : actions) {
                if (actions.remove(action)) action.run();
            }
        }
    }
}
