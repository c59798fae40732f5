#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "log.h"
#include "render_worker.h"
#include "storage/storage.h"
#include <unistd.h>

bool cli_wants_help(int argc, char **argv, const char *usage)
{
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return true;
        }
        fprintf(stderr, "zencast %s: unknown option %s\n\n%s", argv[1], argv[i], usage);
        exit(2);
    }
    return false;
}

int cli_load_config(config *cfg)
{
    char err[512];
    if (config_load(cfg, ".env", err, sizeof err) < 0) {
        log_error("configuration: %s", err);
        return -1;
    }
    log_set_level((log_level)cfg->log_level);
    if (mkdir(cfg->data_dir, 0700) < 0 && errno != EEXIST) {
        log_error("configuration: DATA_DIR: cannot create %s: %s", cfg->data_dir, strerror(errno));
        return -1;
    }
    return 0;
}

db *cli_open_database(uv_loop_t *loop, const config *cfg, bool migrate)
{
    char err[512];
    db *d = db_open(loop, cfg->database_url, cfg->sqlite_path, err, sizeof err);
    if (!d) {
        log_error("database: %s", err);
        return NULL;
    }
    log_info("database: %s", d->backend->name);
    if (migrate && db_migrate(d, err, sizeof err) < 0) {
        log_error("database: migration failed: %s", err);
        db_close(d);
        cli_drain_loop(loop);
        return NULL;
    }
    return d;
}

storage *cli_open_storage(uv_loop_t *loop, const config *cfg)
{
    char err[256];
    storage *s;
    if (cfg->s3_bucket[0]) {
        storage_s3_options opts = { cfg->s3_bucket, cfg->s3_region, cfg->s3_endpoint, cfg->aws_access_key_id,
                                    cfg->aws_secret_access_key, "" };
        s = storage_s3_open(loop, &opts, err, sizeof err);
    } else {
        s = storage_local_open(loop, cfg->objects_dir, cfg->public_url, cfg->jwt_secret, cfg->jwt_secret_len, err,
                               sizeof err);
    }
    if (!s)
        log_error("storage: %s", err);
    else
        log_info("storage: %s", s->backend->name);
    return s;
}

render_worker *cli_start_render_worker(uv_loop_t *loop, const config *cfg, db *d, storage *s)
{
    char host[64] = "host", id[96];
    gethostname(host, sizeof host - 1);
    snprintf(id, sizeof id, "%s:%d", host, (int)getpid());
    render_worker_options opts = {
        .loop = loop, .db = d, .storage = s, .worker_id = id, .work_dir = cfg->render_dir,
        .poll_ms = cfg->render_poll_ms, .lease_ms = cfg->render_lease_ms, .max_attempts = cfg->render_max_attempts,
    };
    return render_worker_start(&opts);
}

void cli_drain_loop(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    if (uv_loop_close(loop) != 0)
        log_warn("event loop closed with handles still open");
}
