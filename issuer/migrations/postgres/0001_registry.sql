-- The issuer's registry (PostgreSQL): the same tables as migrations/sqlite, with PostgreSQL
-- types. Integer columns the code reads as i64 are BIGINT.
CREATE TABLE status_lists (
    id          BIGINT  PRIMARY KEY,
    size        BIGINT  NOT NULL,
    created_at  TEXT    NOT NULL
);

-- One row per year: the last sequence number handed out (certificate numbers never repeat).
CREATE TABLE certificate_sequences (
    year      INTEGER PRIMARY KEY,
    last_seq  BIGINT  NOT NULL
);

CREATE TABLE certificates (
    number        TEXT    PRIMARY KEY,
    list_id       BIGINT  NOT NULL REFERENCES status_lists(id),
    list_index    BIGINT  NOT NULL,
    status        BIGINT  NOT NULL DEFAULT 0,
    issued_at     TEXT    NOT NULL,
    valid_until   TEXT    NOT NULL,
    data_json     BYTEA   NOT NULL,
    token         BYTEA   NOT NULL,
    pdf           BYTEA   NOT NULL,
    pdf_sha256    TEXT    NOT NULL,
    UNIQUE (list_id, list_index)
);

-- Append-only history of status changes: who, when, why.
CREATE TABLE status_events (
    id          BIGSERIAL PRIMARY KEY,
    number      TEXT    NOT NULL REFERENCES certificates(number),
    old_status  BIGINT  NOT NULL,
    new_status  BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    at          TEXT    NOT NULL
);
