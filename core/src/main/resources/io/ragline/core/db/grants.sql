-- Least privilege (docs/operations.md, "Roles and least privilege"). RoleGrants runs this after
-- every `ragline migrate` (Flyway's afterMigrate), whether or not a migration was applied, as the
-- user that owns the schema, so every table, sequence and function, those of later migrations
-- included, is granted again here. ${schema} and ${history} are replaced before it runs.
--
--   ragline_worker  what the worker processes do: DML on every table (SELECT only on Flyway's
--                   history), USAGE on the sequences, EXECUTE on the functions, USAGE on the
--                   schema. No CREATE on the schema and no ownership: no DDL, so no collection
--                   can be created (its HNSW index needs the owner) and no migration applied.
--   ragline_reader  SELECT on every table and EXECUTE on search_documents and the functions it
--                   calls (vector_search_terms, prepare_vector_search, search_filter_*,
--                   collection_index_name); nothing else.
--
-- Both are NOLOGIN roles: `ragline roles grant LOGIN worker|reader` attaches a login. Roles are
-- cluster-wide and several schemas may share them, so an existing one (or one another migrator
-- creates this instant) is used as it is.

DO $roles$
DECLARE
    r text;
    missing text := '';
BEGIN
    FOREACH r IN ARRAY ARRAY['ragline_worker', 'ragline_reader'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION
                WHEN duplicate_object OR unique_violation THEN
                    NULL; -- another schema's migrator created it first
                WHEN insufficient_privilege THEN
                    missing := missing || format(' CREATE ROLE %I NOLOGIN;', r);
            END;
        END IF;
    END LOOP;
    IF missing <> '' THEN
        RAISE EXCEPTION 'user % cannot create Ragline''s roles (it lacks CREATEROLE): ask a DBA to run% then run `ragline migrate` again',
            current_user, missing USING ERRCODE = 'insufficient_privilege';
    END IF;
END
$roles$;

-- Functions are executable by PUBLIC by default: only these roles (and the owner) may call them.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA ${schema} FROM PUBLIC;

GRANT USAGE ON SCHEMA ${schema} TO ragline_worker, ragline_reader;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ragline_worker;
-- Deleting a collection is the owner's (`ragline collections delete`): it cascades to the
-- collection's documents and drops its HNSW index, which a worker cannot do. No worker deletes one.
REVOKE DELETE ON ${schema}.collections FROM ragline_worker;
-- The audit log is append-only for the processes: a row is written, then its outcome (the only
-- columns they may update; a trigger refuses a second outcome), never removed.
-- (A migration to an older version, as upgrade tests make, has no such table yet.)
DO $audit$
BEGIN
    IF to_regclass('${schema}.audit_log') IS NOT NULL THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON ${schema}.audit_log FROM ragline_worker;
        GRANT UPDATE (status, outcome, finished_at) ON ${schema}.audit_log TO ragline_worker;
    END IF;
END
$audit$;
-- The migration history is the owner's: a worker reads it (is the schema current?), never writes.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${schema}.${history} FROM ragline_worker;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ragline_worker;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${schema} TO ragline_worker;
-- Procedures (run_retention, V21) are not among ALL FUNCTIONS: closed to PUBLIC, open to workers.
REVOKE EXECUTE ON ALL PROCEDURES IN SCHEMA ${schema} FROM PUBLIC;
GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA ${schema} TO ragline_worker;

GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ragline_reader;
DO $search$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_proc p WHERE p.pronamespace = '${schema}'::regnamespace
                                           AND p.proname IN ('search_documents', 'vector_search_terms',
                                                             'prepare_vector_search', 'search_filter_check',
                                                             'search_filter_matches', 'collection_index_name',
                                                             'collection_generation', 'serving_generation',
                                                             'serving_chunking', 'collection_index_built') LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO ragline_reader', f);
    END LOOP;
END
$search$;

-- A function the owner creates in this schema between two runs of this script (by hand, or by a
-- migration run that failed after others committed) is executable by PUBLIC until the next
-- migrate runs the REVOKE above. Closing that window would take a global
-- `ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC` on the owner, which also
-- closes the functions of every extension the owner creates or updates later, anywhere in the
-- database (`vector`'s operators among them): a worse surprise than the window. Every function a
-- migration creates is SECURITY INVOKER (it gives nothing beyond table rights) except the one
-- SECURITY DEFINER function, whose migration revokes PUBLIC's EXECUTE itself.

-- What the owner creates in this schema between two runs of this script (a migration that
-- failed after others succeeded, an object made by hand) is granted as it is created.
ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ragline_worker;
ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT USAGE, SELECT ON SEQUENCES TO ragline_worker;
ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT EXECUTE ON FUNCTIONS TO ragline_worker;
ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ragline_reader;
