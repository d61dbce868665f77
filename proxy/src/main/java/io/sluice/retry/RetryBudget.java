package io.sluice.retry;

import io.sluice.config.RetryPolicy;

/**
 * Bounds one upstream's retries to a share of its requests (the token scheme of Finagle's and
 * Envoy's retry budgets): every request deposits {@code budget} of a token, every retry spends a
 * whole one, and at most {@code budget_reserve} tokens (at least one) are saved up. Over any run of
 * N requests there are thus at most {@code budget_reserve + budget × N} retries, so when an
 * upstream fails wholesale Sluice adds a fifth to its load instead of multiplying it by
 * {@code max_attempts}.
 */
final class RetryBudget {
    private double balance;

    RetryBudget(RetryPolicy policy) {
        this.balance = cap(policy);
    }

    synchronized void deposit(RetryPolicy policy) {
        balance = Math.min(cap(policy), balance + policy.budget());
    }

    /** Takes a token for one retry, if there is one. */
    synchronized boolean tryWithdraw() {
        if (balance < 1) return false;
        balance -= 1;
        return true;
    }

    synchronized double balance() {
        return balance;
    }

    private static double cap(RetryPolicy policy) {
        return Math.max(1, policy.budgetReserve());
    }
}
