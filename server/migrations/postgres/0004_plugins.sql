-- Plugin lifecycle (issue 5): dry-run results, one active plugin per tenant, and compiled artifacts shared by
-- every replica. Keep in step with ../sqlite/0004_plugins.sql.

-- The last dry-run of a plugin version: when, whether it passed, and its result (JSON).
ALTER TABLE plugins ADD COLUMN dry_run_at BIGINT;
ALTER TABLE plugins ADD COLUMN dry_run_ok BIGINT NOT NULL DEFAULT 0;
ALTER TABLE plugins ADD COLUMN dry_run_json TEXT;

-- At most one active version per tenant, whatever races between replicas.
CREATE UNIQUE INDEX plugins_one_active ON plugins (tenant_id) WHERE status = 'active';

-- Natively compiled plugins (wasmtime Component::serialize), keyed by the component's SHA-256 and the engine
-- fingerprint (wasmtime version + settings). `mac` is an HMAC-SHA256 by a key derived from the master key:
-- an artifact is only loaded when it verifies.
CREATE TABLE plugin_artifacts (
    sha256      TEXT    NOT NULL,
    engine      TEXT    NOT NULL,
    artifact    BYTEA    NOT NULL,
    mac         BYTEA    NOT NULL,
    size_bytes  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (sha256, engine)
);
