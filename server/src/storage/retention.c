#include "storage/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "log.h"

#define BATCH 200

typedef struct {
    char key[STORAGE_KEY_MAX];
    char take_id[37];
    char participant_id[37];
    int64_t chunk_index;
} expired_chunk;

struct retention {
    uv_timer_t timer;
    db *db;
    storage *storage;
    int64_t retention_ms;
    bool running;
    bool stopping;
    expired_chunk *batch;
    int count, next, deleted;
    void (*done)(int deleted, void *ctx);
    void *done_ctx;
};

static int64_t now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void timer_closed(uv_handle_t *h) { free(h->data); }

static void sweep_finished(retention *r)
{
    if (r->deleted)
        log_info("retention: deleted %d raw chunk(s) older than the retention period", r->deleted);
    free(r->batch);
    r->batch = NULL;
    r->running = false;
    if (r->done)
        r->done(r->deleted, r->done_ctx);
    r->done = NULL;
    if (r->stopping)
        uv_close((uv_handle_t *)&r->timer, timer_closed);
}

static void delete_next(retention *r);

static void row_expired(db_result *res, void *arg)
{
    retention *r = arg;
    if (res->status != DB_OK)
        log_warn("retention: could not mark a chunk expired: %s", res->error);
    delete_next(r);
}

static void object_removed(storage_status status, void *arg)
{
    retention *r = arg;
    expired_chunk *c = &r->batch[r->next - 1];
    if (status == STORAGE_ERROR || r->stopping) { /* try again next sweep */
        log_warn("retention: could not delete %s", c->key);
        delete_next(r);
        return;
    }
    r->deleted++;
    db_param params[] = { DB_TEXT(c->take_id), DB_TEXT(c->participant_id), DB_INT(c->chunk_index) };
    db_query(r->db,
             "UPDATE chunks SET status = 'expired' WHERE take_id = $1 AND participant_id = $2 AND chunk_index = $3",
             params, 3, row_expired, r);
}

static void delete_next(retention *r)
{
    if (r->next == r->count || r->stopping) { /* shutting down: the rest waits for the next start */
        sweep_finished(r);
        return;
    }
    expired_chunk *c = &r->batch[r->next++];
    r->storage->backend->remove(r->storage, c->key, object_removed, r);
}

static void expired_loaded(db_result *res, void *arg)
{
    retention *r = arg;
    if (res->status != DB_OK || res->nrows == 0 || !(r->batch = calloc((size_t)res->nrows, sizeof *r->batch))) {
        if (res->status != DB_OK)
            log_warn("retention: could not list expired chunks: %s", res->error);
        sweep_finished(r);
        return;
    }
    for (int i = 0; i < res->nrows; i++) {
        snprintf(r->batch[i].key, sizeof r->batch[i].key, "%s", db_value(res, i, 0));
        snprintf(r->batch[i].take_id, sizeof r->batch[i].take_id, "%s", db_value(res, i, 1));
        snprintf(r->batch[i].participant_id, sizeof r->batch[i].participant_id, "%s", db_value(res, i, 2));
        r->batch[i].chunk_index = db_value_int(res, i, 3, 0);
    }
    r->count = res->nrows;
    delete_next(r);
}

void retention_sweep(retention *r, void (*done)(int deleted, void *ctx), void *ctx)
{
    if (r->running || r->stopping) {
        if (done)
            done(0, ctx);
        return;
    }
    r->running = true;
    r->count = r->next = r->deleted = 0;
    r->done = done;
    r->done_ctx = ctx;
    /* A take may have rendered more than once: its newest successful render counts, and a
     * render queued or running again (other settings) still needs the chunks. */
    db_param params[] = { DB_INT(now_ms() - r->retention_ms), DB_INT(BATCH) };
    db_query(r->db,
             "SELECT c.object_key, c.take_id, c.participant_id, c.chunk_index FROM chunks c "
             "WHERE c.status = 'stored' AND c.object_key LIKE 'recordings/%' AND c.take_id IN "
             "(SELECT j.take_id FROM render_jobs j WHERE j.status = 'done' GROUP BY j.take_id "
             "HAVING MAX(j.updated_at) < $1) AND NOT EXISTS (SELECT 1 FROM render_jobs a "
             "WHERE a.take_id = c.take_id AND a.status IN ('queued', 'running')) LIMIT $2",
             params, 2, expired_loaded, r);
}

static void on_timer(uv_timer_t *t)
{
    retention_sweep(t->data, NULL, NULL);
}

retention *retention_start(uv_loop_t *loop, db *d, storage *s, int64_t retention_ms, int64_t interval_ms)
{
    retention *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->db = d;
    r->storage = s;
    r->retention_ms = retention_ms;
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_timer, (uint64_t)interval_ms, (uint64_t)interval_ms);
    return r;
}

void retention_stop(retention *r)
{
    if (!r || r->stopping)
        return;
    r->stopping = true;
    uv_timer_stop(&r->timer);
    if (!r->running)
        uv_close((uv_handle_t *)&r->timer, timer_closed);
}
