-- ml-connector schema, SQLite flavour. Timestamps are unix milliseconds (INTEGER).
-- Keep in step with ../postgres/0001_foundation.sql: the same tables, columns and constraints.

CREATE TABLE vault_meta (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    key_id      TEXT    NOT NULL,
    canary      BLOB    NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE tenants (
    id              TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    workday_json    TEXT    NOT NULL,
    zendesk_json    TEXT    NOT NULL,
    settings_json   TEXT    NOT NULL DEFAULT '{}',
    admin_key_hash  TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE credentials (
    tenant_id   TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    sealed      BLOB    NOT NULL,
    key_id      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- Incremental-sync bookmarks, one per tenant and stream (e.g. "suppliers", "invoices").
CREATE TABLE sync_state (
    tenant_id   TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    stream      TEXT    NOT NULL,
    cursor      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, stream)
);

-- Per-tenant leases so that one replica runs a given job at a time.
CREATE TABLE sync_leases (
    tenant_id   TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    holder      TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE sync_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    stats_json   TEXT    NOT NULL DEFAULT '{}',
    error        TEXT
);
CREATE INDEX sync_runs_tenant ON sync_runs (tenant_id, started_at);

-- Workday supplier <-> Zendesk organization, with the hash of what was last written.
CREATE TABLE org_links (
    tenant_id       TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    supplier_id     TEXT    NOT NULL,
    organization_id INTEGER NOT NULL,
    org_name        TEXT    NOT NULL,
    content_hash    TEXT    NOT NULL,
    synced_at       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, supplier_id)
);
CREATE UNIQUE INDEX org_links_org ON org_links (tenant_id, organization_id);

-- Accepted webhook events waiting for ticket enrichment. (tenant_id, event_id) dedupes redeliveries.
CREATE TABLE enrichment_queue (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    event_id      TEXT    NOT NULL,
    event_type    TEXT    NOT NULL,
    ticket_id     INTEGER NOT NULL,
    payload       TEXT    NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'queued',
    attempts      INTEGER NOT NULL DEFAULT 0,
    available_at  INTEGER NOT NULL,
    leased_until  INTEGER,
    lease_holder  TEXT,
    last_error    TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (tenant_id, event_id)
);
CREATE INDEX enrichment_queue_ready ON enrichment_queue (status, available_at);

-- One row per write to Zendesk.
CREATE TABLE audit_log (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id           TEXT    NOT NULL,
    at                  INTEGER NOT NULL,
    workday_object_type TEXT    NOT NULL,
    workday_object_id   TEXT    NOT NULL,
    workday_service     TEXT    NOT NULL,
    workday_operation   TEXT    NOT NULL,
    workday_version     TEXT    NOT NULL,
    workday_page        INTEGER,
    workday_as_of       TEXT,
    zendesk_target      TEXT    NOT NULL,
    content_hash        TEXT    NOT NULL,
    outcome             TEXT    NOT NULL,
    detail              TEXT
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, at);

-- Uploaded mapping plugins (WebAssembly components), versioned per tenant.
CREATE TABLE plugins (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    sha256        TEXT    NOT NULL,
    size_bytes    INTEGER NOT NULL,
    bytes         BLOB    NOT NULL,
    status        TEXT    NOT NULL,
    manifest_json TEXT    NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL,
    activated_at  INTEGER,
    UNIQUE (tenant_id, version)
);
