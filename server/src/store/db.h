/* The database interface: one header, two implementations (SQLite, PostgreSQL).
 *
 * Queries are asynchronous: db_query() returns at once and the callback runs later
 * on the loop thread with the result. SQL uses PostgreSQL's $1..$n placeholders and a
 * dialect both back ends accept (TEXT, BIGINT, INTEGER; times as epoch milliseconds;
 * RETURNING). The result is freed by the back end after the callback returns.
 * The callback is always called exactly once, also on failure, and never from inside
 * db_query itself. */
#ifndef ZC_DB_H
#define ZC_DB_H

#include <stdint.h>
#include <stdbool.h>
#include <uv.h>

typedef enum { DB_PARAM_NULL = 0, DB_PARAM_TEXT, DB_PARAM_INT } db_param_type;

typedef struct {
    db_param_type type;
    const char *text;
    int64_t integer;
} db_param;

#define DB_TEXT(s) ((db_param){ .type = DB_PARAM_TEXT, .text = (s) })
#define DB_INT(i) ((db_param){ .type = DB_PARAM_INT, .integer = (i) })
#define DB_NULL ((db_param){ .type = DB_PARAM_NULL })

typedef enum {
    DB_OK = 0,
    DB_ERR_CONSTRAINT, /* unique / foreign key / check violation (PG class 23, SQLITE_CONSTRAINT) */
    DB_ERR_UNAVAILABLE, /* connection lost or not ready */
    DB_ERR_OTHER
} db_status;

typedef struct {
    db_status status;
    char error[256];   /* message when status != DB_OK; never contains parameters */
    int nrows;
    int ncols;
    char **values;     /* nrows * ncols cells, row-major; NULL for SQL NULL */
    long affected;     /* rows changed by INSERT/UPDATE/DELETE */
} db_result;

typedef void (*db_callback)(db_result *res, void *ctx);

typedef struct db db;

/* A back end: a struct of function pointers, chosen from DATABASE_URL. */
typedef struct db_backend {
    const char *name; /* "sqlite" or "postgres" */
    int (*query)(db *self, const char *sql, const db_param *params, int nparams,
                 db_callback cb, void *ctx);
    /* Runs sql (may hold several statements) to completion, blocking. Only for
     * start-up and `zencast migrate`, never while serving. 0 or -1 with err filled. */
    int (*exec_blocking)(db *self, const char *sql, char *err, size_t err_size);
    /* Runs a one-row, one-column query blocking; used by migrations. Returns the value as
     * int64 in *out (0 when no row). 0 or -1. */
    int (*query_int_blocking)(db *self, const char *sql, int64_t *out, char *err, size_t err_size);
    bool (*is_ready)(db *self);
    /* Statements that make migrations exclusive between processes sharing the database
     * (PostgreSQL's advisory lock); NULL when one process owns the database file. */
    const char *migration_lock_sql;
    const char *migration_unlock_sql;
    /* Finishes queued queries' callbacks with DB_ERR_UNAVAILABLE, closes handles, frees. */
    void (*close)(db *self);
} db_backend;

struct db {
    const db_backend *backend;
    uv_loop_t *loop;
    void *impl;
};

/* Opens the back end DATABASE_URL names: NULL/"" -> SQLite at sqlite_path; postgres:// or
 * postgresql:// -> PostgreSQL. Returns NULL with err filled on failure. */
db *db_open(uv_loop_t *loop, const char *database_url, const char *sqlite_path,
            char *err, size_t err_size);

db *db_sqlite_open(uv_loop_t *loop, const char *path, char *err, size_t err_size);
db *db_postgres_open(uv_loop_t *loop, const char *conninfo, int pool_size,
                     char *err, size_t err_size);

int db_query(db *d, const char *sql, const db_param *params, int nparams,
             db_callback cb, void *ctx);
void db_close(db *d);

/* Cell accessors; row/col out of range give NULL / fallback. */
const char *db_value(const db_result *r, int row, int col);
int64_t db_value_int(const db_result *r, int row, int col, int64_t fallback);

/* Applies every embedded migration newer than the schema's version, each in a
 * transaction. Blocking (start-up only). 0 or -1 with err filled. */
int db_migrate(db *d, char *err, size_t err_size);

#endif
