import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.lang.reflect.Method;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a full cache keeps of a stream of responses it has never seen, on fake time: the stored-miss
 * row (c″) of the bench without the HTTP. Caffeine is built as {@code io.sluice.cache.Store} builds
 * it (weigher, per-entry expiry, maintenance on the writing thread), each URL is looked up twice and
 * then written (as the cache stage does on a miss), 20,000 unique 1,764-byte entries a second (the
 * bench's rate and heap per stored 1 KB response) into 256 MiB, each kept for {@code args[0]}
 * seconds (60: nginx's {@code max-age=60}).
 *
 * <p>Every {@code args[1]} seconds (10) it prints how many of that second's newcomers, and of the second before's, are
 * still in the cache (1 in 100 sampled), and the size of Caffeine's admission window, read by
 * reflection (an internal method; this is a measurement, not an API use). Run:
 *
 * <pre>
 * java -cp ~/.m2/repository/com/github/ben-manes/caffeine/caffeine/3.2.4/caffeine-3.2.4.jar \
 *     deploy/bench/cache/CacheWaves.java 60 10
 * </pre>
 */
public class CacheWaves {
    public static void main(String[] args) throws Exception {
        long retainNanos = Long.parseLong(args.length > 0 ? args[0] : "60") * 1_000_000_000L;
        int every = Integer.parseInt(args.length > 1 ? args[1] : "10");
        int perSecond = 20_000;
        int weight = 1764;
        AtomicLong now = new AtomicLong(1);
        Cache<String, byte[]> cache = Caffeine.newBuilder()
                .ticker(now::get)
                .executor(Runnable::run)
                .maximumWeight(256L << 20)
                .weigher((String key, byte[] value) -> weight)
                .expireAfter(new Expiry<String, byte[]>() {
                    @Override
                    public long expireAfterCreate(String key, byte[] value, long currentTime) {
                        return retainNanos;
                    }

                    @Override
                    public long expireAfterUpdate(String key, byte[] value, long currentTime, long duration) {
                        return retainNanos;
                    }

                    @Override
                    public long expireAfterRead(String key, byte[] value, long currentTime, long duration) {
                        return duration;
                    }
                })
                .build();
        Object bounded = cache.asMap();
        Method windowMaximum = method(bounded.getClass(), "windowMaximum");
        Method maximum = method(bounded.getClass(), "maximum");
        byte[] body = new byte[0];
        long next = 0;
        for (int second = 1; second <= 300; second++) {
            long first = next;
            for (int i = 0; i < perSecond; i++) {
                String url = "/fresh/1kb.json?" + next++;
                now.addAndGet(1_000_000_000L / perSecond);
                cache.getIfPresent(url);
                cache.getIfPresent(url);
                cache.asMap().compute(url, (key, old) -> body);
            }
            if (second % every != 0) continue;
            System.out.printf(
                    "t=%3d s  entries %,d  window %.1f%% of the maximum  newcomers kept: this second's %d/200, the second before's %d/200%n",
                    second,
                    cache.estimatedSize(),
                    100.0 * (long) windowMaximum.invoke(bounded) / (long) maximum.invoke(bounded),
                    kept(cache, first, next),
                    kept(cache, first - perSecond, first));
        }
    }

    private static int kept(Cache<String, byte[]> cache, long from, long to) {
        int kept = 0;
        for (long i = Math.max(0, from); i < to; i += 100)
            if (cache.asMap().containsKey("/fresh/1kb.json?" + i)) kept++;
        return kept;
    }

    private static Method method(Class<?> type, String name) throws NoSuchMethodException {
        for (Class<?> c = type; c != null; c = c.getSuperclass())
            for (Method m : c.getDeclaredMethods())
                if (m.getName().equals(name) && m.getParameterCount() == 0) {
                    m.setAccessible(true);
                    return m;
                }
        throw new NoSuchMethodException(name);
    }
}
