package io.sluice.time;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.LongSupplier;

/**
 * One thread's timers, grouped by delay (whole milliseconds, rounded up): within a group every timer
 * is due its delay after it was scheduled, so the group is a FIFO in deadline order, and adding or
 * cancelling one is a few pointer moves. Each group keeps at most one timer of the underlying
 * scheduler (XNIO's per-thread queue, a {@code TreeSet}) armed, for its earliest deadline.
 *
 * <p>Why: every request arms a deadline and a response timeout and almost always cancels both, and
 * doing that in XNIO's queue (an insert and a removal in a {@code TreeSet} under a lock, each) was
 * 4.5 % of the IO threads' samples in a profile of bare passthrough. The delays are few (each
 * upstream's configured timeouts), so the groups are few; past {@link #MAX_GROUPS} distinct delays a
 * timer goes to the underlying scheduler directly.
 *
 * <p>Confined to its thread, except {@link Entry#cancel}, which any thread may call: on the owning
 * thread it unlinks the timer at once, elsewhere it only marks it, and the group drops it when it
 * reaches it. A timer never runs before its delay has passed; it may run up to the underlying
 * scheduler's resolution (a millisecond for XNIO) later.
 */
final class TimerQueues {
    /** Distinct delays grouped; more go to the underlying scheduler one by one. */
    static final int MAX_GROUPS = 32;

    private static final long MILLI = 1_000_000L;
    private static final System.Logger LOG = System.getLogger(TimerQueues.class.getName());

    /** The underlying scheduler: runs {@code task} on this thread after at least {@code nanos}. */
    interface Scheduler {
        TimeSource.Timer after(long nanos, Runnable task);
    }

    private final Thread owner;
    private final LongSupplier nanoTime;
    private final Scheduler scheduler;
    private Group[] groups = new Group[4];
    private int groupCount;

    TimerQueues(Thread owner, LongSupplier nanoTime, Scheduler scheduler) {
        this.owner = owner;
        this.nanoTime = nanoTime;
        this.scheduler = scheduler;
    }

    /** Runs {@code task} on this thread once {@code delayNanos} have passed, unless cancelled first. */
    TimeSource.Timer schedule(long delayNanos, Runnable task) {
        long delayMillis = (Math.max(0, delayNanos) + MILLI - 1) / MILLI;
        Group group = group(delayMillis);
        if (group == null) return scheduler.after(delayMillis * MILLI, task);
        Entry entry = new Entry(this, group, task, nanoTime.getAsLong() + delayMillis * MILLI);
        group.append(entry);
        // For the group's earliest: a task run by fire() may schedule while later ones wait, unarmed.
        if (!group.armed) arm(group, group.head.due);
        return entry;
    }

    private Group group(long delayMillis) {
        for (int i = 0; i < groupCount; i++) {
            if (groups[i].delayMillis == delayMillis) return groups[i];
        }
        if (groupCount == MAX_GROUPS) return null;
        if (groupCount == groups.length) groups = java.util.Arrays.copyOf(groups, groupCount * 2);
        Group group = new Group(delayMillis);
        groups[groupCount++] = group;
        return group;
    }

    private void arm(Group group, long due) {
        group.armed = true;
        scheduler.after(Math.max(0, due - nanoTime.getAsLong()), () -> fire(group));
    }

    /** The group's armed timer went off: runs what is due, then arms for the next, if any. */
    private void fire(Group group) {
        group.armed = false;
        long now = nanoTime.getAsLong();
        Entry head;
        while ((head = group.head) != null && head.due <= now) {
            group.unlink(head);
            if (head.claim(Entry.FIRED)) run(head.task);
        }
        // Marked cancelled from another thread: dropped here rather than kept until due.
        while ((head = group.head) != null && head.state == Entry.CANCELLED) group.unlink(head);
        if (head != null && !group.armed) arm(group, head.due);
    }

    /** One task's failure must not stop the ones due after it, nor the group's next arming. */
    private static void run(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.WARNING, "timer task failed", e);
        }
    }

    private boolean onOwner() {
        return Thread.currentThread() == owner;
    }

    /** Timers of one delay, oldest (so earliest due) first. */
    private static final class Group {
        final long delayMillis;
        Entry head;
        Entry tail;
        boolean armed;

        Group(long delayMillis) {
            this.delayMillis = delayMillis;
        }

        void append(Entry entry) {
            entry.prev = tail;
            if (tail == null) head = entry;
            else tail.next = entry;
            tail = entry;
        }

        void unlink(Entry entry) {
            if (entry.linked) {
                if (entry.prev == null) head = entry.next;
                else entry.prev.next = entry.next;
                if (entry.next == null) tail = entry.prev;
                else entry.next.prev = entry.prev;
                entry.prev = entry.next = null;
                entry.linked = false;
            }
        }
    }

    private static final class Entry implements TimeSource.Timer {
        static final int PENDING = 0;
        static final int FIRED = 1;
        static final int CANCELLED = 2;
        private static final VarHandle STATE;

        static {
            try {
                STATE = MethodHandles.lookup().findVarHandle(Entry.class, "state", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final TimerQueues queues;
        final Group group;
        final Runnable task;
        final long due;
        Entry prev;
        Entry next;
        boolean linked = true;
        volatile int state;

        Entry(TimerQueues queues, Group group, Runnable task, long due) {
            this.queues = queues;
            this.group = group;
            this.task = task;
            this.due = due;
        }

        boolean claim(int outcome) {
            return STATE.compareAndSet(this, PENDING, outcome);
        }

        @Override
        public boolean cancel() {
            if (!claim(CANCELLED)) return false;
            if (queues.onOwner()) group.unlink(this);
            return true;
        }
    }
}
