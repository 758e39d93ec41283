-- The portal's server-side sessions (issue 10): the cookie holds a random id whose SHA-256 is
-- stored here, with the form token that every unsafe request must carry back. A session
-- starts anonymous (a language, a form token) and is bound to an applicant at sign-in, when
-- its id is replaced (no session fixation).
CREATE TABLE web_sessions (
    id_hash       TEXT PRIMARY KEY,
    applicant_id  TEXT REFERENCES applicants(id),
    csrf_token    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    idle_until    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (idle_until);
