-- GitHub signs a webhook's body but no timestamp, and neither X-GitHub-Delivery nor X-GitHub-Event:
-- whoever holds one signed delivery (a log, a proxy, a leaked request) could send it again under a
-- new delivery id, and it would be stored and routed again. The webhook receiver keeps the SHA-256
-- of the raw body of such deliveries; a body a source already delivered is a duplicate, answered
-- as a redelivery is. Other schemes sign the delivery id and a timestamp and leave it NULL, as do
-- SQL inserts. Rows stored before this migration have no digest (jsonb does not keep the raw
-- bytes, so it cannot be computed for them).
SELECT set_config('search_path', '${schema}, public', true);

ALTER TABLE claude_events ADD COLUMN payload_sha256 bytea;

-- Partial: nothing to index for the rows without a digest, which were all rows until now.
CREATE UNIQUE INDEX claude_events_source_payload_sha256_key
    ON claude_events (source, payload_sha256) WHERE payload_sha256 IS NOT NULL;
