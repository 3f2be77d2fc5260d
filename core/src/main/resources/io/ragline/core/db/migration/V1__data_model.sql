-- Ragline data model (ARCHITECTURE.md section 5). Runs inside the Ragline schema (Flyway's
-- default schema, ${schema}); the vector extension lives in public and is created before this.
-- Search path during migration: ${schema}, public.
SELECT set_config('search_path', '${schema}, public', true);

-- A named pipeline: embedding model and dimensions, chunking settings, status and last error.
CREATE TABLE collections (
    id                   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    embedding_provider   text NOT NULL DEFAULT 'onnx' CHECK (embedding_provider IN ('onnx', 'openai', 'pgml')),
    embedding_model      text NOT NULL DEFAULT 'all-MiniLM-L6-v2',
    dimensions           integer NOT NULL DEFAULT 384 CHECK (dimensions BETWEEN 1 AND 2000),
    chunk_size_tokens    integer NOT NULL DEFAULT 256 CHECK (chunk_size_tokens > 0),
    chunk_overlap_tokens integer NOT NULL DEFAULT 32 CHECK (chunk_overlap_tokens >= 0),
    chunk_template       text NOT NULL DEFAULT E'{title}\n{chunk}',
    settings             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'failed', 'deleting')),
    last_error           text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (chunk_overlap_tokens < chunk_size_tokens)
);

-- One row per producer document; a delete keeps the row (status 'deleted') so that a stale
-- upsert arriving later is recognised by its version and ignored.
CREATE TABLE documents (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection_id integer NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    external_id   text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 512),
    title         text,
    source        text,
    content_hash  bytea,
    metadata      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    version       bigint NOT NULL DEFAULT 0,
    status        text NOT NULL DEFAULT 'received'
                  CHECK (status IN ('received', 'chunked', 'embedded', 'failed', 'deleted')),
    error         text,
    chunk_count   integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    chunked_at    timestamptz,
    embedded_at   timestamptz,
    deleted_at    timestamptz,
    UNIQUE (collection_id, external_id),
    UNIQUE (id, collection_id) -- target of chunks' composite key: a chunk's collection is its document's
);
CREATE INDEX documents_collection_status_idx ON documents (collection_id, status);
CREATE INDEX documents_metadata_idx ON documents USING gin (metadata jsonb_path_ops);

-- Chunks carry their collection so each collection gets its own partial HNSW index over
-- embedding::vector(dimensions): one table, an index per collection and dimension.
CREATE TABLE chunks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id      bigint NOT NULL,
    collection_id    integer NOT NULL,
    document_version bigint NOT NULL,
    seq              integer NOT NULL CHECK (seq >= 0),
    content          text NOT NULL,
    token_count      integer NOT NULL CHECK (token_count >= 0),
    embedding        vector,
    model            text,
    embedded_at      timestamptz,
    UNIQUE (document_id, seq),
    FOREIGN KEY (document_id, collection_id) REFERENCES documents (id, collection_id) ON DELETE CASCADE
);
CREATE INDEX chunks_pending_idx ON chunks (document_id) WHERE embedding IS NULL;

-- Creates (if missing) the HNSW cosine index of one collection. Called when a collection is
-- created; an embedding of the wrong dimension then fails its insert instead of hiding.
CREATE FUNCTION ensure_collection_index(p_collection_id integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    dims integer;
    index_name text := format('chunks_embedding_c%s_idx', p_collection_id);
BEGIN
    SELECT dimensions INTO dims FROM ${schema}.collections WHERE id = p_collection_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    EXECUTE format(
        'CREATE INDEX IF NOT EXISTS %I ON ${schema}.chunks USING hnsw ((embedding::public.vector(%s)) public.vector_cosine_ops) WHERE collection_id = %s',
        index_name, dims, p_collection_id);
    RETURN index_name;
END
$$;

-- Every collection gets its index when it is created. Building it takes a SHARE lock on chunks
-- (writes to every collection wait while it scans the table), so create collections while the
-- table is small or quiet. Dimensions are fixed: changing them means a new collection.
CREATE FUNCTION collection_created() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ${schema}.ensure_collection_index(NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER collection_created AFTER INSERT ON collections
    FOR EACH ROW EXECUTE FUNCTION collection_created();

CREATE FUNCTION collection_dimensions_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the dimensions of a collection cannot change (collection "%": % to %); create a new collection',
        OLD.name, OLD.dimensions, NEW.dimensions USING ERRCODE = 'feature_not_supported';
END
$$;
CREATE TRIGGER collection_dimensions_fixed BEFORE UPDATE OF dimensions ON collections
    FOR EACH ROW WHEN (OLD.dimensions IS DISTINCT FROM NEW.dimensions)
    EXECUTE FUNCTION collection_dimensions_fixed();

INSERT INTO collections (name) VALUES ('default');

-- Similarity search for SQL clients (psql, PostgREST). The query vector must have the
-- collection's dimensions; filter is matched against document metadata with @>. HNSW returns at
-- most hnsw.ef_search candidates before filters apply, so ef_search is raised to match_count
-- and iterative scans (pgvector 0.8) fetch more when filters reject candidates.
CREATE FUNCTION search_documents(
    query       vector,
    match_count integer DEFAULT 10,
    collection  text DEFAULT 'default',
    filter      jsonb DEFAULT '{}'
) RETURNS TABLE (
    chunk_id    bigint,
    document_id text,
    title       text,
    content     text,
    metadata    jsonb,
    similarity  double precision
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c ${schema}.collections%ROWTYPE;
BEGIN
    SELECT * INTO c FROM ${schema}.collections WHERE name = collection;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown collection "%"', collection USING ERRCODE = 'no_data_found';
    END IF;
    IF public.vector_dims(query) <> c.dimensions THEN
        RAISE EXCEPTION 'query vector has % dimensions, collection "%" has %',
            public.vector_dims(query), collection, c.dimensions USING ERRCODE = 'data_exception';
    END IF;
    IF match_count IS NULL OR match_count < 1 OR match_count > 1000 THEN
        RAISE EXCEPTION 'match_count must be between 1 and 1000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('hnsw.ef_search', greatest(match_count, 40)::text, true);
    IF current_setting('hnsw.iterative_scan', true) IS NOT NULL THEN -- pgvector 0.8 and later
        PERFORM set_config('hnsw.iterative_scan', 'strict_order', true);
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT ch.id, d.external_id, d.title, ch.content, d.metadata,
                1 - (ch.embedding::public.vector(%1$s) OPERATOR(public.<=>) $1::public.vector(%1$s))
           FROM ${schema}.chunks ch
           JOIN ${schema}.documents d ON d.id = ch.document_id
          WHERE ch.collection_id = $2
            AND ch.embedding IS NOT NULL
            AND d.status <> ''deleted''
            AND d.metadata @> $3
          ORDER BY ch.embedding::public.vector(%1$s) OPERATOR(public.<=>) $1::public.vector(%1$s)
          LIMIT $4', c.dimensions)
    USING query, c.id, coalesce(filter, '{}'::jsonb), match_count;
END
$$;

-- Inbound events: webhooks and SQL inserts. delivery_id is unique per source (a redelivered
-- webhook is one row); SQL clients may leave it out and get a generated one.
CREATE TABLE claude_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text NOT NULL CHECK (source ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    delivery_id  text NOT NULL DEFAULT gen_random_uuid()::text,
    event_type   text NOT NULL,
    payload      jsonb NOT NULL,
    headers      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(headers) = 'object'),
    priority     smallint NOT NULL DEFAULT 0,
    status       text NOT NULL DEFAULT 'received'
                 CHECK (status IN ('received', 'published', 'processed', 'failed', 'ignored')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    UNIQUE (source, delivery_id)
);
CREATE INDEX claude_events_status_idx ON claude_events (status, created_at);

-- Training: one job per request (request_id is the idempotency key), its metrics, its models.
CREATE TABLE training_jobs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id       text NOT NULL UNIQUE,
    project          text NOT NULL,
    task             text NOT NULL,
    backend          text NOT NULL CHECK (backend IN ('builtin', 'pgml')),
    algorithm        text,
    data             jsonb NOT NULL DEFAULT '{}',
    hyperparameters  jsonb NOT NULL DEFAULT '{}',
    parameters       jsonb NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    cancel_requested boolean NOT NULL DEFAULT false,
    attempts         integer NOT NULL DEFAULT 0,
    worker           text,
    heartbeat_at     timestamptz,
    error            text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
CREATE INDEX training_jobs_status_idx ON training_jobs (status, created_at);

CREATE TABLE models (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id        bigint REFERENCES training_jobs (id) ON DELETE SET NULL,
    project       text NOT NULL,
    backend       text NOT NULL CHECK (backend IN ('builtin', 'pgml')),
    algorithm     text,
    collection_id integer REFERENCES collections (id) ON DELETE CASCADE,
    pgml_model_id bigint,
    artifact      bytea,
    metrics       jsonb NOT NULL DEFAULT '{}',
    deployed      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    deployed_at   timestamptz
);
CREATE UNIQUE INDEX models_one_deployed_per_project ON models (project) WHERE deployed;

CREATE TABLE model_metrics (
    job_id      bigint NOT NULL REFERENCES training_jobs (id) ON DELETE CASCADE,
    model_id    bigint REFERENCES models (id) ON DELETE CASCADE,
    split       text NOT NULL DEFAULT 'test',
    name        text NOT NULL,
    value       double precision NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, split, name)
);

-- Transactional outbox: any transaction (or SQL client) inserts topic, key and payload; the
-- event-dispatcher publishes rows to Kafka in id order per key and then deletes them.
-- A null payload is a tombstone. priority lets urgent keys go first; it never reorders rows
-- of one key (the dispatcher orders by id within a key). id order is insert order, not commit
-- order: the dispatcher must allow for ids that commit late.
CREATE TABLE outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic      text NOT NULL CHECK (topic ~ '^[A-Za-z0-9._-]{1,249}$'),
    key        text,
    payload    jsonb,
    headers    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(headers) = 'object'),
    priority   smallint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The doorbell: one payload-free NOTIFY per inserting statement (Postgres folds identical
-- notifications of a transaction into one). Channel: '<schema>.outbox'.
CREATE FUNCTION outbox_doorbell() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_doorbell AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_doorbell();
