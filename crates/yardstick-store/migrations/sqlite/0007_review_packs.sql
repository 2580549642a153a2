-- Review packs issued on a schedule (`[review.ID]`, by `yardstick serve`):
-- one per review, period, party ('' for the organisation's own pack) and
-- format, with the instant its numbers are as of. A pack is never
-- rewritten: the unique key is what keeps a restart from issuing it again.
CREATE TABLE review_packs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    review TEXT NOT NULL,
    period TEXT NOT NULL,
    party TEXT NOT NULL,
    format TEXT NOT NULL,
    -- µs since the epoch: the evaluation the numbers come from.
    as_of BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    body BLOB NOT NULL,
    -- When its webhook took the notice (NULL: not yet, or none declared).
    notified_at BIGINT,
    UNIQUE (review, period, party, format)
);
