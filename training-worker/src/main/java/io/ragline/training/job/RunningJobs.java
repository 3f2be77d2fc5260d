package io.ragline.training.job;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jobs the training loop handed to job threads. A job is <em>in flight</em> while its
 * partition is this loop's and held for it: only an in-flight job's end commits, resumes or
 * rewinds its partition. A job whose partition was revoked or lost, or whose entry a later job of
 * the same partition replaced, is an <em>orphan</em>: it runs on (its row is watched by whoever
 * owns the record now) and is only waited for at shutdown, so that it goes back to {@code queued}
 * before the process exits. Used by the loop's thread only.
 */
final class RunningJobs {
    private static final Logger log = LoggerFactory.getLogger(RunningJobs.class);

    private final Map<TopicPartition, Job> inFlight = new HashMap<>();
    private final List<Job> orphans = new ArrayList<>();

    /** A job: its record's offset and the job thread's result (row final?). */
    record Job(long offset, long jobId, FutureTask<Boolean> result) {}

    /** {@code job} runs for {@code partition}'s record; a job it replaces becomes an orphan. */
    void start(TopicPartition partition, Job job) {
        Job replaced = inFlight.put(partition, job);
        if (replaced != null) {
            log.warn(
                    "job {} of {} replaced by job {}: waited for at shutdown only",
                    replaced.jobId(),
                    partition,
                    job.jobId());
            orphans.add(replaced);
        }
    }

    /** The partitions are revoked or lost: their jobs run on as orphans, never committed here. */
    void orphan(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            Job job = inFlight.remove(tp);
            if (job != null) {
                log.info(
                        "partition {} revoked while job {} runs: the job goes on, the partition's owner commits",
                        tp,
                        job.jobId());
                orphans.add(job);
            }
        }
    }

    /** Removes and returns the in-flight jobs that ended; forgets orphans that ended. */
    Map<TopicPartition, Job> takeEnded() {
        orphans.removeIf(job -> job.result().isDone());
        Map<TopicPartition, Job> ended = new HashMap<>();
        inFlight.forEach((tp, job) -> {
            if (job.result().isDone()) {
                ended.put(tp, job);
            }
        });
        inFlight.keySet().removeAll(ended.keySet());
        return ended;
    }

    boolean isEmpty() {
        return inFlight.isEmpty() && orphans.isEmpty();
    }

    /**
     * Waits for every job, in flight or orphaned, within {@code timeout} of real time (it bounds
     * the process's shutdown, not anything scheduled on a clock); cancels those still running.
     */
    void awaitAll(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Job> all = new ArrayList<>(inFlight.values());
        all.addAll(orphans);
        for (Job job : all) {
            try {
                job.result().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                job.result().cancel(true);
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                job.result().cancel(true);
            }
        }
        inFlight.clear();
        orphans.clear();
    }
}
