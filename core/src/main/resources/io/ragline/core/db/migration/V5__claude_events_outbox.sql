-- Every row inserted into claude_events, by the webhook receiver or by any SQL client (psql,
-- PostgREST, pg_cron), is published to the claude_events topic the same way: this trigger writes
-- its outbox row in the inserting transaction, and the event-dispatcher publishes it
-- (RAGLINE_TOPIC_PREFIX is added by the dispatcher). A redelivered webhook inserts nothing
-- (ON CONFLICT DO NOTHING), so it fires no trigger and publishes nothing twice.
-- (V4 is reserved for another change.)
SELECT set_config('search_path', '${schema}, public', true);

CREATE FUNCTION claude_events_outbox() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ${schema}.outbox (topic, key, payload, headers, priority)
    VALUES (
        'claude_events',
        NEW.source || '/' || NEW.delivery_id,
        jsonb_build_object(
            'schema_version', 1,
            'id', NEW.id,
            'source', NEW.source,
            'delivery_id', NEW.delivery_id,
            'event_type', NEW.event_type,
            'priority', NEW.priority,
            'payload', NEW.payload,
            'headers', NEW.headers,
            'created_at', NEW.created_at),
        jsonb_build_object('ragline.event.source', NEW.source, 'ragline.event.type', NEW.event_type),
        NEW.priority);
    RETURN NULL;
END
$$;

CREATE TRIGGER claude_events_outbox AFTER INSERT ON claude_events
    FOR EACH ROW EXECUTE FUNCTION claude_events_outbox();

COMMENT ON COLUMN claude_events.status IS
    'received when inserted (its outbox row is written by the claude_events_outbox trigger); processed, failed or'
    ' ignored once routed. published is not set: the outbox row''s removal by the dispatcher marks publication.';
