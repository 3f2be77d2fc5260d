SELECT set_config('search_path', '${schema}, public', true);

-- Every mutating call of the HTTP API (issue 18), and every one refused for its role: who (the
-- token's name, or "<role> token <fingerprint>", or "anonymous"), what (the route and the path it
-- was called on), when, and how it ended. The row is written before the action runs and its
-- outcome after, so no action is taken without a row; a row whose status stays NULL is an action
-- whose process stopped before it answered (its effect, if any, is unknown to the log).
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    who         text NOT NULL,
    role        text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    action      text NOT NULL,  -- the route: "POST /collections/{name}/pause"
    target      text NOT NULL,  -- the path it was called on: "/api/v1/collections/docs/pause"
    status      integer,        -- the HTTP status answered; NULL while the action runs
    outcome     text,           -- what happened, in words (a problem's detail, or what was done)
    finished_at timestamptz
);

-- Append-only: once a row has its outcome it never changes, and nothing but the outcome ever
-- does. ragline_worker may update only status, outcome and finished_at (grants.sql), and this
-- trigger refuses even that for a row that is finished.
CREATE FUNCTION audit_log_outcome_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IS NOT NULL THEN
        RAISE EXCEPTION 'audit_log row % has its outcome already', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.id, NEW.at, NEW.who, NEW.role, NEW.action, NEW.target)
            IS DISTINCT FROM (OLD.id, OLD.at, OLD.who, OLD.role, OLD.action, OLD.target) THEN
        RAISE EXCEPTION 'audit_log row %: only its outcome may be written', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_outcome_once BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_outcome_once();
