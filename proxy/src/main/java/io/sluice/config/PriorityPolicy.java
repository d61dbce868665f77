package io.sluice.config;

import java.util.EnumMap;
import java.util.Map;

/**
 * How an upstream's waiting requests are ordered between classes (docs/limits.md, "Priority").
 * {@code weights} share the tokens between classes that are all waiting (8 : 2 : 1 gives an
 * interactive request 8 turns for a batch item's 2); {@code reserve} keeps a share of the bucket's
 * burst for a class: no class below it may take a token that would leave less than that share;
 * {@code defaultBatch} is the class of a batch item that names none.
 */
public record PriorityPolicy(Map<Priority, Integer> weights, Map<Priority, Double> reserve, Priority defaultBatch) {
    /** The weights when {@code priority.weights} does not state them. */
    public static final Map<Priority, Integer> DEFAULT_WEIGHTS =
            Map.of(Priority.INTERACTIVE, 8, Priority.BATCH, 2, Priority.BACKGROUND, 1);

    public static final int MAX_WEIGHT = 1000;

    public PriorityPolicy {
        EnumMap<Priority, Integer> w = new EnumMap<>(DEFAULT_WEIGHTS);
        w.putAll(weights);
        for (var e : w.entrySet()) {
            int weight = e.getValue();
            if (weight < 1 || weight > MAX_WEIGHT) {
                throw new IllegalArgumentException(
                        "weights." + e.getKey().tag() + " must be 1 to " + MAX_WEIGHT + ", got " + weight);
            }
        }
        EnumMap<Priority, Double> r = new EnumMap<>(Priority.class);
        r.putAll(reserve);
        double sum = 0;
        for (var e : r.entrySet()) {
            double share = e.getValue();
            if (e.getKey() == Priority.BACKGROUND && share != 0) {
                throw new IllegalArgumentException("reserve.background: no class ranks below background to keep out");
            }
            if (!(share >= 0 && share < 1)) {
                throw new IllegalArgumentException(
                        "reserve." + e.getKey().tag() + " must be at least 0% and below 100%, got " + share);
            }
            sum += share;
        }
        if (sum >= 1)
            throw new IllegalArgumentException("reserve: the shares add up to " + sum + ", which leaves nothing");
        if (defaultBatch == null) throw new IllegalArgumentException("default_batch: required");
        weights = Map.copyOf(w);
        reserve = Map.copyOf(r);
    }

    public int weight(Priority p) {
        return weights.get(p);
    }

    /**
     * The share of the burst that a request of class {@code p} must leave in the bucket: the sum of
     * the reserves of the classes above it (0 for interactive).
     */
    public double keepShare(Priority p) {
        double keep = 0;
        for (Priority above : Priority.all()) {
            if (above.ordinal() >= p.ordinal()) break;
            keep += reserve.getOrDefault(above, 0.0);
        }
        return keep;
    }
}
