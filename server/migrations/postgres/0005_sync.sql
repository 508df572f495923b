-- Sync engine (issue 11): the invoice and payment index, the supplier index, and what the audit trail and the
-- run history need. Keep in step with ../sqlite/0005_sync.sql.
-- Amounts are decimal text (never floats); dates are YYYY-MM-DD text; *_fold columns are lower-cased keys.

-- Suppliers as last read from Workday (search by name, the organization they became).
CREATE TABLE supplier_index (
    tenant_id        TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    supplier_id      TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    name_fold        TEXT COLLATE "C" NOT NULL,
    status           TEXT    NOT NULL,
    currency         TEXT,
    updated_at       BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, supplier_id)
);
CREATE INDEX supplier_index_name ON supplier_index (tenant_id, name_fold);

-- Recent and not fully paid supplier invoices, with their position (credits, paid, due, status).
CREATE TABLE invoice_index (
    tenant_id                TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    invoice_key              TEXT    NOT NULL,
    wid                      TEXT,
    reference_id             TEXT,
    invoice_number           TEXT,
    invoice_number_fold      TEXT COLLATE "C",
    supplier_invoice_number  TEXT,
    supplier_number_fold     TEXT COLLATE "C",
    supplier_id              TEXT    NOT NULL,
    currency                 TEXT,
    invoice_date             TEXT,
    due_date                 TEXT,
    amount                   TEXT    NOT NULL,
    credits                  TEXT    NOT NULL,
    debits                   TEXT    NOT NULL,
    paid                     TEXT    NOT NULL,
    due                      TEXT    NOT NULL,
    payment_status           TEXT    NOT NULL,
    document_status          TEXT    NOT NULL,
    days_overdue             BIGINT,
    last_payment_date        TEXT,
    po_number                TEXT,
    seen_run                 BIGINT  NOT NULL,
    updated_at               BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, invoice_key)
);
CREATE INDEX invoice_index_supplier_number ON invoice_index (tenant_id, supplier_number_fold);
CREATE INDEX invoice_index_number ON invoice_index (tenant_id, invoice_number_fold);
CREATE INDEX invoice_index_supplier ON invoice_index (tenant_id, supplier_id);
CREATE INDEX invoice_index_date ON invoice_index (tenant_id, invoice_date);

-- Payments and invoice adjustments (credit and debit memos) that the invoice positions are computed from.
-- record_json is the Workday record as read (the client's model), so positions can be recomputed in batches.
CREATE TABLE document_index (
    tenant_id    TEXT    NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    doc_key      TEXT    NOT NULL,
    number       TEXT,
    supplier_id  TEXT    NOT NULL,
    doc_date     TEXT,
    amount       TEXT,
    currency     TEXT,
    status       TEXT    NOT NULL,
    record_json  TEXT    NOT NULL,
    seen_run     BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, kind, doc_key)
);
CREATE INDEX document_index_supplier ON document_index (tenant_id, supplier_id);

-- Which run wrote an audit row, and reading one object's trail.
ALTER TABLE audit_log ADD COLUMN run_id BIGINT;
CREATE INDEX audit_log_object ON audit_log (tenant_id, workday_object_type, workday_object_id);

-- How a run was started (manual, schedule, api) and by which process.
ALTER TABLE sync_runs ADD COLUMN trigger_kind TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE sync_runs ADD COLUMN holder TEXT;
