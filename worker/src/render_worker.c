#include "render_worker.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

struct render_worker {
    char id[64];
};

render_worker *render_worker_start(uv_loop_t *loop, const char *worker_id)
{
    (void)loop;
    render_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    snprintf(w->id, sizeof w->id, "%s", worker_id);
    log_info("render worker %s started (rendering not implemented yet: jobs stay queued)", w->id);
    return w;
}

void render_worker_stop(render_worker *w)
{
    if (!w)
        return;
    log_info("render worker %s stopped", w->id);
    free(w);
}
