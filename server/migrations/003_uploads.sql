-- Chunk uploads: a chunk row is 'pending' from its presigned URL until the server has
-- checked the stored object ('stored'). Each participant declares its last chunk.

ALTER TABLE chunks ADD COLUMN status TEXT NOT NULL DEFAULT 'stored';
ALTER TABLE chunks ADD COLUMN confirmed_at BIGINT;
CREATE INDEX chunks_take ON chunks(take_id, participant_id, status);

CREATE TABLE take_participants (
    take_id        TEXT NOT NULL REFERENCES takes(id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    chunk_count    INTEGER NOT NULL,
    completed_at   BIGINT NOT NULL,
    PRIMARY KEY (take_id, participant_id)
);

-- Chunks the host chose to render without (a participant never finished uploading).
ALTER TABLE takes ADD COLUMN missing_chunks TEXT;
ALTER TABLE takes ADD COLUMN completed_at BIGINT;
