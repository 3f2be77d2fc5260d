-- Leadership of the event-dispatcher: one lease row per schema's outbox. A lease (not a session
-- advisory lock) so that it also works through PgBouncer in transaction pooling (poll-only mode).
SELECT set_config('search_path', '${schema}, public', true);

CREATE TABLE dispatcher_leases (
    name        text PRIMARY KEY,
    holder      text NOT NULL,
    acquired_at timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
