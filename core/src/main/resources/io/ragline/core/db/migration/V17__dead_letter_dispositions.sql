-- What an operator did with a dead letter (the console's /api/v1/dead-letters): redriven or
-- discarded, by whom, when. One row per dead letter at most, so a second redrive (or a discard
-- after a redrive) of the same dead letter is refused (409) by the unique indexes below, even when
-- two operators act at the same instant: the second insert waits for the first transaction and
-- then fails.
--
-- kind 'kafka': a record of a dead-letter topic (<topic>.dlq, the name with RAGLINE_TOPIC_PREFIX),
-- named by topic, partition and offset; Kafka keeps the record, this row says it was dealt with.
-- A redrive published it again to its source topic; detail holds where ({"topic", "partition",
-- "offset"}) and whether its value was replaced.
--
-- kind 'outbox': a row of outbox_dead_letters, named by its id (the outbox id it had). The row is
-- deleted in the same transaction (the table holds what still waits for an operator); dead_letter
-- keeps it as it was. A redrive inserted it into the outbox again (through the one Outbox API).
SELECT set_config('search_path', '${schema}, public', true);

CREATE TABLE dead_letter_dispositions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('kafka', 'outbox')),
    topic           text NOT NULL,
    kafka_partition integer,
    kafka_offset    bigint,
    outbox_id       bigint,
    action          text NOT NULL CHECK (action IN ('redriven', 'discarded')),
    actor           text NOT NULL,
    actor_role      text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    detail          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
    dead_letter     jsonb,
    CHECK ((kind = 'kafka') = (kafka_partition IS NOT NULL AND kafka_offset IS NOT NULL)),
    CHECK ((kind = 'outbox') = (outbox_id IS NOT NULL))
);

CREATE UNIQUE INDEX dead_letter_dispositions_kafka
    ON dead_letter_dispositions (topic, kafka_partition, kafka_offset) WHERE kind = 'kafka';
CREATE UNIQUE INDEX dead_letter_dispositions_outbox
    ON dead_letter_dispositions (outbox_id) WHERE kind = 'outbox';

COMMENT ON TABLE dead_letter_dispositions IS
    'Dead letters an operator redrove or discarded (the console); at most one row per dead letter.';
COMMENT ON COLUMN dead_letter_dispositions.actor IS
    'The caller: the NAME of a ROLE:NAME:TOKEN token, "admin token <hash prefix>" for a bare one, or "anonymous".';
