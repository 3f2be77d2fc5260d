package io.ragline.core.consumer;

import java.util.List;

/**
 * What a worker consumes and how: its topics, how records are decoded and written, its failure
 * policy, and at most how many records one batch (one Postgres transaction) holds. The consumer
 * group is {@code <RAGLINE_GROUP_PREFIX>-<name>}.
 *
 * @param maxPollRecords records per batch; 0 takes the process's {@code RAGLINE_MAX_POLL_RECORDS}.
 *     A writer whose records are expensive (an embedding request can be hundreds of chunks)
 *     bounds its batches so one transaction stays short and well within {@code
 *     RAGLINE_MAX_POLL_INTERVAL}.
 * @param overlapWrites whether batch N+1 is polled and prepared ({@link BatchWriter#prepare})
 *     while batch N's transaction runs on a writer thread ({@link OverlappedWrites}): for a writer
 *     whose prepare is the long part (a model's inference)
 */
public record ConsumerBinding<T>(
        String name,
        List<String> topics,
        RecordDecoder<T> decoder,
        BatchWriter<T> writer,
        FailurePolicy policy,
        int maxPollRecords,
        boolean overlapWrites) {

    public ConsumerBinding {
        topics = List.copyOf(topics);
        if (topics.isEmpty()) {
            throw new IllegalArgumentException("a consumer binding needs at least one topic");
        }
        if (maxPollRecords < 0) {
            throw new IllegalArgumentException("maxPollRecords must be 0 (the default) or positive: " + maxPollRecords);
        }
    }

    public ConsumerBinding(
            String name, List<String> topics, RecordDecoder<T> decoder, BatchWriter<T> writer, FailurePolicy policy) {
        this(name, topics, decoder, writer, policy, 0, false);
    }

    public ConsumerBinding(String name, List<String> topics, RecordDecoder<T> decoder, BatchWriter<T> writer) {
        this(name, topics, decoder, writer, FailurePolicy.defaults());
    }

    /** The same binding with batches of at most {@code records} records. */
    public ConsumerBinding<T> withMaxPollRecords(int records) {
        return new ConsumerBinding<>(name, topics, decoder, writer, policy, records, overlapWrites);
    }

    /** The same binding with its writes overlapped with the next batch's prepare, or not. */
    public ConsumerBinding<T> withOverlappedWrites(boolean overlap) {
        return new ConsumerBinding<>(name, topics, decoder, writer, policy, maxPollRecords, overlap);
    }
}
