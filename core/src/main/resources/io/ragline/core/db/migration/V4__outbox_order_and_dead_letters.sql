-- Per-key commit order, rows Kafka refuses for good, and the dispatcher's fencing identity.
SELECT set_config('search_path', '${schema}, public', true);

-- Ids are drawn when a row is inserted, not when its transaction commits: two transactions
-- writing the same key could commit in the opposite order of their ids, and the dispatcher, which
-- publishes a key's rows in id order, would then publish them out of commit order. This trigger
-- makes a writer take a transaction-scoped advisory lock on (schema, topic, key) and only then
-- draw the row's id, so for one key id order is commit order: a second writer of the key waits
-- until the first commits or rolls back. Rows without a key have no order to keep.
-- Each distinct key of a transaction holds one lock until commit (max_locks_per_transaction):
-- a bulk load of many thousands of keys in ONE transaction that does not need per-key order may
-- opt out with SET LOCAL ragline.outbox_key_lock = 'off'.
CREATE FUNCTION outbox_key_order() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.key IS NOT NULL AND coalesce(current_setting('ragline.outbox_key_lock', true), '') <> 'off' THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(TG_TABLE_SCHEMA || '.' || NEW.topic || '/' || NEW.key, 0));
        NEW.id := nextval('${schema}.outbox_id_seq'::regclass);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER outbox_key_order BEFORE INSERT ON outbox
    FOR EACH ROW EXECUTE FUNCTION outbox_key_order();

-- A row Kafka refuses for good (too large, the topic does not exist and auto-creation is off)
-- would hold back every later row of its key. The dispatcher counts such failures here, holds
-- only that key back (with backoff), and after RAGLINE_OUTBOX_MAX_ATTEMPTS moves the row to
-- outbox_dead_letters so the key moves on. Kafka being unreachable is not counted.
ALTER TABLE outbox ADD COLUMN attempts integer NOT NULL DEFAULT 0,
                   ADD COLUMN last_error text;

CREATE TABLE outbox_dead_letters (
    id               bigint PRIMARY KEY,
    topic            text NOT NULL,
    key              text,
    payload          jsonb,
    headers          jsonb NOT NULL,
    priority         smallint NOT NULL,
    created_at       timestamptz NOT NULL,
    attempts         integer NOT NULL,
    last_error       text,
    dead_lettered_at timestamptz NOT NULL DEFAULT now()
);

-- The Kafka transactional.id of this schema's outbox. Every dispatcher of the schema uses the
-- same one, so a new leader's initTransactions() fences the producer of an old leader that froze
-- (GC pause, SIGSTOP) past its lease: nothing the old one sends afterwards becomes visible to
-- read_committed consumers. Random per database, so two databases never fence each other.
CREATE TABLE dispatcher_identity (
    name             text PRIMARY KEY,
    transactional_id text NOT NULL UNIQUE
);
INSERT INTO dispatcher_identity (name, transactional_id)
VALUES ('outbox', 'ragline-outbox-' || gen_random_uuid());
