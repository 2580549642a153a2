-- Rows pushed into stored sources, one Arrow IPC batch per push.
CREATE TABLE batches (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source TEXT NOT NULL,
    idempotency_key TEXT,
    body_hash TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    body BYTEA NOT NULL,
    UNIQUE (source, idempotency_key)
);
CREATE INDEX batches_source ON batches (source, seq);

-- API tokens: only a hash of the secret is kept.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    party TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Every write: who, what, when.
CREATE TABLE audit (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);

-- What each evaluation reported, stored when a value or status changes.
CREATE TABLE reported (
    kpi TEXT NOT NULL,
    period TEXT NOT NULL,
    entity TEXT NOT NULL,
    value DOUBLE PRECISION,
    status TEXT,
    complete BIGINT NOT NULL,
    evaluated_at BIGINT NOT NULL,
    PRIMARY KEY (kpi, period, entity, evaluated_at)
);
CREATE INDEX reported_at ON reported (evaluated_at);
