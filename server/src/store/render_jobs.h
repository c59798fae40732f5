/* Render jobs: a table many workers on many machines share. A worker claims a job with
 * a lease and renews it while it works; a worker that dies leaves a lease that expires,
 * and another worker claims the job again. Only the lease holder may report progress,
 * finish or fail a job, so a job is finished once. Attempts are counted; a job that
 * fails for good says why. */
#ifndef ZC_RENDER_JOBS_H
#define ZC_RENDER_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

typedef struct {
    char id[37];
    char recording_id[37];
    char take_id[37];
    char layout[32];
    char resolution[16];
    int attempts; /* this claim included */
} render_job;

typedef enum { JOBS_CLAIMED = 1, JOBS_NONE = 0, JOBS_ERROR = -1 } jobs_claim_status;

/* The settings a job may ask for: layouts "grid", "speaker", "side-by-side";
 * resolutions "720p" (1280x720) and "1080p" (1920x1080). */
bool render_jobs_layout_known(const char *layout);
/* The frame size of a resolution's name; false for a name that is not one. */
bool render_jobs_resolution_size(const char *resolution, int *width, int *height);

typedef void (*render_job_claim_cb)(jobs_claim_status status, const render_job *job, void *ctx);
/* ok is false when the lease was lost (another worker has the job) or the database failed. */
typedef void (*render_job_done_cb)(bool ok, void *ctx);

/* queued is false when a render of the job's recording is queued or running already
 * (nothing was added); failure is the database's answer when it failed, else NULL. */
typedef void (*render_job_enqueue_cb)(const db_result *failure, bool queued, void *ctx);

/* Queues job (its id, recording_id, take_id, layout, resolution) unless a render of its
 * recording is queued or running, and shows the recording "queued". */
void render_jobs_enqueue(db *d, const render_job *job, int64_t now_ms, render_job_enqueue_cb cb, void *ctx);

/* Claims the oldest queued job, or a running one whose lease expired, unless it has had
 * max_attempts already (those are marked failed). */
void render_jobs_claim(db *d, const char *worker_id, int64_t now_ms, int64_t lease_ms, int max_attempts,
                       render_job_claim_cb cb, void *ctx);
void render_jobs_renew(db *d, const char *job_id, const char *worker_id, int64_t now_ms, int64_t lease_ms,
                       render_job_done_cb cb, void *ctx);
void render_jobs_progress(db *d, const char *job_id, const char *worker_id, int percent, const char *stage,
                          int64_t now_ms, render_job_done_cb cb, void *ctx);
/* The render succeeded: the job is done and its recording ready. */
void render_jobs_finish(db *d, const char *job_id, const char *worker_id, int64_t now_ms, render_job_done_cb cb,
                        void *ctx);
/* The render failed: queued again for another attempt, or, when permanent or out of
 * attempts, failed with error (and its recording failed). */
void render_jobs_fail(db *d, const char *job_id, const char *worker_id, const char *error, bool permanent,
                      int max_attempts, int64_t now_ms, render_job_done_cb cb, void *ctx);

#endif
