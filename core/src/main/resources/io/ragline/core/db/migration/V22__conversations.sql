-- Conversation memory (docs/architecture.md, "Conversation memory"): sessions and their messages,
-- written by the ingest-worker from the `conversations` topic, by the console's API and by
-- `ragline conversations import`, all through one home (core.conversations.Conversations).
--
-- Ids are the producer's: a session's id, and a message's id within its session. A message is
-- stored once per (session, id): a redelivered record, a retried API call or a second import
-- changes nothing (ON CONFLICT DO NOTHING). A session's history is in the order its messages were
-- stored (seq): the order they were sent, as the topic's key (the session id) keeps a session on one
-- partition, the API appends a request's messages in their order, and an import copies them in
-- created_at order. created_at is the producer's time when it gave one, else the time of storing.
-- Deleting a session deletes its messages.
SELECT set_config('search_path', '${schema}, public', true);

CREATE TABLE conversation_sessions (
    id         text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
    seq        bigint GENERATED ALWAYS AS IDENTITY UNIQUE, -- the console's pages: newest stored first
    title      text CHECK (length(title) <= 4096),
    metadata   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    -- Conversation memory: each message stored is also published (through the outbox, in the same
    -- transaction) as a document of this collection, so the ingest- and embedding-workers make it
    -- searchable like any document; deleting the session deletes those documents. NULL: not embedded.
    -- A session cannot name a collection that does not exist (its messages would all be dead
    -- letters of the documents topic); a collection deleted leaves its sessions without memory.
    collection text REFERENCES collections (name) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_sessions_metadata_idx ON conversation_sessions USING gin (metadata jsonb_path_ops);

CREATE TABLE conversation_messages (
    session_id text NOT NULL REFERENCES conversation_sessions (id) ON DELETE CASCADE,
    id         text NOT NULL CHECK (length(id) BETWEEN 1 AND 200),
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    role       text NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
    content    text NOT NULL,
    metadata   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, id)
);
-- A session's history in order, and its latest N (the same index read backwards).
CREATE UNIQUE INDEX conversation_messages_history_idx ON conversation_messages (session_id, seq);

-- One row per session, its turns in order as the chat format of fine-tuning tools has them
-- ({"messages":[{"role","content"}]}), and the columns pgml.tune(task => 'conversation') and
-- `ragline conversations export` filter on. Sessions without messages are left out.
CREATE VIEW conversation_training_data AS
SELECT s.id AS session_id,
       s.title,
       s.metadata,
       s.created_at,
       s.updated_at,
       count(*)::integer AS turns,
       jsonb_build_object('messages',
           jsonb_agg(jsonb_build_object('role', m.role, 'content', m.content) ORDER BY m.seq))
           AS conversation
  FROM conversation_sessions s
  JOIN conversation_messages m ON m.session_id = s.id
 GROUP BY s.id;

-- The shape pgml.tune(task => 'conversation') reads: one row per assistant reply that follows a
-- user message, with the session's first system message (or ''). A training request names it as
-- data.relation, with label_column 'assistant_message' and hyperparameters' dataset_args
-- {"system_column": "system", "user_column": "user_message", "assistant_column": "assistant_message"}.
CREATE VIEW conversation_pairs AS
SELECT o.session_id,
       coalesce(sys.content, '') AS system,
       o.previous_content AS user_message,
       o.content AS assistant_message,
       o.created_at
  FROM (SELECT m.session_id, m.role, m.content, m.created_at, m.seq,
               lag(m.role) OVER w AS previous_role,
               lag(m.content) OVER w AS previous_content
          FROM conversation_messages m
        WINDOW w AS (PARTITION BY m.session_id ORDER BY m.seq)) o
  LEFT JOIN LATERAL (SELECT s.content FROM conversation_messages s
                      WHERE s.session_id = o.session_id AND s.role = 'system'
                      ORDER BY s.seq LIMIT 1) sys ON true
 WHERE o.role = 'assistant' AND o.previous_role = 'user';

COMMENT ON TABLE conversation_sessions IS 'Conversation sessions (memory); the producer''s ids.';
COMMENT ON TABLE conversation_messages IS
    'Messages of conversation sessions, once per (session_id, id); history order: seq.';

-- Deletes a session with its messages, in the caller's transaction, and returns whether it existed.
-- For a session with a memory collection it first writes to the outbox the delete of each document
-- its messages became (`conversation/<session>/<message>`, the documents contract's delete, as
-- DocumentCodec encodes it: ConversationsIT holds the two equal); they follow the upserts of the same
-- keys, so no document outlives its session, even one not ingested yet. (Messages with blank content
-- were never published: deleting a document that does not exist is harmless.) The one home of a session's deletion: the console's DELETE, and retention.
CREATE FUNCTION delete_conversation_session(p_id text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_collection text;
    v_key_lock text := coalesce(current_setting('ragline.outbox_key_lock', true), '');
BEGIN
    SELECT collection INTO v_collection FROM ${schema}.conversation_sessions WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF v_collection IS NOT NULL THEN
        -- Without the outbox's per-key lock (one lock per row: a long session would exhaust the lock
        -- table). Its order is kept anyway: every writer of these keys holds this session's row
        -- (the append's upsert, the API's FOR KEY SHARE, a message insert's foreign key), so their
        -- rows were committed before this FOR UPDATE or wait for this transaction.
        PERFORM set_config('ragline.outbox_key_lock', 'off', true);
        INSERT INTO ${schema}.outbox (topic, key, payload)
        SELECT 'documents', v_collection || '/conversation/' || p_id || '/' || m.id,
               jsonb_build_object('schema_version', 1, 'op', 'delete', 'collection', v_collection,
                                  'id', 'conversation/' || p_id || '/' || m.id)
          FROM ${schema}.conversation_messages m
         WHERE m.session_id = p_id
         ORDER BY m.seq;
        PERFORM set_config('ragline.outbox_key_lock', v_key_lock, true);
    END IF;
    DELETE FROM ${schema}.conversation_sessions WHERE id = p_id;
    RETURN true;
END
$$;
