-- Offsets of consumed Kafka records, written in the same transaction as the records' effects.
-- A batch redelivered after a crash between the database commit and the Kafka offset commit
-- finds its offsets here and is skipped, so each record takes effect exactly once.
SELECT set_config('search_path', '${schema}, public', true);

CREATE TABLE consumer_offsets (
    group_id    text NOT NULL,
    topic       text NOT NULL,
    partition   integer NOT NULL CHECK (partition >= 0),
    next_offset bigint NOT NULL CHECK (next_offset >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);
