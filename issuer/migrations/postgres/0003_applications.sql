-- The online application (SPEC §1–2, issue 4): accounts and sessions, applications through their
-- four steps, payments, supporting documents, the record registry, durable issuance jobs and
-- the notification outbox. Identifiers are application-generated random strings.

-- Every certificate number and status position, reserved before the document is rendered:
-- an issuance job keeps its reservation across crashes, so a number is never issued twice.
CREATE TABLE reservations (
    number      TEXT    PRIMARY KEY,
    list_id     BIGINT  NOT NULL REFERENCES status_lists(id),
    list_index  BIGINT  NOT NULL,
    created_at  TEXT    NOT NULL,
    UNIQUE (list_id, list_index)
);
INSERT INTO reservations (number, list_id, list_index, created_at)
    SELECT number, list_id, list_index, issued_at FROM certificates;

CREATE TABLE applicants (
    id          TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    name        TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (provider, subject)
);

CREATE TABLE staff (
    username       TEXT    PRIMARY KEY,
    role           TEXT    NOT NULL CHECK (role IN ('clerk', 'officer', 'security_officer')),
    password_hash  TEXT    NOT NULL,
    active         BIGINT  NOT NULL DEFAULT 1,
    created_at     TEXT    NOT NULL
);

-- The department registry; `secret_hash` is SHA-256 of a 256-bit random client secret.
CREATE TABLE departments (
    code         TEXT    PRIMARY KEY,
    name_zh      TEXT    NOT NULL,
    name_pt      TEXT    NOT NULL,
    name_en      TEXT    NOT NULL,
    secret_hash  TEXT,
    active       BIGINT  NOT NULL DEFAULT 1,
    created_at   TEXT    NOT NULL
);

-- Bearer sessions; only the SHA-256 of the token is kept.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    principal   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

-- Browser round trips of the OIDC authorization-code flow, keyed by `state`.
CREATE TABLE oidc_logins (
    state          TEXT PRIMARY KEY,
    nonce          TEXT NOT NULL,
    code_verifier  TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE applications (
    id                     TEXT    PRIMARY KEY,
    applicant_id           TEXT    NOT NULL REFERENCES applicants(id),
    idempotency_key        TEXT,
    state                  TEXT    NOT NULL,
    usage                  TEXT    NOT NULL,
    electronic             BIGINT  NOT NULL,
    quantity               BIGINT  NOT NULL CHECK (quantity >= 1),
    collection_site        TEXT,
    express                BIGINT  NOT NULL,
    transfer_to            TEXT    REFERENCES departments(code),
    holder_json            TEXT,
    doc_key                TEXT,
    first_time             BIGINT,
    language               TEXT,
    mobile                 TEXT,
    consent_at             TEXT,
    otp_verified_at        TEXT,
    face_verified_at       TEXT,
    fee_avos               BIGINT,
    exemption_kind         TEXT,
    documents_received_at  TEXT,
    due_date               TEXT,
    records_json           TEXT,
    note                   TEXT,
    created_at             TEXT    NOT NULL,
    updated_at             TEXT    NOT NULL,
    UNIQUE (applicant_id, idempotency_key)
);
CREATE INDEX applications_state ON applications(state);

CREATE TABLE otp_challenges (
    application_id  TEXT    PRIMARY KEY REFERENCES applications(id),
    code_hash       TEXT    NOT NULL,
    expires_at      TEXT    NOT NULL,
    attempts        BIGINT  NOT NULL DEFAULT 0,
    sent_count      BIGINT  NOT NULL DEFAULT 0,
    window_start    TEXT    NOT NULL,
    last_sent_at    TEXT    NOT NULL
);

CREATE TABLE payments (
    id               TEXT    PRIMARY KEY,
    application_id   TEXT    NOT NULL REFERENCES applications(id),
    idempotency_key  TEXT,
    amount_avos      BIGINT  NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'paid')),
    gateway_ref      TEXT,
    created_at       TEXT    NOT NULL,
    paid_at          TEXT,
    UNIQUE (application_id, idempotency_key)
);
-- An application is paid once, whatever the gateway sends.
CREATE UNIQUE INDEX payments_one_paid ON payments(application_id) WHERE state = 'paid';

-- Every gateway callback event seen: a replay finds its event here and changes nothing.
CREATE TABLE payment_callbacks (
    event_id     TEXT PRIMARY KEY,
    payment_id   TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    outcome      TEXT NOT NULL
);

CREATE TABLE supporting_documents (
    id              TEXT    PRIMARY KEY,
    application_id  TEXT    NOT NULL REFERENCES applications(id),
    purpose         TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    filename        TEXT    NOT NULL,
    media_type      TEXT    NOT NULL,
    sha256          TEXT    NOT NULL,
    content         BYTEA   NOT NULL,
    uploaded_at     TEXT    NOT NULL
);

-- The bureau's criminal record registry (staff-managed entries), keyed by identity document.
CREATE TABLE criminal_records (
    id             TEXT PRIMARY KEY,
    doc_key        TEXT NOT NULL,
    court          TEXT NOT NULL,
    case_number    TEXT NOT NULL,
    decision_date  TEXT NOT NULL,
    offence        TEXT NOT NULL,
    sentence       TEXT NOT NULL,
    disclose_for   TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX criminal_records_doc ON criminal_records(doc_key);

-- One job per certificate to issue. The reservation (number, list, index) is written before
-- rendering and kept across retries; `done` is set in the transaction that records the
-- certificate.
CREATE TABLE issuance_jobs (
    id              TEXT    PRIMARY KEY,
    application_id  TEXT    NOT NULL REFERENCES applications(id),
    copy_no         BIGINT  NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'done')),
    attempts        BIGINT  NOT NULL DEFAULT 0,
    locked_until    TEXT,
    last_error      TEXT,
    number          TEXT    REFERENCES reservations(number),
    created_at      TEXT    NOT NULL,
    finished_at     TEXT,
    UNIQUE (application_id, copy_no)
);
CREATE INDEX issuance_jobs_state ON issuance_jobs(state);

ALTER TABLE certificates ADD COLUMN application_id TEXT;
ALTER TABLE certificates ADD COLUMN copy_no BIGINT;
ALTER TABLE certificates ADD COLUMN doc_key TEXT;
ALTER TABLE certificates ADD COLUMN transfer_to TEXT;
CREATE UNIQUE INDEX certificates_one_per_copy ON certificates(application_id, copy_no);
CREATE INDEX certificates_doc ON certificates(doc_key);
CREATE INDEX certificates_transfer ON certificates(transfer_to);

-- Notifications waiting for (or done with) delivery through their channel's transport.
CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    channel       TEXT    NOT NULL,
    recipient     TEXT    NOT NULL,
    language      TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    reference     TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    delivered_at  TEXT,
    attempts      BIGINT  NOT NULL DEFAULT 0,
    last_error    TEXT
);
