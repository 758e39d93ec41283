-- The issuer's registry: certificates, their status-list positions and every status change.
CREATE TABLE status_lists (
    id          INTEGER PRIMARY KEY,
    size        INTEGER NOT NULL,
    created_at  TEXT    NOT NULL
);

-- One row per year: the last sequence number handed out (certificate numbers never repeat).
CREATE TABLE certificate_sequences (
    year      INTEGER PRIMARY KEY,
    last_seq  INTEGER NOT NULL
);

CREATE TABLE certificates (
    number        TEXT    PRIMARY KEY,
    list_id       INTEGER NOT NULL REFERENCES status_lists(id),
    list_index    INTEGER NOT NULL,
    status        INTEGER NOT NULL DEFAULT 0,
    issued_at     TEXT    NOT NULL,
    valid_until   TEXT    NOT NULL,
    data_json     BLOB    NOT NULL,
    token         BLOB    NOT NULL,
    pdf           BLOB    NOT NULL,
    pdf_sha256    TEXT    NOT NULL,
    UNIQUE (list_id, list_index)
);

-- Append-only history of status changes: who, when, why.
CREATE TABLE status_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    number      TEXT    NOT NULL REFERENCES certificates(number),
    old_status  INTEGER NOT NULL,
    new_status  INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    at          TEXT    NOT NULL
);
