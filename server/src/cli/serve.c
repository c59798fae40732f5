/* zencast serve: start everything on one loop, and drain it all on SIGTERM. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/api.h"
#include "app.h"
#include "cli/commands.h"
#include "log.h"
#include "render_worker.h"
#include "rtc/rtc.h"
#include "storage/local_upload.h"
#include "storage/retention.h"
#include "storage/storage.h"
#include "storage/storage_local.h"

#define DRAIN_POLL_MS 20
#define RATE_LIMIT_MAX_KEYS 100000
#define RETENTION_SWEEP_MS (3600 * 1000)

static const char USAGE[] =
    "Usage: zencast serve\n\n"
    "Serves the HTTP API, the WebSocket signalling and the built web app on PORT (3001),\n"
    "with an embedded render worker. Configuration comes from the environment and ./.env\n"
    "(see .env.example): PORT, HOST, DATA_DIR, DATABASE_URL, REDIS_URL, AWS_S3_BUCKET,\n"
    "JWT_SECRET, JWT_EXPIRES_IN, REFRESH_TOKEN_EXPIRES_IN, PUBLIC_URL, STATIC_DIR, LOG_LEVEL.\n"
    "SIGTERM or SIGINT: stop taking work, finish requests in flight, exit 0.\n";

typedef struct {
    app app;
    config cfg;
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    uv_timer_t drain_timer;
    uint64_t drain_deadline_ms;
    uint64_t ws_close_deadline_ms;
    bool http_stopped;
    render_worker *worker;
    retention *retention;
} server_process;

/* Many WebSocket clients need many descriptors; take the hard limit we are allowed. */
static void raise_file_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Shutdown runs in two phases on one timer. Draining: requests finish while the server
 * still answers (until SHUTDOWN_GRACE). Closing: the listener and connections are gone;
 * handlers still running finish their database work (their answers are dropped), then
 * the database closes and the loop runs dry. */
static void close_backends(server_process *p)
{
    uv_close((uv_handle_t *)&p->drain_timer, NULL);
    render_worker_free(p->worker);
    p->worker = NULL;
    retention_stop(p->retention);
    rooms *r = p->app.rooms;
    p->app.rooms = NULL; /* a connection closing late must not reach a closed back end */
    r->backend->close(r);
    p->app.storage->backend->close(p->app.storage);
    db_close(p->app.db);
}

static void on_drain_tick(uv_timer_t *t)
{
    server_process *p = t->data;
    int inflight = http_server_inflight(p->app.http);
    if (!p->http_stopped) {
        /* WebSocket clients get their close frame (1001) before the listener goes. */
        bool ws_open = rtc_has_connections(p->app.rtc) && uv_now(&p->loop) < p->ws_close_deadline_ms;
        if ((inflight > 0 || ws_open) && uv_now(&p->loop) < p->drain_deadline_ms)
            return;
        if (inflight > 0)
            log_warn("shutdown: %d request(s) still running after SHUTDOWN_GRACE; dropping their connections",
                     inflight);
        http_server_stop(p->app.http);
        p->http_stopped = true;
    }
    /* A render stops at its next progress check; storage and the database must outlive it. */
    if (inflight == 0 && !render_worker_busy(p->worker) &&
        (!rtc_has_connections(p->app.rtc) || uv_now(&p->loop) > p->drain_deadline_ms + 2000)) {
        uv_timer_stop(t);
        close_backends(p);
    }
}

static void on_signal(uv_signal_t *handle, int signum)
{
    server_process *p = handle->data;
    log_info("signal %d: shutting down, finishing %d request(s) in flight", signum,
             http_server_inflight(p->app.http));
    http_server_set_draining(p->app.http);
    rtc_stop(p->app.rtc);
    render_worker_stop(p->worker);
    uv_close((uv_handle_t *)&p->sigterm, NULL);
    uv_close((uv_handle_t *)&p->sigint, NULL);
    p->drain_deadline_ms = uv_now(&p->loop) + (uint64_t)p->cfg.shutdown_grace_s * 1000;
    p->ws_close_deadline_ms = uv_now(&p->loop) + 1000;
    uv_timer_start(&p->drain_timer, on_drain_tick, 0, DRAIN_POLL_MS);
}

static void watch_signals(server_process *p)
{
    uv_signal_init(&p->loop, &p->sigterm);
    uv_signal_init(&p->loop, &p->sigint);
    uv_timer_init(&p->loop, &p->drain_timer);
    p->sigterm.data = p->sigint.data = p->drain_timer.data = p;
    uv_signal_start(&p->sigterm, on_signal, SIGTERM);
    uv_signal_start(&p->sigint, on_signal, SIGINT);
}

static int start_http(server_process *p)
{
    http_server_options opts = {
        .host = p->cfg.host,
        .port = p->cfg.port,
        .static_dir = p->cfg.static_dir,
        .max_body_bytes = p->cfg.max_body_bytes,
        .idle_timeout_s = (int)p->cfg.http_idle_timeout_s,
        .handler = api_handle,
        .ws_protocol = rtc_protocol(),
        .stream = local_upload_handler(),
        .app = &p->app,
    };
    char err[256];
    p->app.http = http_server_start(&p->loop, &opts, err, sizeof err);
    if (!p->app.http) {
        log_error("http: %s", err);
        return -1;
    }
    log_info("listening on http://%s:%d (public URL %s)", p->cfg.host, p->cfg.port, p->cfg.public_url);
    return 0;
}

static rooms *open_rooms(server_process *p)
{
    if (!p->cfg.redis_url[0])
        return rooms_local_new(&p->loop);
    char id[96], host[64] = "host", err[256];
    gethostname(host, sizeof host - 1);
    snprintf(id, sizeof id, "%s:%d:%d", host, p->cfg.port, (int)getpid());
    rooms *r = rooms_redis_new(&p->loop, p->cfg.redis_url, id, err, sizeof err);
    if (!r)
        log_error("configuration: %s", err);
    return r;
}

static int start_app(server_process *p)
{
    app *a = &p->app;
    a->cfg = &p->cfg;
    a->loop = &p->loop;
    a->rooms = open_rooms(p);
    a->login_by_account = rate_limit_new(p->cfg.login_max_failures_per_account,
                                         p->cfg.login_rate_window_s * 1000, RATE_LIMIT_MAX_KEYS);
    a->login_by_address = rate_limit_new(p->cfg.login_max_failures_per_address,
                                         p->cfg.login_rate_window_s * 1000, RATE_LIMIT_MAX_KEYS);
    if (!a->rooms || !a->login_by_account || !a->login_by_address || !(a->rtc = rtc_new(a)) ||
        !(a->storage = cli_open_storage(&p->loop, &p->cfg)))
        return -1;
    log_info("rooms: %s", a->rooms->backend->name);
    a->db = cli_open_database(&p->loop, &p->cfg, true);
    if (!a->db)
        return -1;
    if (start_http(p) < 0) {
        db_close(a->db);
        return -1;
    }
    if (storage_local_impl(a->storage)) /* S3 has its own lifecycle rule for this */
        p->retention = retention_start(&p->loop, a->db, a->storage, p->cfg.raw_retention_s * 1000, RETENTION_SWEEP_MS);
    if (p->cfg.render_worker)
        p->worker = cli_start_render_worker(&p->loop, &p->cfg, a->db, a->storage);
    return 0;
}

static void free_app(server_process *p)
{
    http_server_free(p->app.http);
    rtc_free(p->app.rtc);
    rate_limit_free(p->app.login_by_account);
    rate_limit_free(p->app.login_by_address);
}

int cmd_serve(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, USAGE))
        return 0;
    static server_process p; /* one per process; large */
    if (cli_load_config(&p.cfg) < 0)
        return 1;
    char err[512];
    if (config_ensure_jwt_secret(&p.cfg, err, sizeof err) < 0) {
        log_error("configuration: %s", err);
        return 1;
    }
    raise_file_limit();
    /* argon2 takes 19 MiB per hash on pool threads; with glibc's default threshold each
     * thread's arena keeps it after free. Above 4 MiB, memory is mmapped and given back. */
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    setenv("UV_THREADPOOL_SIZE", "8", 0); /* argon2 must not starve SQLite of threads */
    uv_loop_init(&p.loop);
    if (start_app(&p) < 0) {
        cli_drain_loop(&p.loop);
        free_app(&p);
        return 1;
    }
    watch_signals(&p);
    cli_drain_loop(&p.loop);
    free_app(&p);
    log_info("shutdown complete");
    return 0;
}
