/* The render worker: claims render jobs from the database and renders them.
 * Rendering itself arrives with the render-worker issue; today the worker only
 * announces itself so `zencast worker` and the embedded worker already run. */
#ifndef ZC_RENDER_WORKER_H
#define ZC_RENDER_WORKER_H

#include <uv.h>

typedef struct render_worker render_worker;

/* Starts a worker on loop. Returns NULL on failure. */
render_worker *render_worker_start(uv_loop_t *loop, const char *worker_id);
/* Stops polling and frees the worker once its handles are closed. */
void render_worker_stop(render_worker *w);

#endif
