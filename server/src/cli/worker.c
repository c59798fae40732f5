/* zencast worker: a render worker only, for as many machines as the renders need. */
#include <signal.h>
#include <stdio.h>

#include "cli/commands.h"
#include "log.h"
#include "render_worker.h"
#include "storage/storage.h"

#define STOP_POLL_MS 50

static const char USAGE[] =
    "Usage: zencast worker\n\n"
    "Runs a render worker only: it takes render jobs from the database and renders them.\n"
    "Run as many as you like, on any machine that reaches DATABASE_URL and the storage.\n"
    "SIGTERM or SIGINT stops it: a render in progress stops and its job goes back to the queue.\n";

typedef struct {
    uv_signal_t sigterm, sigint;
    uv_timer_t stop_timer;
    render_worker *worker;
    storage *storage;
    db *db;
} worker_process;

/* Storage and the database close only once the render has let go of them. */
static void on_stop_tick(uv_timer_t *t)
{
    worker_process *p = t->data;
    if (render_worker_busy(p->worker))
        return;
    uv_close((uv_handle_t *)t, NULL);
    render_worker_free(p->worker);
    p->storage->backend->close(p->storage);
    db_close(p->db);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    worker_process *p = handle->data;
    log_info("signal %d: stopping the worker", signum);
    render_worker_stop(p->worker);
    uv_close((uv_handle_t *)&p->sigterm, NULL);
    uv_close((uv_handle_t *)&p->sigint, NULL);
    uv_timer_start(&p->stop_timer, on_stop_tick, 0, STOP_POLL_MS);
}

int cmd_worker(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, USAGE))
        return 0;
    config cfg;
    if (cli_load_config(&cfg) < 0)
        return 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    worker_process p = { 0 };
    p.db = cli_open_database(&loop, &cfg, false);
    p.storage = p.db ? cli_open_storage(&loop, &cfg) : NULL;
    p.worker = p.storage ? cli_start_render_worker(&loop, &cfg, p.db, p.storage) : NULL;
    if (!p.worker) {
        if (p.storage)
            p.storage->backend->close(p.storage);
        if (p.db)
            db_close(p.db);
        cli_drain_loop(&loop);
        return 1;
    }
    uv_signal_init(&loop, &p.sigterm);
    uv_signal_init(&loop, &p.sigint);
    uv_timer_init(&loop, &p.stop_timer);
    p.sigterm.data = p.sigint.data = p.stop_timer.data = &p;
    uv_signal_start(&p.sigterm, on_signal, SIGTERM);
    uv_signal_start(&p.sigint, on_signal, SIGINT);
    cli_drain_loop(&loop);
    log_info("shutdown complete");
    return 0;
}
