-- Corrective actions: recorded against a KPI (and entity) and the period
-- they answer, optionally a cause found by `why` (its segment as a JSON
-- object of dimension values), with an owner, a due date and the periods
-- in which their effect is judged. Closing keeps the row and says how.
CREATE TABLE actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kpi TEXT NOT NULL,
    entity TEXT,
    period TEXT NOT NULL,
    cause TEXT,
    title TEXT NOT NULL,
    owner TEXT NOT NULL,
    due TEXT NOT NULL,
    judge_from TEXT NOT NULL,
    judge_to TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    closed_by TEXT,
    closed_at BIGINT,
    outcome TEXT
);
CREATE INDEX actions_by_kpi ON actions (kpi, id);
