-- The transfer service (SPEC §9, issue 13): where each department receives pushed transfers,
-- one ordered lane per department, and the durable outbox of signed envelopes.

-- A department's push endpoint and the public key (SPKI PEM, Ed25519 or P-256) its receipts
-- are signed with. A department without a row here is served by the pull feed only.
CREATE TABLE department_endpoints (
    code             TEXT    PRIMARY KEY REFERENCES departments(code),
    endpoint         TEXT    NOT NULL,
    receipt_key_pem  TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);

-- The last sequence number given out in each department's lane (gap-free: taken in the
-- transaction of the change that queues the delivery).
CREATE TABLE transfer_lanes (
    department  TEXT    PRIMARY KEY REFERENCES departments(code),
    last_seq    BIGINT  NOT NULL
);

-- One row per envelope. `body` is the exact JSON sent (and signed at each send with a fresh
-- webhook-timestamp); `receipt` the department's compact JWS that closed it.
CREATE TABLE deliveries (
    id               TEXT    PRIMARY KEY,
    department       TEXT    NOT NULL REFERENCES departments(code),
    seq              BIGINT  NOT NULL,
    kind             TEXT    NOT NULL CHECK (kind IN ('certificate', 'status-change')),
    certificate      TEXT    NOT NULL REFERENCES certificates(number),
    body             BYTEA    NOT NULL,
    created_at       TEXT    NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'delivered', 'rejected')),
    attempts         BIGINT  NOT NULL DEFAULT 0,
    failures         BIGINT  NOT NULL DEFAULT 0,
    first_failure_at TEXT,
    next_attempt_at  TEXT    NOT NULL,
    lease_owner      TEXT,
    lease_until      TEXT,
    last_error       TEXT,
    done_at          TEXT,
    receipt          TEXT,
    reject_reason    TEXT,
    UNIQUE (department, seq)
);
CREATE INDEX deliveries_open ON deliveries (state, department, seq);
CREATE INDEX deliveries_certificate ON deliveries (certificate);
