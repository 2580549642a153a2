-- What a party said about a reconciliation's period: accepted (naming the
-- side whose numbers are right) or disputed, with a comment. The newest row
-- of a (reconcile, period) is in force; older rows stay as the record.
CREATE TABLE resolutions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    reconcile TEXT NOT NULL,
    period TEXT NOT NULL,
    state TEXT NOT NULL,
    side TEXT,
    comment TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX resolutions_by_period ON resolutions (reconcile, period, seq);
