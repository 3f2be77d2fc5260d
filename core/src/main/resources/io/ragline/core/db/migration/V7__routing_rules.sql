-- Routing of claude_events (ARCHITECTURE.md section 2): the rules that map an event's source and
-- type to an action, and what a replay needs. (V6 and V8 are reserved for other changes.)
SELECT set_config('search_path', '${schema}, public', true);

-- One routing rule per row. The ingest-worker reads them (with the rules of the file named by
-- RAGLINE_ROUTING_RULES, which come first) and keeps them for RAGLINE_ROUTING_RULES_REFRESH.
-- Rules are tried in order of position, then name; the first whose source and event_type globs
-- match an event decides. paths maps a field of the produced message to a JSON Pointer into the
-- claude_events message (/payload/... is the webhook body); fixed maps a field to a JSON value.
CREATE TABLE routing_rules (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
    position    integer NOT NULL DEFAULT 100,
    enabled     boolean NOT NULL DEFAULT true,
    source      text NOT NULL DEFAULT '*',
    event_type  text NOT NULL DEFAULT '*',
    action      text NOT NULL CHECK (action IN ('ingest_document', 'request_training', 'record')),
    paths       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(paths) = 'object'),
    fixed       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(fixed) = 'object'),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A replay publishes the event again with "replay": replays; the routing consumer routes a
-- message whose replay equals the row's replays once, and skips older generations (a plain
-- redelivery of a message routed before).
ALTER TABLE claude_events ADD COLUMN replays integer NOT NULL DEFAULT 0,
                          ADD COLUMN replayed_at timestamptz;
CREATE INDEX claude_events_source_idx ON claude_events (source, id);

-- The claude_events message, one definition for the insert trigger and for replays.
CREATE FUNCTION claude_event_message(e claude_events) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'schema_version', 1,
        'id', e.id,
        'source', e.source,
        'delivery_id', e.delivery_id,
        'event_type', e.event_type,
        'priority', e.priority,
        'payload', e.payload,
        'headers', e.headers,
        'created_at', e.created_at,
        'replay', e.replays)
$$;

CREATE OR REPLACE FUNCTION claude_events_outbox() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ${schema}.outbox (topic, key, payload, headers, priority)
    VALUES (
        'claude_events',
        NEW.source || '/' || NEW.delivery_id,
        ${schema}.claude_event_message(NEW),
        jsonb_build_object('ragline.event.source', NEW.source, 'ragline.event.type', NEW.event_type),
        NEW.priority);
    RETURN NULL;
END
$$;

-- Routes an event again: status back to received, replays + 1, and the message re-published
-- through the outbox in the same transaction. Returns the row, or nothing when there is no such
-- event. `ragline events replay <id>` calls it; any SQL client may too.
CREATE FUNCTION replay_claude_event(event_id bigint) RETURNS SETOF claude_events
LANGUAGE plpgsql AS $$
DECLARE
    e ${schema}.claude_events;
BEGIN
    UPDATE ${schema}.claude_events
       SET status = 'received', replays = replays + 1, replayed_at = now(), last_error = NULL,
           processed_at = NULL
     WHERE id = event_id
    RETURNING * INTO e;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    INSERT INTO ${schema}.outbox (topic, key, payload, headers, priority)
    VALUES (
        'claude_events',
        e.source || '/' || e.delivery_id,
        ${schema}.claude_event_message(e),
        jsonb_build_object('ragline.event.source', e.source, 'ragline.event.type', e.event_type,
                           'ragline.event.replay', e.replays::text),
        e.priority);
    RETURN NEXT e;
END
$$;

COMMENT ON COLUMN claude_events.status IS
    'received when inserted or replayed (its outbox row is written by the claude_events_outbox trigger or by'
    ' replay_claude_event); processed, failed or ignored once routed by the ingest-worker.';
COMMENT ON COLUMN claude_events.attempts IS
    'Routing decisions committed for this event: 1 after its first routing, one more per routed replay.';
