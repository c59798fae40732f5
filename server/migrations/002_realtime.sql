-- Real-time rooms: removed guests, chat kept for the session, one recording take at a time.

ALTER TABLE participants ADD COLUMN removed_at BIGINT;

CREATE TABLE chat_messages (
    id             TEXT PRIMARY KEY,
    recording_id   TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL,
    name           TEXT NOT NULL,
    text           TEXT NOT NULL,
    sent_at        BIGINT NOT NULL
);
CREATE INDEX chat_messages_recording ON chat_messages(recording_id, sent_at);

-- At most one take is recording per session, whichever server instance starts it.
CREATE UNIQUE INDEX takes_one_recording ON takes(recording_id) WHERE status = 'recording';
