-- The back office and the department portal (issue 11).

-- Every staff account has a second factor (RFC 6238); the last step accepted is kept so that
-- a code is good once.
ALTER TABLE staff ADD COLUMN totp_secret TEXT;
ALTER TABLE staff ADD COLUMN totp_last_step INTEGER;

-- People of a registered department who use the department portal (systems keep their
-- client credentials).
CREATE TABLE department_users (
    username         TEXT    PRIMARY KEY,
    department_code  TEXT    NOT NULL REFERENCES departments(code),
    password_hash    TEXT    NOT NULL,
    totp_secret      TEXT    NOT NULL,
    totp_last_step   INTEGER,
    active           INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT    NOT NULL
);

-- Web sessions of the three areas: `kind` is `portal`, `staff` or `department`. A staff or
-- department session is `pending` (`role:name`) after the password and becomes `principal`
-- only after the second factor.
ALTER TABLE web_sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'portal';
ALTER TABLE web_sessions ADD COLUMN pending TEXT;
ALTER TABLE web_sessions ADD COLUMN principal TEXT;

-- What a department is told about a certificate it holds (revocation, suspension…), unread
-- until one of its users acknowledges it.
CREATE TABLE department_notices (
    id                  TEXT    PRIMARY KEY,
    department_code     TEXT    NOT NULL REFERENCES departments(code),
    certificate_number  TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    reason              TEXT    NOT NULL,
    created_at          TEXT    NOT NULL,
    acknowledged_at     TEXT,
    acknowledged_by     TEXT
);
CREATE INDEX department_notices_unread ON department_notices (department_code, acknowledged_at);

-- The member of staff who took a case ("assigned to me" in the queue).
ALTER TABLE applications ADD COLUMN assigned_to TEXT;

-- Record entries are corrected in place (the audit log keeps what they said before) and
-- closed rather than deleted: a closed entry is never printed again.
ALTER TABLE criminal_records ADD COLUMN closed_at TEXT;
ALTER TABLE criminal_records ADD COLUMN closed_reason TEXT;
