-- Append-only, hash-chained audit log: each entry's hash covers the previous entry's hash,
-- so editing or deleting any entry breaks every later link (`issuer audit-verify`).
CREATE TABLE audit_log (
    id         BIGINT  PRIMARY KEY,
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE
);
