/* The SQLite back end: the embedded default. Every query runs on libuv's thread pool,
 * one at a time under a mutex, so the loop never waits on the disk. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/db.h"

typedef struct {
    sqlite3 *conn;
    pthread_mutex_t lock;
    int pending;  /* queued or running jobs */
    bool closing; /* freed when the last job finishes */
} sqlite_db;

typedef struct {
    uv_work_t work;
    db *owner;
    char *sql;
    db_param *params;
    int nparams;
    db_callback cb;
    void *ctx;
    db_result result;
} sqlite_job;

/* ---- running one statement (on a pool thread) ------------------------------------ */

static int bind_params(sqlite3_stmt *stmt, const db_param *params, int nparams)
{
    for (int i = 0; i < nparams; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int idx = sqlite3_bind_parameter_index(stmt, name);
        if (idx == 0)
            continue; /* the statement does not use this parameter */
        int rc = params[i].type == DB_PARAM_TEXT ? sqlite3_bind_text(stmt, idx, params[i].text, -1, SQLITE_TRANSIENT)
               : params[i].type == DB_PARAM_INT  ? sqlite3_bind_int64(stmt, idx, params[i].integer)
                                                 : sqlite3_bind_null(stmt, idx);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

static int append_row(sqlite3_stmt *stmt, db_result *res, int *capacity)
{
    if (res->nrows == *capacity) {
        int grown = *capacity ? *capacity * 2 : 8;
        char **values = realloc(res->values, sizeof(char *) * (size_t)grown * (size_t)res->ncols);
        if (!values)
            return -1;
        res->values = values;
        *capacity = grown;
    }
    char **row = res->values + (size_t)res->nrows * (size_t)res->ncols;
    for (int c = 0; c < res->ncols; c++) {
        const unsigned char *text = sqlite3_column_text(stmt, c);
        row[c] = text ? strdup((const char *)text) : NULL;
    }
    res->nrows++;
    return 0;
}

static db_status status_of(int rc)
{
    int primary = rc & 0xff;
    if (primary == SQLITE_CONSTRAINT)
        return DB_ERR_CONSTRAINT;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR || primary == SQLITE_FULL)
        return DB_ERR_UNAVAILABLE;
    return DB_ERR_OTHER;
}

static void set_error(db_result *res, sqlite3 *conn, int rc)
{
    res->status = status_of(rc);
    snprintf(res->error, sizeof res->error, "%s", sqlite3_errmsg(conn));
}

static void run_statement(sqlite3 *conn, const char *sql, const db_param *params, int nparams, db_result *res)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = bind_params(stmt, params, nparams);
    if (rc != SQLITE_OK) {
        set_error(res, conn, rc);
        sqlite3_finalize(stmt);
        return;
    }
    res->ncols = sqlite3_column_count(stmt);
    int capacity = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        if (append_row(stmt, res, &capacity) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
    if (rc != SQLITE_DONE)
        set_error(res, conn, rc);
    else
        res->affected = sqlite3_stmt_readonly(stmt) ? res->nrows : sqlite3_changes(conn);
    sqlite3_finalize(stmt);
}

static void job_run(uv_work_t *w)
{
    sqlite_job *job = w->data;
    sqlite_db *s = job->owner->impl;
    pthread_mutex_lock(&s->lock);
    run_statement(s->conn, job->sql, job->params, job->nparams, &job->result);
    pthread_mutex_unlock(&s->lock);
}

/* ---- back on the loop ------------------------------------------------------------- */

static void result_free(db_result *res)
{
    for (long i = 0; i < (long)res->nrows * res->ncols; i++)
        free(res->values[i]);
    free(res->values);
}

static void sqlite_free(db *d)
{
    sqlite_db *s = d->impl;
    if (sqlite3_close(s->conn) != SQLITE_OK)
        log_warn("sqlite: closing: %s", sqlite3_errmsg(s->conn));
    pthread_mutex_destroy(&s->lock);
    free(s);
    free(d);
}

static void job_free(sqlite_job *job)
{
    for (int i = 0; i < job->nparams; i++)
        free((char *)job->params[i].text);
    free(job->params);
    free(job->sql);
    result_free(&job->result);
    free(job);
}

static void job_done(uv_work_t *w, int status)
{
    sqlite_job *job = w->data;
    db *d = job->owner;
    sqlite_db *s = d->impl;
    if (status == UV_ECANCELED && job->result.status == DB_OK) {
        job->result.status = DB_ERR_UNAVAILABLE;
        snprintf(job->result.error, sizeof job->result.error, "cancelled");
    }
    if (job->cb)
        job->cb(&job->result, job->ctx);
    job_free(job);
    if (--s->pending == 0 && s->closing)
        sqlite_free(d);
}

static db_param *copy_params(const db_param *params, int nparams)
{
    db_param *copy = calloc((size_t)(nparams ? nparams : 1), sizeof *copy);
    if (!copy)
        return NULL;
    for (int i = 0; i < nparams; i++) {
        copy[i] = params[i];
        copy[i].text = params[i].type == DB_PARAM_TEXT ? strdup(params[i].text ? params[i].text : "") : NULL;
    }
    return copy;
}

static int sqlite_query(db *d, const char *sql, const db_param *params, int nparams, db_callback cb, void *ctx)
{
    sqlite_db *s = d->impl;
    sqlite_job *job = calloc(1, sizeof *job);
    if (!job)
        return -1;
    job->work.data = job;
    job->owner = d;
    job->sql = strdup(sql);
    job->params = copy_params(params, nparams);
    job->nparams = nparams;
    job->cb = cb;
    job->ctx = ctx;
    if (!job->sql || !job->params) {
        job->result.status = DB_ERR_OTHER;
        snprintf(job->result.error, sizeof job->result.error, "out of memory");
        job->sql = job->sql ? job->sql : strdup("");
    }
    s->pending++;
    /* The pool runs job_run, which leaves the result alone when it already failed. */
    if (uv_queue_work(d->loop, &job->work, job->result.status == DB_OK ? job_run : NULL, job_done) != 0) {
        s->pending--;
        job_free(job);
        return -1;
    }
    return 0;
}

/* ---- blocking helpers for start-up ---------------------------------------------------- */

static int sqlite_exec_blocking(db *d, const char *sql, char *err, size_t err_size)
{
    sqlite_db *s = d->impl;
    char *msg = NULL;
    pthread_mutex_lock(&s->lock);
    int rc = sqlite3_exec(s->conn, sql, NULL, NULL, &msg);
    pthread_mutex_unlock(&s->lock);
    if (rc != SQLITE_OK)
        snprintf(err, err_size, "%s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc == SQLITE_OK ? 0 : -1;
}

static int sqlite_query_int_blocking(db *d, const char *sql, int64_t *out, char *err, size_t err_size)
{
    sqlite_db *s = d->impl;
    db_result res = { 0 };
    pthread_mutex_lock(&s->lock);
    run_statement(s->conn, sql, NULL, 0, &res);
    pthread_mutex_unlock(&s->lock);
    *out = res.status == DB_OK && res.nrows > 0 && res.values[0] ? strtoll(res.values[0], NULL, 10) : 0;
    if (res.status != DB_OK)
        snprintf(err, err_size, "%s", res.error);
    result_free(&res);
    return res.status == DB_OK ? 0 : -1;
}

static bool sqlite_is_ready(db *d)
{
    (void)d;
    return true;
}

static void sqlite_close(db *d)
{
    sqlite_db *s = d->impl;
    s->closing = true;
    if (s->pending == 0)
        sqlite_free(d);
}

static const db_backend SQLITE_BACKEND = {
    .name = "sqlite",
    .query = sqlite_query,
    .exec_blocking = sqlite_exec_blocking,
    .query_int_blocking = sqlite_query_int_blocking,
    .is_ready = sqlite_is_ready,
    .close = sqlite_close,
};

/* WAL lets readers run while a write commits; foreign keys are off unless asked for. */
static const char PRAGMAS[] = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                              "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

db *db_sqlite_open(uv_loop_t *loop, const char *path, char *err, size_t err_size)
{
    db *d = calloc(1, sizeof *d);
    sqlite_db *s = calloc(1, sizeof *s);
    if (!d || !s) {
        free(d);
        free(s);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &s->conn, flags, NULL) != SQLITE_OK ||
        sqlite3_exec(s->conn, PRAGMAS, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, err_size, "DATABASE_URL: cannot open SQLite database %s: %s", path,
                 s->conn ? sqlite3_errmsg(s->conn) : "out of memory");
        sqlite3_close(s->conn);
        free(s);
        free(d);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    d->backend = &SQLITE_BACKEND;
    d->loop = loop;
    d->impl = s;
    return d;
}
