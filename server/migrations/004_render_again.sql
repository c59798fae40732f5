-- Rendering a recording again with other settings.

-- Resolutions are stored by the names the API takes ("720p", "1080p"). New jobs name theirs;
-- the column's old default stays, as SQLite cannot change a default in place.
UPDATE render_jobs SET resolution = '720p' WHERE resolution = '1280x720';
UPDATE render_jobs SET resolution = '1080p' WHERE resolution = '1920x1080';

-- A take has at most one render queued or running, whichever instance queues it.
CREATE UNIQUE INDEX render_jobs_one_active ON render_jobs(take_id) WHERE status IN ('queued', 'running');
