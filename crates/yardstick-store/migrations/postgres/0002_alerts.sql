-- Alert instances firing now: a row appears when the firing notice is
-- delivered and goes when the resolved notice is.
CREATE TABLE alert_firing (
    alert TEXT NOT NULL,
    instance TEXT NOT NULL,
    subject TEXT NOT NULL,
    summary TEXT NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (alert, instance)
);
