package io.ragline.core.consumer;

import java.util.List;

/**
 * What a worker consumes and how: its topics, how records are decoded and written, and its
 * failure policy. The consumer group is {@code <RAGLINE_GROUP_PREFIX>-<name>}.
 */
public record ConsumerBinding<T>(
        String name, List<String> topics, RecordDecoder<T> decoder, BatchWriter<T> writer, FailurePolicy policy) {

    public ConsumerBinding {
        topics = List.copyOf(topics);
        if (topics.isEmpty()) {
            throw new IllegalArgumentException("a consumer binding needs at least one topic");
        }
    }

    public ConsumerBinding(String name, List<String> topics, RecordDecoder<T> decoder, BatchWriter<T> writer) {
        this(name, topics, decoder, writer, FailurePolicy.defaults());
    }
}
