#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/commands.h"
#include "log.h"
#include "render_worker.h"

static const char USAGE[] =
    "Usage: zencast worker\n\n"
    "Runs a render worker only: it takes render jobs from the database and renders them.\n"
    "Run as many as you like, on any machine that reaches DATABASE_URL and the storage.\n"
    "SIGTERM or SIGINT stops it.\n";

typedef struct {
    uv_signal_t sigterm, sigint;
    render_worker *worker;
    db *db;
} worker_process;

static void on_signal(uv_signal_t *handle, int signum)
{
    worker_process *p = handle->data;
    log_info("signal %d: stopping the worker", signum);
    render_worker_stop(p->worker);
    p->worker = NULL;
    uv_close((uv_handle_t *)&p->sigterm, NULL);
    uv_close((uv_handle_t *)&p->sigint, NULL);
    db_close(p->db);
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
    if (!p.db)
        return 1;
    char id[64];
    char host[32] = "host";
    gethostname(host, sizeof host - 1);
    snprintf(id, sizeof id, "%s-%d", host, (int)getpid());
    p.worker = render_worker_start(&loop, id);
    uv_signal_init(&loop, &p.sigterm);
    uv_signal_init(&loop, &p.sigint);
    p.sigterm.data = p.sigint.data = &p;
    uv_signal_start(&p.sigterm, on_signal, SIGTERM);
    uv_signal_start(&p.sigint, on_signal, SIGINT);
    cli_drain_loop(&loop);
    log_info("shutdown complete");
    return 0;
}
