/* Back-end dispatch, result accessors and migrations, shared by SQLite and PostgreSQL. */
#include "store/db.h"
#include "store/migrations.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void set_err(char *err, size_t err_size, const char *msg)
{
    if (err && err_size)
        snprintf(err, err_size, "%s", msg);
}

db *db_open(uv_loop_t *loop, const char *database_url, const char *sqlite_path,
            char *err, size_t err_size)
{
    if (!database_url || !*database_url)
        return db_sqlite_open(loop, sqlite_path, err, err_size);
    if (has_prefix(database_url, "postgres://") || has_prefix(database_url, "postgresql://"))
        return db_postgres_open(loop, database_url, 4, err, err_size);
    set_err(err, err_size,
            "DATABASE_URL: must start with postgres:// or postgresql:// (or be unset for SQLite)");
    return NULL;
}

/* A query the back end refused at once (closing, out of memory) still gets its
 * callback, from the loop, so that no request waits forever for an answer. */
typedef struct {
    uv_timer_t timer;
    db_callback cb;
    void *ctx;
} refused_query;

static void refused_closed(uv_handle_t *h)
{
    free(h->data);
}

static void refused_fire(uv_timer_t *t)
{
    refused_query *q = t->data;
    db_result res = { .status = DB_ERR_UNAVAILABLE };
    snprintf(res.error, sizeof res.error, "the database is closing or out of memory");
    q->cb(&res, q->ctx);
    uv_close((uv_handle_t *)t, refused_closed);
}

static int defer_refusal(uv_loop_t *loop, db_callback cb, void *ctx)
{
    refused_query *q = calloc(1, sizeof *q);
    if (!q || uv_timer_init(loop, &q->timer) != 0) {
        free(q);
        return -1;
    }
    q->cb = cb;
    q->ctx = ctx;
    q->timer.data = q;
    uv_timer_start(&q->timer, refused_fire, 0, 0);
    return 0;
}

static void ignore_result(db_result *res, void *ctx)
{
    (void)ctx;
    if (res->status != DB_OK)
        log_warn("database: a statement whose result nobody waits for failed: %s", res->error);
}

int db_query(db *d, const char *sql, const db_param *params, int nparams,
             db_callback cb, void *ctx)
{
    if (!d)
        return -1;
    if (!cb) /* fire and forget: still run, and say so when it fails */
        cb = ignore_result;
    if (d->backend->query(d, sql, params, nparams, cb, ctx) == 0)
        return 0;
    if (cb)
        defer_refusal(d->loop, cb, ctx);
    return -1;
}

void db_close(db *d)
{
    if (d)
        d->backend->close(d);
}

const char *db_value(const db_result *r, int row, int col)
{
    if (!r || !r->values || row < 0 || col < 0 || row >= r->nrows || col >= r->ncols)
        return NULL;
    return r->values[row * r->ncols + col];
}

int64_t db_value_int(const db_result *r, int row, int col, int64_t fallback)
{
    const char *s = db_value(r, row, col);
    if (!s || !*s)
        return fallback;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return fallback;
    return (int64_t)v;
}

/* ---------------------------------------------------------------- migrations */

static const char CREATE_MIGRATIONS_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Doubles single quotes: exec_blocking takes no parameters. */
static void quote_literal(char *dst, const char *src)
{
    for (; *src; src++) {
        if (*src == '\'')
            *dst++ = '\'';
        *dst++ = *src;
    }
    *dst = '\0';
}

/* The sql goes on its own lines so a trailing comment cannot swallow what follows. */
static char *migration_script(const migration *m)
{
    static const char fmt[] =
        "BEGIN;\n%s\n;\n"
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, '%s', %lld);\n"
        "COMMIT;";
    char *name = malloc(strlen(m->name) * 2 + 1);
    if (!name)
        return NULL;
    quote_literal(name, m->name);
    long long applied_at = now_ms();
    int n = snprintf(NULL, 0, fmt, m->sql, m->version, name, applied_at);
    char *script = n < 0 ? NULL : malloc((size_t)n + 1);
    if (script)
        snprintf(script, (size_t)n + 1, fmt, m->sql, m->version, name, applied_at);
    free(name);
    return script;
}

static int apply_migration(db *d, const migration *m, char *err, size_t err_size)
{
    char why[256] = "out of memory";
    char *script = migration_script(m);
    int rc = script ? d->backend->exec_blocking(d, script, why, sizeof why) : -1;
    free(script);
    if (rc != 0) {
        char ignored[256];
        d->backend->exec_blocking(d, "ROLLBACK", ignored, sizeof ignored);
        if (err && err_size)
            snprintf(err, err_size, "migration %s: %s", m->name, why);
        return -1;
    }
    log_info("applied migration %d (%s)", m->version, m->name);
    return 0;
}

static int migrate_unlocked(db *d, char *err, size_t err_size)
{
    if (d->backend->exec_blocking(d, CREATE_MIGRATIONS_TABLE, err, err_size) != 0)
        return -1;
    int64_t current = 0;
    if (d->backend->query_int_blocking(d, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                                       &current, err, err_size) != 0)
        return -1;
    for (int i = 0; i < MIGRATION_COUNT; i++) {
        if (MIGRATIONS[i].version <= current)
            continue;
        if (apply_migration(d, &MIGRATIONS[i], err, err_size) != 0)
            return -1;
    }
    return 0;
}

int db_migrate(db *d, char *err, size_t err_size)
{
    const db_backend *b = d->backend;
    if (b->migration_lock_sql && b->exec_blocking(d, b->migration_lock_sql, err, err_size) != 0)
        return -1;
    int rc = migrate_unlocked(d, err, err_size);
    char ignored[256];
    if (b->migration_unlock_sql)
        b->exec_blocking(d, b->migration_unlock_sql, ignored, sizeof ignored);
    return rc;
}
