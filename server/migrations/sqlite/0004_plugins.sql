-- Plugin lifecycle (issue 5): dry-run results, one active plugin per tenant, and compiled artifacts shared by
-- every replica. Keep in step with ../postgres/0004_plugins.sql.

-- The last dry-run of a plugin version: when, whether it passed, and its result (JSON).
ALTER TABLE plugins ADD COLUMN dry_run_at INTEGER;
ALTER TABLE plugins ADD COLUMN dry_run_ok INTEGER NOT NULL DEFAULT 0;
ALTER TABLE plugins ADD COLUMN dry_run_json TEXT;

-- At most one active version per tenant, whatever races between replicas.
CREATE UNIQUE INDEX plugins_one_active ON plugins (tenant_id) WHERE status = 'active';

-- Natively compiled plugins (wasmtime Component::serialize), keyed by the component's SHA-256 and the engine
-- fingerprint (wasmtime version + settings). `mac` is an HMAC-SHA256 by a key derived from the master key:
-- an artifact is only loaded when it verifies.
CREATE TABLE plugin_artifacts (
    sha256      TEXT    NOT NULL,
    engine      TEXT    NOT NULL,
    artifact    BLOB    NOT NULL,
    mac         BLOB    NOT NULL,
    size_bytes  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (sha256, engine)
);
