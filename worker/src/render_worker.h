/* The render worker: takes render jobs from the database (leased, so many workers on
 * many machines share them), renders each take on a thread of the pool, uploads the
 * results to storage and reports progress. The same code runs inside `zencast serve`
 * and as `zencast worker`. */
#ifndef ZC_RENDER_WORKER_H
#define ZC_RENDER_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "storage/storage.h"
#include "store/db.h"

typedef struct {
    uv_loop_t *loop;
    db *db;
    storage *storage;
    const char *worker_id;  /* unique among all workers: host:pid */
    const char *work_dir;   /* scratch space for renders, e.g. DATA_DIR/render */
    int64_t poll_ms;        /* how often an idle worker looks for a job */
    int64_t lease_ms;       /* renewed every lease_ms/4 while rendering */
    int max_attempts;
} render_worker_options;

typedef struct render_worker render_worker;

render_worker *render_worker_start(const render_worker_options *opts);
/* Stops taking jobs and asks a running render to stop. */
void render_worker_stop(render_worker *w);
/* True while a render, its upload or a database step still runs: wait for false before
 * closing storage and the database, then free. */
bool render_worker_busy(const render_worker *w);
void render_worker_free(render_worker *w);

#endif
