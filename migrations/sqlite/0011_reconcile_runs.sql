-- Background reconciliation runs (CLERK_RECONCILE_INTERVAL): one row per run, written when it
-- starts (finished_at NULL while it runs) and completed when it ends. The newest start tells
-- every instance whether a run is due. Old rows are pruned.
CREATE TABLE reconcile_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    instance    TEXT NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    created     BIGINT NOT NULL DEFAULT 0,
    updated     BIGINT NOT NULL DEFAULT 0,
    pruned      BIGINT NOT NULL DEFAULT 0,
    errors      BIGINT NOT NULL DEFAULT 0,
    error       TEXT
);
CREATE INDEX reconcile_runs_started ON reconcile_runs (started_at);
