package io.sluice.limit;

import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.TokensInheritanceStrategy;
import io.github.bucket4j.distributed.AsyncBucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.optimization.Optimizations;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.github.bucket4j.redis.lettuce.cas.LettuceBasedProxyManager;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import io.sluice.config.RateLimit;
import io.sluice.config.RedisConfig;
import io.sluice.time.TimeSource;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Shared mode: every sidecar of an app keeps its upstreams' buckets (Bucket4j's Lettuce backend,
 * compare-and-swap on one key per upstream) and cooldowns (one key per upstream holding the end
 * instant, expiring with it) in one Redis, so N replicas spend one budget and a {@code Retry-After}
 * seen by one pauses all. With {@code redis.key_secret}, {@code per: key} buckets and
 * {@code cooldown: key} pauses are kept the same way under each key's label (never its value).
 *
 * <p>Redis must never make a request hang. Lettuce is told to reject commands while disconnected
 * (by default it buffers them until it reconnects) and to give up on any command after
 * {@code redis.timeout}; the first failure switches this sidecar to local buckets holding
 * {@code local_share} of each limit, and a background probe switches it back once Redis answers
 * again. Cooldowns are always kept locally as well, so a pause survives losing Redis.
 *
 * <p>A Redis Cluster ({@code redis-cluster://}) is used through Lettuce's cluster client, which
 * routes each command to the master of its key's slot. Every command and script here touches one
 * key (Bucket4j's compare-and-swap and {@link #EXTEND_COOLDOWN} alike), so no key needs a hash tag.
 */
public final class SharedLimits implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SharedLimits.class.getName());
    /** How often a sidecar that lost Redis checks whether it is back. */
    static final Duration PROBE_INTERVAL = Duration.ofMillis(250);

    // Set the key only if it holds no later end: two sidecars seeing different Retry-After values
    // keep the longer pause. PX makes the key vanish when the cooldown ends.
    private static final String EXTEND_COOLDOWN = "local current = redis.call('GET', KEYS[1]) "
            + "if current == false or tonumber(current) < tonumber(ARGV[1]) then "
            + "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end return 0";

    private final RedisConfig config;
    private final TimeSource time;
    /** The one server's (or Sentinels') URI; null for a cluster. */
    private final RedisURI uri;

    private final ClientResources resources;
    private final AbstractRedisClient client;
    private final AtomicBoolean probing = new AtomicBoolean();
    private final LongAdder failovers = new LongAdder();
    private final Store store = new Store();
    private volatile StatefulConnection<String, byte[]> connection;
    /** {@link #connection}'s commands: one server's, or the cluster's (routed by slot). */
    private volatile RedisClusterAsyncCommands<String, byte[]> commands;

    private volatile LettuceBasedProxyManager<String> proxies;
    private volatile boolean up;
    private volatile boolean closed;

    private SharedLimits(RedisConfig config, TimeSource time) {
        this.config = config;
        this.time = time;
        this.resources = DefaultClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(
                        Delay.exponential(Duration.ofMillis(20), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .build();
        TimeoutOptions timeouts = TimeoutOptions.enabled(config.timeout());
        SocketOptions sockets = SocketOptions.builder()
                .connectTimeout(Duration.ofSeconds(1))
                .keepAlive(true)
                .build();
        if (config.cluster()) {
            this.uri = null;
            RedisClusterClient cluster = RedisClusterClient.create(
                    resources,
                    config.clusterSeeds().stream().map(RedisURI::create).toList());
            cluster.setOptions(ClusterClientOptions.builder()
                    // A MOVED or ASK answer, or a lost node, makes Lettuce read the slot map again, so a
                    // resharding or a replica's promotion is followed without a restart.
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                            .enableAllAdaptiveRefreshTriggers()
                            .enablePeriodicRefresh(Duration.ofSeconds(30))
                            .build())
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(timeouts)
                    .socketOptions(sockets)
                    .build());
            this.client = cluster;
        } else {
            this.uri = RedisURI.create(config.uri().value());
            RedisClient single = RedisClient.create(resources, uri);
            single.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(timeouts)
                    .socketOptions(sockets)
                    .build());
            this.client = single;
        }
    }

    /**
     * Starts connecting and returns at once: until Redis answers, limits are local (at
     * {@code local_share}), so a sidecar starts even while Redis is down.
     */
    public static SharedLimits connect(RedisConfig config, TimeSource time) {
        SharedLimits shared = new SharedLimits(config, time);
        shared.probing.set(true);
        shared.probe();
        return shared;
    }

    /** Whether decisions currently go through Redis (false: local fallback). */
    public boolean usingRedis() {
        return up;
    }

    /** Times this sidecar fell back from Redis to local buckets. */
    public long failovers() {
        return failovers.sum();
    }

    LimitStore store() {
        return store;
    }

    /**
     * The labels of keys when {@code redis.key_secret} is set: the same on every replica, so a key's
     * bucket is one Redis key for all of them. Empty without it.
     */
    java.util.Optional<KeyLabels> sharedLabels() {
        return config.keySecret().map(secret -> new KeyLabels(secret.value().getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void close() {
        closed = true;
        up = false;
        // Shutting the client down closes its connection too.
        client.shutdownAsync(0, 1, TimeUnit.SECONDS);
        resources.shutdown(0, 1, TimeUnit.SECONDS);
    }

    // ---- health ----

    private void markDown(Throwable cause) {
        if (closed) return;
        boolean wasUp;
        synchronized (this) {
            wasUp = up;
            up = false;
        }
        if (wasUp) {
            failovers.increment();
            LOG.log(
                    System.Logger.Level.WARNING,
                    "Redis {0} unreachable ({1}); limits fall back to local buckets at local_share {2}",
                    config.uri(),
                    describe(cause),
                    config.localShare());
        }
        scheduleProbe();
    }

    private void scheduleProbe() {
        if (closed || !probing.compareAndSet(false, true)) return;
        time.schedule(PROBE_INTERVAL, this::probe);
    }

    /** One check whether Redis answers; on success decisions return to it. */
    private void probe() {
        if (closed) return;
        StatefulConnection<String, byte[]> c = connection;
        CompletableFuture<?> check;
        if (c == null) {
            RedisCodec<String, byte[]> codec = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
            CompletableFuture<RedisClusterAsyncCommands<String, byte[]>> opening;
            if (client instanceof RedisClusterClient cluster) {
                // The slot map first, without blocking (connectAsync needs it loaded, and loading it
                // through getPartitions() would block this thread).
                opening = cluster.refreshPartitionsAsync()
                        .toCompletableFuture()
                        .thenCompose(loaded -> cluster.connectAsync(codec))
                        .thenApply(opened -> {
                            commands = opened.async();
                            proxies = proxyManager(Bucket4jLettuce.casBasedBuilder(opened));
                            connection = opened;
                            return commands;
                        });
            } else {
                opening = ((RedisClient) client)
                        .connectAsync(codec, uri)
                        .toCompletableFuture()
                        .thenApply(opened -> {
                            commands = opened.async();
                            proxies = proxyManager(Bucket4jLettuce.casBasedBuilder(opened));
                            connection = opened;
                            return commands;
                        });
            }
            check = opening.thenCompose(async -> async.ping().toCompletableFuture());
        } else if (!c.isOpen()) {
            check = CompletableFuture.failedFuture(new IllegalStateException("not connected"));
        } else {
            check = commands.ping().toCompletableFuture();
        }
        check.whenComplete((pong, error) -> {
            probing.set(false);
            if (error != null) {
                scheduleProbe();
                return;
            }
            if (!up && !closed) {
                up = true;
                LOG.log(System.Logger.Level.INFO, "Redis {0} reachable; limits are shared again", config.uri());
            }
        });
    }

    private LettuceBasedProxyManager<String> proxyManager(
            Bucket4jLettuce.LettuceBasedProxyManagerBuilder<String> builder) {
        return builder.clientClock(TimeMeters.wallClock(time))
                .requestTimeout(config.timeout())
                .expirationAfterWrite(
                        ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
                .build();
    }

    private static String describe(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    private String key(String kind, String upstream) {
        return config.keyPrefix() + kind + ":" + upstream;
    }

    // ---- the store ----

    private final class Store implements LimitStore {
        @Override
        public TokenBucket bucket(String upstream, List<RateLimit> limits) {
            return new SharedTokenBucket(upstream, limits);
        }

        @Override
        public CompletableFuture<Instant> sharedCooldownEnd(String upstream) {
            RedisClusterAsyncCommands<String, byte[]> c = commands;
            if (!up || c == null) return CompletableFuture.completedFuture(Instant.MIN);
            return c.get(key("cooldown", upstream)).toCompletableFuture().handle((value, error) -> {
                if (error != null) {
                    markDown(error);
                    return Instant.MIN;
                }
                if (value == null) return Instant.MIN;
                try {
                    return Instant.ofEpochMilli(Long.parseLong(new String(value, StandardCharsets.US_ASCII)));
                } catch (NumberFormatException e) {
                    return Instant.MIN;
                }
            });
        }

        @Override
        public void shareCooldown(String upstream, Instant end) {
            RedisClusterAsyncCommands<String, byte[]> c = commands;
            if (!up || c == null) return;
            long ttl = Duration.between(time.clock().instant(), end).toMillis() + 1;
            if (ttl <= 0) return;
            c.<Long>eval(
                            EXTEND_COOLDOWN,
                            ScriptOutputType.INTEGER,
                            new String[] {key("cooldown", upstream)},
                            ascii(end.toEpochMilli()),
                            ascii(ttl))
                    .whenComplete((result, error) -> {
                        if (error != null) markDown(error);
                    });
        }

        @Override
        public boolean sharesCooldowns() {
            return true;
        }

        @Override
        public String toString() {
            return "redis(" + config.uri() + ")";
        }
    }

    private static byte[] ascii(long value) {
        return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
    }

    /** One upstream's bucket in Redis, with the local bucket it falls back to. */
    private final class SharedTokenBucket implements TokenBucket {
        private final String key;
        private final LocalTokenBucket fallback;
        private volatile BucketConfiguration configuration;
        private volatile AsyncBucketProxy proxy;
        private volatile LettuceBasedProxyManager<String> proxyOwner;

        SharedTokenBucket(String upstream, List<RateLimit> limits) {
            this.key = key("bucket", upstream);
            this.fallback = new LocalTokenBucket(limits, config.localShare(), time);
            this.configuration = BucketConfigs.of(limits, 1);
        }

        @Override
        public CompletableFuture<Reservation> reserve() {
            AsyncBucketProxy p = up ? proxy() : null;
            if (p == null) return fallback.reserve();
            return p.consumeIgnoringRateLimits(1).handle((wait, error) -> {
                if (error != null) {
                    markDown(error);
                    return fallback.reserveNow();
                }
                return new RemoteToken(wait, p);
            });
        }

        @Override
        public CompletableFuture<Boolean> tryTake() {
            AsyncBucketProxy p = up ? proxy() : null;
            if (p == null) return fallback.tryTake();
            return p.tryConsume(1).handle((taken, error) -> {
                if (error != null) {
                    markDown(error);
                    return fallback.tryTake(0);
                }
                return taken;
            });
        }

        private AsyncBucketProxy proxy() {
            LettuceBasedProxyManager<String> manager = proxies;
            if (manager == null) return null;
            AsyncBucketProxy p = proxy;
            if (p != null && proxyOwner == manager) return p;
            // The configuration is read when the key is absent (first use, or expired while idle).
            // Batching: while one compare-and-swap on the key is in flight, this sidecar's other
            // requests for it wait and go together in the next one. Without it, concurrent requests
            // on one hot key keep invalidating each other's swaps and retry (each try two round
            // trips). It changes no decision, unlike Bucket4j's delaying/predicting optimizations.
            p = manager.asAsync()
                    .builder()
                    .withOptimization(Optimizations.batching())
                    .build(key, () -> CompletableFuture.completedFuture(configuration));
            proxy = p;
            proxyOwner = manager;
            return p;
        }

        @Override
        public void reconfigure(List<RateLimit> limits) {
            fallback.reconfigure(limits);
            BucketConfiguration next = BucketConfigs.of(limits, 1);
            configuration = next;
            AsyncBucketProxy p = up ? proxy() : null;
            if (p != null) {
                p.replaceConfiguration(next, TokensInheritanceStrategy.AS_IS).whenComplete((v, error) -> {
                    if (error != null) markDown(error);
                });
            }
        }

        @Override
        public java.util.OptionalLong availableTokens() {
            // Reading Redis here would block; while shared, the count is not known locally.
            return up ? java.util.OptionalLong.empty() : fallback.availableTokens();
        }

        @Override
        public String toString() {
            return "SharedTokenBucket{" + key + "}";
        }
    }

    private record RemoteToken(long waitNanos, AsyncBucketProxy bucket) implements TokenBucket.Reservation {
        @Override
        public void release() {
            bucket.addTokens(1);
        }
    }
}
