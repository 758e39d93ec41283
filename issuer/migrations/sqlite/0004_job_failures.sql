-- Issuance jobs that cannot finish end in state 'failed' (with their last error) instead of
-- being retried forever. SQLite cannot change a CHECK constraint: the table is rebuilt.
CREATE TABLE issuance_jobs_new (
    id              TEXT    PRIMARY KEY,
    application_id  TEXT    NOT NULL REFERENCES applications(id),
    copy_no         INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    last_error      TEXT,
    number          TEXT    REFERENCES reservations(number),
    created_at      TEXT    NOT NULL,
    finished_at     TEXT,
    UNIQUE (application_id, copy_no)
);
INSERT INTO issuance_jobs_new (id, application_id, copy_no, state, attempts, locked_until, last_error, number, created_at, finished_at)
    SELECT id, application_id, copy_no, state, attempts, locked_until, last_error, number, created_at, finished_at FROM issuance_jobs;
DROP TABLE issuance_jobs;
ALTER TABLE issuance_jobs_new RENAME TO issuance_jobs;
CREATE INDEX issuance_jobs_state ON issuance_jobs(state);
