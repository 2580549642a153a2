-- Signatures of an agreement's terms: a party signed the terms whose
-- fingerprint (sha256 of their canonical form) is given, recorded by an
-- actor (a party's token, or an organisation admin transcribing a
-- signature given elsewhere). Never updated or deleted.
CREATE TABLE signatures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agreement TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    party TEXT NOT NULL,
    signed_by TEXT NOT NULL,
    signed_at BIGINT NOT NULL,
    -- The terms signed, in their canonical JSON, to show what changed since.
    terms TEXT NOT NULL
);
CREATE INDEX signatures_by_agreement ON signatures (agreement, id);
