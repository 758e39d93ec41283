-- Paper certificates after issuance (issue 11): printing, the Smart Locker and collection.
-- One row per paper application, written when its certificates are printed. `site` is where
-- the printed copies are now: the application's collection site, or DSI_HQ once a Smart
-- Locker item was not collected in time and went back to the headquarters counter.
-- The locker pickup code is compared in constant time; it is kept (not hashed) so that the
-- applicant's own page can show it again as text and QR until the item leaves the locker.
CREATE TABLE paper_items (
    application_id     TEXT PRIMARY KEY REFERENCES applications(id),
    site               TEXT NOT NULL,
    printed_at         TEXT NOT NULL,
    printed_by         TEXT NOT NULL,
    locker_code        TEXT,
    locker_notice_at   TEXT,
    locker_deadline    TEXT,
    locker_attempts    BIGINT  NOT NULL DEFAULT 0,
    deposited_by       TEXT,
    returned_at        TEXT,
    collected_at       TEXT,
    collected_by       TEXT,
    collector_kind     TEXT,
    collector_name     TEXT,
    collector_doc_key  TEXT,
    authorisation_ref  TEXT
);
CREATE INDEX paper_items_locker_deadline ON paper_items (locker_deadline);
