-- Zencast schema, version 1. Portable between SQLite and PostgreSQL:
-- identifiers are TEXT UUIDs, times are BIGINT milliseconds since the epoch.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name          TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Opaque refresh tokens, stored as SHA-256 hex. A token is used once; the family ties
-- every rotation of one login together so a replayed token can revoke them all.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

-- A recording session (the seed's "room").
CREATE TABLE recordings (
    id           TEXT PRIMARY KEY,
    host_user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'created',
    invite_token TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX recordings_host ON recordings(host_user_id, created_at);

CREATE TABLE participants (
    id           TEXT PRIMARY KEY,
    recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    user_id      TEXT REFERENCES users(id) ON DELETE SET NULL,
    role         TEXT NOT NULL CHECK (role IN ('host', 'guest')),
    name         TEXT NOT NULL,
    joined_at    BIGINT NOT NULL
);
CREATE INDEX participants_recording ON participants(recording_id);

-- One start..stop of recording within a session.
CREATE TABLE takes (
    id           TEXT PRIMARY KEY,
    recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    status       TEXT NOT NULL DEFAULT 'recording',
    started_at   BIGINT NOT NULL,
    stopped_at   BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX takes_recording ON takes(recording_id);

-- Every chunk a browser uploaded and the server verified.
CREATE TABLE chunks (
    take_id        TEXT NOT NULL REFERENCES takes(id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    chunk_index    INTEGER NOT NULL,
    size_bytes     BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    mime_type      TEXT NOT NULL,
    media_start_ms BIGINT NOT NULL,
    object_key     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (take_id, participant_id, chunk_index)
);

-- Render jobs, leased by workers.
CREATE TABLE render_jobs (
    id               TEXT PRIMARY KEY,
    recording_id     TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    take_id          TEXT REFERENCES takes(id) ON DELETE CASCADE,
    status           TEXT NOT NULL DEFAULT 'queued',
    layout           TEXT NOT NULL DEFAULT 'grid',
    resolution       TEXT NOT NULL DEFAULT '1280x720',
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at BIGINT,
    progress         INTEGER NOT NULL DEFAULT 0,
    stage            TEXT,
    error            TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX render_jobs_status ON render_jobs(status, created_at);
