#include "store/render_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

typedef struct {
    db *db;
    char worker_id[64];
    char job_id[37];
    int64_t now_ms, lease_ms;
    int max_attempts;
    render_job_claim_cb claim_cb;
    render_job_done_cb done_cb;
    render_job_enqueue_cb enqueue_cb;
    void *ctx;
} jobs_op;

static jobs_op *op_new(db *d, const char *worker_id, int64_t now_ms, void *ctx)
{
    jobs_op *op = calloc(1, sizeof *op);
    if (!op)
        abort(); /* a hundred bytes; nothing sensible to answer with */
    op->db = d;
    snprintf(op->worker_id, sizeof op->worker_id, "%s", worker_id);
    op->now_ms = now_ms;
    op->ctx = ctx;
    return op;
}

/* ---- settings ------------------------------------------------------------------------------ */

bool render_jobs_layout_known(const char *layout)
{
    static const char *const LAYOUTS[] = { "grid", "speaker", "side-by-side" };
    for (size_t i = 0; i < sizeof LAYOUTS / sizeof LAYOUTS[0]; i++)
        if (strcmp(layout, LAYOUTS[i]) == 0)
            return true;
    return false;
}

bool render_jobs_resolution_size(const char *resolution, int *width, int *height)
{
    static const struct {
        const char *name;
        int width, height;
    } SIZES[] = { { "720p", 1280, 720 }, { "1080p", 1920, 1080 } };
    for (size_t i = 0; i < sizeof SIZES / sizeof SIZES[0]; i++)
        if (strcmp(resolution, SIZES[i].name) == 0) {
            *width = SIZES[i].width;
            *height = SIZES[i].height;
            return true;
        }
    return false;
}

/* ---- enqueue ------------------------------------------------------------------------------- */

static void enqueued_shown(db_result *res, void *arg)
{
    jobs_op *op = arg;
    if (res->status != DB_OK)
        log_warn("render jobs: could not mark the recording queued: %s", res->error);
    op->enqueue_cb(NULL, true, op->ctx);
    free(op);
}

static void enqueued(db_result *res, void *arg)
{
    jobs_op *op = arg;
    /* A constraint: another instance queued a render of this take a moment ago. */
    if (res->status == DB_ERR_CONSTRAINT || (res->status == DB_OK && res->nrows == 0)) {
        op->enqueue_cb(NULL, false, op->ctx);
        free(op);
        return;
    }
    if (res->status != DB_OK) {
        op->enqueue_cb(res, false, op->ctx);
        free(op);
        return;
    }
    /* Only while the job still waits: a worker that claimed it already shows "rendering". */
    db_param params[] = { DB_INT(op->now_ms), DB_TEXT(db_value(res, 0, 0)), DB_TEXT(op->job_id) };
    db_query(op->db,
             "UPDATE recordings SET status = 'queued', updated_at = $1 WHERE id = $2 AND EXISTS "
             "(SELECT 1 FROM render_jobs WHERE id = $3 AND status = 'queued')",
             params, 3, enqueued_shown, op);
}

void render_jobs_enqueue(db *d, const render_job *job, int64_t now_ms, render_job_enqueue_cb cb, void *ctx)
{
    jobs_op *op = op_new(d, "", now_ms, ctx);
    op->enqueue_cb = cb;
    snprintf(op->job_id, sizeof op->job_id, "%s", job->id);
    /* The check and the insert are one statement; the unique index render_jobs_one_active
     * stops a second render of one take that two PostgreSQL transactions could let through. */
    db_param params[] = { DB_TEXT(job->id), DB_TEXT(job->recording_id), DB_TEXT(job->take_id), DB_TEXT(job->layout),
                          DB_TEXT(job->resolution), DB_INT(now_ms) };
    db_query(d,
             "INSERT INTO render_jobs (id, recording_id, take_id, status, layout, resolution, created_at, updated_at) "
             "SELECT $1, $2, $3, 'queued', $4, $5, $6, $6 WHERE NOT EXISTS (SELECT 1 FROM render_jobs "
             "WHERE recording_id = $2 AND status IN ('queued', 'running')) RETURNING recording_id",
             params, 6, enqueued, op);
}

/* ---- claim ------------------------------------------------------------------------------- */

typedef struct {
    jobs_op *op;
    render_job job;
} claimed_ctx;

/* The recording shows "rendering" before the worker hears it has the job. */
static void rendering_set(db_result *res, void *arg)
{
    claimed_ctx *cc = arg;
    if (res->status != DB_OK)
        log_warn("render jobs: could not mark the recording rendering: %s", res->error);
    cc->op->claim_cb(JOBS_CLAIMED, &cc->job, cc->op->ctx);
    free(cc->op);
    free(cc);
}

static void claimed(db_result *res, void *arg)
{
    jobs_op *op = arg;
    if (res->status != DB_OK || res->nrows == 0) {
        if (res->status != DB_OK)
            log_warn("render jobs: claim failed: %s", res->error);
        op->claim_cb(res->status == DB_OK ? JOBS_NONE : JOBS_ERROR, NULL, op->ctx);
        free(op);
        return;
    }
    render_job job = { .attempts = (int)db_value_int(res, 0, 5, 1) };
    snprintf(job.id, sizeof job.id, "%s", db_value(res, 0, 0));
    snprintf(job.recording_id, sizeof job.recording_id, "%s", db_value(res, 0, 1));
    snprintf(job.take_id, sizeof job.take_id, "%s", db_value(res, 0, 2) ? db_value(res, 0, 2) : "");
    snprintf(job.layout, sizeof job.layout, "%s", db_value(res, 0, 3));
    snprintf(job.resolution, sizeof job.resolution, "%s", db_value(res, 0, 4));
    log_info("render jobs: %s claimed job %s (attempt %d): layout %s, %s", op->worker_id, job.id, job.attempts,
             job.layout, job.resolution);
    claimed_ctx *cc = calloc(1, sizeof *cc);
    if (!cc)
        abort();
    cc->op = op;
    cc->job = job;
    db_param params[] = { DB_INT(op->now_ms), DB_TEXT(job.recording_id) };
    db_query(op->db, "UPDATE recordings SET status = 'rendering', updated_at = $1 WHERE id = $2", params, 2,
             rendering_set, cc);
}

static void exhausted_failed(db_result *res, void *arg)
{
    jobs_op *op = arg;
    if (res->status != DB_OK)
        log_warn("render jobs: could not fail exhausted jobs: %s", res->error);
    for (int i = 0; i < res->nrows; i++)
        log_warn("render jobs: job %s failed for good: its workers stopped responding %d times", db_value(res, i, 0),
                 op->max_attempts);
    /* One statement picks and leases, so two workers never get the same job. PostgreSQL
     * skips rows another transaction has locked; SQLite has one writer at a time anyway. */
    bool pg = strcmp(op->db->backend->name, "postgres") == 0;
    char sql[900];
    snprintf(sql, sizeof sql,
             "UPDATE render_jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, "
             "attempts = attempts + 1, progress = 0, stage = 'starting', updated_at = $3 "
             "WHERE id = (SELECT id FROM render_jobs WHERE (status = 'queued' OR (status = 'running' AND "
             "lease_expires_at < $3)) AND attempts < $4 ORDER BY created_at, id LIMIT 1%s) "
             "RETURNING id, recording_id, take_id, layout, resolution, attempts",
             pg ? " FOR UPDATE SKIP LOCKED" : "");
    db_param params[] = { DB_TEXT(op->worker_id), DB_INT(op->now_ms + op->lease_ms), DB_INT(op->now_ms),
                          DB_INT(op->max_attempts) };
    db_query(op->db, sql, params, 4, claimed, op);
}

void render_jobs_claim(db *d, const char *worker_id, int64_t now_ms, int64_t lease_ms, int max_attempts,
                       render_job_claim_cb cb, void *ctx)
{
    jobs_op *op = op_new(d, worker_id, now_ms, ctx);
    op->lease_ms = lease_ms;
    op->max_attempts = max_attempts;
    op->claim_cb = cb;
    db_param params[] = { DB_INT(now_ms), DB_INT(max_attempts) };
    db_query(d,
             "UPDATE render_jobs SET status = 'failed', error = 'the render worker stopped responding on every attempt', "
             "lease_owner = NULL, updated_at = $1 WHERE status = 'running' AND lease_expires_at < $1 "
             "AND attempts >= $2 RETURNING id",
             params, 2, exhausted_failed, op);
}

/* ---- the lease holder's updates ------------------------------------------------------------ */

static void updated(db_result *res, void *arg)
{
    jobs_op *op = arg;
    bool ok = res->status == DB_OK && res->nrows == 1;
    if (res->status == DB_OK && res->nrows == 0)
        log_warn("render jobs: %s lost the lease of job %s", op->worker_id, op->job_id);
    if (op->done_cb)
        op->done_cb(ok, op->ctx);
    free(op);
}

static void update_held(db *d, const char *job_id, const char *worker_id, int64_t now_ms, const char *set_sql,
                        const db_param *extra, int nextra, render_job_done_cb cb, void *ctx)
{
    jobs_op *op = op_new(d, worker_id, now_ms, ctx);
    op->done_cb = cb;
    snprintf(op->job_id, sizeof op->job_id, "%s", job_id);
    char sql[600];
    snprintf(sql, sizeof sql,
             "UPDATE render_jobs SET %s, updated_at = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'running' "
             "RETURNING recording_id",
             set_sql);
    db_param params[8] = { DB_TEXT(job_id), DB_TEXT(worker_id), DB_INT(now_ms) };
    memcpy(params + 3, extra, sizeof *extra * (size_t)nextra);
    db_query(d, sql, params, 3 + nextra, updated, op);
}

void render_jobs_renew(db *d, const char *job_id, const char *worker_id, int64_t now_ms, int64_t lease_ms,
                       render_job_done_cb cb, void *ctx)
{
    db_param extra[] = { DB_INT(now_ms + lease_ms) };
    update_held(d, job_id, worker_id, now_ms, "lease_expires_at = $4", extra, 1, cb, ctx);
}

void render_jobs_progress(db *d, const char *job_id, const char *worker_id, int percent, const char *stage,
                          int64_t now_ms, render_job_done_cb cb, void *ctx)
{
    db_param extra[] = { DB_INT(percent < 0 ? 0 : percent > 100 ? 100 : percent), DB_TEXT(stage) };
    update_held(d, job_id, worker_id, now_ms, "progress = $4, stage = $5", extra, 2, cb, ctx);
}

typedef struct {
    db *db;
    int64_t now_ms;
    char recording_status[16];
    render_job_done_cb cb;
    void *ctx;
} ended_ctx;

static void recording_settled(db_result *res, void *arg)
{
    ended_ctx *e = arg;
    if (res->status != DB_OK)
        log_warn("render jobs: could not set the recording's status: %s", res->error);
    if (e->cb)
        e->cb(true, e->ctx);
    free(e);
}

/* The job's end also settles its recording's status, before the caller hears of it. */
static void job_ended(db_result *res, void *arg)
{
    ended_ctx *e = arg;
    if (res->status != DB_OK || res->nrows != 1) {
        if (e->cb)
            e->cb(false, e->ctx);
        free(e);
        return;
    }
    const char *job_status = res->ncols > 1 ? db_value(res, 0, 1) : NULL;
    bool retry = job_status && strcmp(job_status, "queued") == 0; /* another attempt comes */
    db_param params[] = { DB_TEXT(retry ? "queued" : e->recording_status), DB_INT(e->now_ms),
                          DB_TEXT(db_value(res, 0, 0)) };
    db_query(e->db, "UPDATE recordings SET status = $1, updated_at = $2 WHERE id = $3", params, 3, recording_settled, e);
}

static ended_ctx *ended_new(db *d, int64_t now_ms, const char *recording_status, render_job_done_cb cb, void *ctx)
{
    ended_ctx *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->db = d;
    e->now_ms = now_ms;
    snprintf(e->recording_status, sizeof e->recording_status, "%s", recording_status);
    e->cb = cb;
    e->ctx = ctx;
    return e;
}

void render_jobs_finish(db *d, const char *job_id, const char *worker_id, int64_t now_ms, render_job_done_cb cb,
                        void *ctx)
{
    db_param params[] = { DB_TEXT(job_id), DB_TEXT(worker_id), DB_INT(now_ms) };
    db_query(d,
             "UPDATE render_jobs SET status = 'done', progress = 100, stage = 'done', lease_owner = NULL, "
             "updated_at = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING recording_id",
             params, 3, job_ended, ended_new(d, now_ms, "ready", cb, ctx));
}

void render_jobs_fail(db *d, const char *job_id, const char *worker_id, const char *error, bool permanent,
                      int max_attempts, int64_t now_ms, render_job_done_cb cb, void *ctx)
{
    log_warn("render jobs: job %s failed%s: %s", job_id, permanent ? " for good" : "", error);
    db_param params[] = { DB_TEXT(job_id), DB_TEXT(worker_id), DB_INT(now_ms), DB_TEXT(error),
                          DB_INT(permanent ? 0 : max_attempts) };
    /* Out of attempts (or permanent: $5 = 0) the job fails; otherwise it waits for another try. */
    db_query(d,
             "UPDATE render_jobs SET status = CASE WHEN attempts >= $5 THEN 'failed' ELSE 'queued' END, "
             "error = $4, lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 "
             "WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING recording_id, status",
             params, 5, job_ended, ended_new(d, now_ms, "failed", cb, ctx));
}
