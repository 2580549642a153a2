-- Proposed amendments of an agreement's terms: a party proposes a new
-- target (or warning) for a clause or KPI from an effective day, with a
-- reason; another party accepts or rejects it with a comment. Decided
-- proposals are never changed again.
CREATE TABLE proposals (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agreement TEXT NOT NULL,
    -- The fingerprint of the terms the proposal amends.
    fingerprint TEXT NOT NULL,
    -- `clause` or `kpi`, and which one.
    subject_kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- `target` or `warning`, and the threshold as written (">= 99.9%").
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    -- A KPI's new warning threshold beside its target, if proposed.
    warning TEXT,
    -- The first day it applies (YYYY-MM-DD).
    effective TEXT NOT NULL,
    reason TEXT NOT NULL,
    party TEXT NOT NULL,
    proposed_by TEXT NOT NULL,
    proposed_at BIGINT NOT NULL,
    -- open, accepted or rejected.
    status TEXT NOT NULL,
    decided_party TEXT,
    decided_by TEXT,
    decided_at BIGINT,
    comment TEXT
);
CREATE INDEX proposals_by_agreement ON proposals (agreement, id);
