/* PostgreSQL back end: a pool of non-blocking libpq connections driven by the libuv loop.
 *
 * Queries wait in one FIFO queue; an idle ready connection takes the next one. Each
 * connection runs one query at a time. A lost connection fails its in-flight query with
 * DB_ERR_UNAVAILABLE and reconnects with exponential backoff. One extra blocking
 * connection, opened by db_postgres_open to check the server, serves the start-up
 * helpers (exec_blocking, query_int_blocking). */
#include "store/db.h"
#include "log.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_DEFAULT_POOL_SIZE 4
#define PG_BACKOFF_MIN_MS 100
#define PG_BACKOFF_MAX_MS 5000
#define PG_STALE_QUEUE_MS 10000
#define PG_MAX_PARAMS 65535

typedef struct pg_query {
    struct pg_query *next;
    db_callback cb;
    void *ctx;
    const char *sql;
    int nparams;
    const char *params[]; /* followed by the sql and parameter text */
} pg_query;

typedef enum { CONN_DOWN, CONN_CONNECTING, CONN_READY } conn_state;

typedef struct pg_pool pg_pool;

typedef struct pg_conn {
    pg_pool *pool;
    PGconn *pg;
    uv_poll_t *poll; /* heap-allocated: replaced while connecting, freed on close */
    uv_timer_t retry;
    uint64_t backoff_ms;
    int failures; /* connection attempts failed since last ready */
    conn_state state;
    bool flushing;
    pg_query *inflight;
    PGresult *result;
} pg_conn;

struct pg_pool {
    db base;
    char *conninfo;
    PGconn *blocking;
    pg_conn *conns;
    int nconns;
    int ready_count;
    uint64_t unavailable_since; /* loop time when ready_count last became 0 */
    pg_query *queue_head;
    pg_query *queue_tail;
    uv_idle_t kick;     /* runs dispatch on the next loop turn, outside db_query */
    uv_timer_t watchdog; /* fails the queue once no connection was ready for a while */
    int open_handles;
    bool closing;
};

static void conn_start(pg_conn *c);
static void conn_take_next(pg_conn *c);
static void on_conn_io(uv_poll_t *h, int status, int events);
static void check_stale_queue(pg_pool *p);

/* ---------------------------------------------------------------- utilities */

static void copy_first_line(char *dst, size_t size, const char *msg)
{
    if (!size)
        return;
    if (!msg || !*msg)
        msg = "unknown error";
    size_t n = strcspn(msg, "\r\n");
    if (n >= size)
        n = size - 1;
    memcpy(dst, msg, n);
    dst[n] = '\0';
}

static void set_err(char *err, size_t err_size, const char *msg)
{
    if (err && err_size)
        snprintf(err, err_size, "%s", msg);
}

static void on_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("postgres: %.*s", (int)strcspn(message, "\r\n"), message);
}

/* ---------------------------------------------------------------- queries */

static size_t param_text_size(const db_param *p)
{
    if (p->type == DB_PARAM_INT)
        return 24;
    if (p->type == DB_PARAM_TEXT && p->text)
        return strlen(p->text) + 1;
    return 0;
}

static char *store_param(char *dst, const db_param *p, const char **slot)
{
    *slot = NULL;
    if (p->type == DB_PARAM_INT) {
        *slot = dst;
        return dst + snprintf(dst, 24, "%" PRId64, p->integer) + 1;
    }
    if (p->type == DB_PARAM_TEXT && p->text) {
        size_t n = strlen(p->text) + 1;
        memcpy(dst, p->text, n);
        *slot = dst;
        return dst + n;
    }
    return dst;
}

/* One allocation holds the query, its parameter pointers, the sql and the parameter text,
 * so the caller's buffers may go away as soon as db_query returns. */
static pg_query *query_new(const char *sql, const db_param *params, int nparams,
                           db_callback cb, void *ctx)
{
    size_t sql_len = strlen(sql) + 1;
    size_t size = sizeof(pg_query) + (size_t)nparams * sizeof(char *) + sql_len;
    for (int i = 0; i < nparams; i++)
        size += param_text_size(&params[i]);
    pg_query *q = malloc(size);
    if (!q)
        return NULL;
    q->next = NULL;
    q->cb = cb;
    q->ctx = ctx;
    q->nparams = nparams;
    char *text = (char *)&q->params[nparams];
    memcpy(text, sql, sql_len);
    q->sql = text;
    text += sql_len;
    for (int i = 0; i < nparams; i++)
        text = store_param(text, &params[i], &q->params[i]);
    return q;
}

static void queue_push(pg_pool *p, pg_query *q)
{
    if (p->queue_tail)
        p->queue_tail->next = q;
    else
        p->queue_head = q;
    p->queue_tail = q;
}

static pg_query *queue_pop(pg_pool *p)
{
    pg_query *q = p->queue_head;
    if (!q)
        return NULL;
    p->queue_head = q->next;
    if (!p->queue_head)
        p->queue_tail = NULL;
    q->next = NULL;
    return q;
}

static pg_query *queue_take_all(pg_pool *p)
{
    pg_query *all = p->queue_head;
    p->queue_head = p->queue_tail = NULL;
    return all;
}

static void deliver(pg_query *q, db_result *res)
{
    q->cb(res, q->ctx);
    free(res->values);
    free(q);
}

static void deliver_error(pg_query *q, db_status status, const char *msg)
{
    db_result res;
    memset(&res, 0, sizeof res);
    res.status = status;
    copy_first_line(res.error, sizeof res.error, msg);
    deliver(q, &res);
}

/* Runs every callback of a detached list, even if one of them closes the db: the
 * queries no longer belong to the pool. */
static void fail_list(pg_query *list, db_status status, const char *msg)
{
    while (list) {
        pg_query *next = list->next;
        deliver_error(list, status, msg);
        list = next;
    }
}

/* ---------------------------------------------------------------- results */

static bool sqlstate_is_unavailable(const char *state)
{
    if (!state)
        return false;
    /* Class 08 is connection exception; 57P01..57P03 are shutdowns and start-up. */
    return strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0;
}

static db_status error_status(const PGresult *r, const PGconn *pg)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (PQstatus(pg) == CONNECTION_BAD || sqlstate_is_unavailable(state))
        return DB_ERR_UNAVAILABLE;
    if (state && strncmp(state, "23", 2) == 0)
        return DB_ERR_CONSTRAINT;
    return DB_ERR_OTHER;
}

/* Copies all cells into one block: the pointer array followed by the strings. */
static int copy_cells(db_result *res, const PGresult *r)
{
    int cells = res->nrows * res->ncols;
    if (cells == 0)
        return 0;
    size_t size = (size_t)cells * sizeof(char *);
    for (int row = 0; row < res->nrows; row++)
        for (int col = 0; col < res->ncols; col++)
            if (!PQgetisnull(r, row, col))
                size += (size_t)PQgetlength(r, row, col) + 1;
    res->values = malloc(size);
    if (!res->values)
        return -1;
    char *text = (char *)&res->values[cells];
    for (int row = 0; row < res->nrows; row++) {
        for (int col = 0; col < res->ncols; col++) {
            char **cell = &res->values[row * res->ncols + col];
            if (PQgetisnull(r, row, col)) {
                *cell = NULL;
                continue;
            }
            size_t n = (size_t)PQgetlength(r, row, col);
            memcpy(text, PQgetvalue(r, row, col), n);
            text[n] = '\0';
            *cell = text;
            text += n + 1;
        }
    }
    return 0;
}

static void result_from_pg(db_result *res, const PGresult *r, const PGconn *pg)
{
    memset(res, 0, sizeof *res);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        res->status = r ? error_status(r, pg) : DB_ERR_UNAVAILABLE;
        copy_first_line(res->error, sizeof res->error,
                        r ? PQresultErrorMessage(r) : PQerrorMessage(pg));
        return;
    }
    res->status = DB_OK;
    res->nrows = PQntuples(r);
    res->ncols = PQnfields(r);
    res->affected = strtol(PQcmdTuples((PGresult *)r), NULL, 10);
    if (copy_cells(res, r) != 0) {
        memset(res, 0, sizeof *res);
        res->status = DB_ERR_OTHER;
        copy_first_line(res->error, sizeof res->error, "out of memory");
    }
}

/* ---------------------------------------------------------------- handles */

static void pool_free(pg_pool *p)
{
    free(p->conns);
    free(p->conninfo);
    free(p);
}

static void handle_released(pg_pool *p)
{
    if (--p->open_handles == 0 && p->closing)
        pool_free(p);
}

static void on_handle_closed(uv_handle_t *h)
{
    handle_released(h->data);
}

static void on_handle_closed_free(uv_handle_t *h)
{
    pg_pool *p = h->data;
    free(h);
    handle_released(p);
}

static void close_handle(pg_pool *p, uv_handle_t *h, bool heap)
{
    h->data = p;
    uv_close(h, heap ? on_handle_closed_free : on_handle_closed);
}

/* ---------------------------------------------------------------- connections */

static void conn_set_ready(pg_conn *c, bool ready)
{
    pg_pool *p = c->pool;
    if ((c->state == CONN_READY) == ready)
        return;
    p->ready_count += ready ? 1 : -1;
    if (p->ready_count == 0)
        p->unavailable_since = uv_now(p->base.loop);
}

/* Closes the poll before PQfinish so libuv never watches a descriptor libpq has closed. */
static void conn_teardown(pg_conn *c)
{
    if (c->poll) {
        close_handle(c->pool, (uv_handle_t *)c->poll, true);
        c->poll = NULL;
    }
    PQclear(c->result);
    c->result = NULL;
    PQfinish(c->pg);
    c->pg = NULL;
    conn_set_ready(c, false);
    c->state = CONN_DOWN;
    c->flushing = false;
}

static void on_retry(uv_timer_t *t)
{
    conn_start(t->data);
}

static void conn_retry_later(pg_conn *c)
{
    c->failures++;
    uv_timer_start(&c->retry, on_retry, c->backoff_ms, 0);
    c->backoff_ms *= 2;
    if (c->backoff_ms > PG_BACKOFF_MAX_MS)
        c->backoff_ms = PG_BACKOFF_MAX_MS;
}

static void conn_connect_failed(pg_conn *c)
{
    if (c->failures == 0) {
        char why[256];
        copy_first_line(why, sizeof why, c->pg ? PQerrorMessage(c->pg) : "out of memory");
        log_warn("postgres: cannot connect: %s", why);
    }
    conn_teardown(c);
    conn_retry_later(c);
}

/* Drops the connection and schedules a reconnect; the in-flight query, if any, fails
 * with status. Callers must not touch c afterwards: a callback may close the db. */
static void conn_abort(pg_conn *c, db_status status, const char *msg)
{
    char why[256];
    copy_first_line(why, sizeof why, msg);
    pg_query *q = c->inflight;
    c->inflight = NULL;
    if (c->state == CONN_READY)
        log_warn("postgres: connection lost: %s", why);
    conn_teardown(c);
    conn_retry_later(c);
    check_stale_queue(c->pool);
    if (q)
        deliver_error(q, status, why);
}

static void conn_lost(pg_conn *c)
{
    conn_abort(c, DB_ERR_UNAVAILABLE, PQerrorMessage(c->pg));
}

static int conn_watch(pg_conn *c, int events)
{
    return uv_poll_start(c->poll, events, on_conn_io);
}

/* libpq may close and reopen its socket between connect steps (next address, SSL
 * retry), possibly under the same descriptor number, so every step gets a fresh poll. */
static int conn_watch_new_socket(pg_conn *c, int events)
{
    if (c->poll) {
        close_handle(c->pool, (uv_handle_t *)c->poll, true);
        c->poll = NULL;
    }
    int fd = PQsocket(c->pg);
    if (fd < 0)
        return -1;
    uv_poll_t *h = malloc(sizeof *h);
    if (!h)
        return -1;
    if (uv_poll_init(c->pool->base.loop, h, fd) != 0) {
        free(h);
        return -1;
    }
    c->pool->open_handles++;
    h->data = c;
    c->poll = h;
    return conn_watch(c, events);
}

static void conn_start(pg_conn *c)
{
    c->pg = PQconnectStart(c->pool->conninfo);
    if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) {
        conn_connect_failed(c);
        return;
    }
    PQsetNoticeProcessor(c->pg, on_notice, NULL);
    c->state = CONN_CONNECTING;
    if (conn_watch_new_socket(c, UV_WRITABLE) != 0)
        conn_connect_failed(c);
}

static void conn_became_ready(pg_conn *c)
{
    if (PQsetnonblocking(c->pg, 1) != 0 || conn_watch(c, UV_READABLE) != 0) {
        conn_connect_failed(c);
        return;
    }
    if (c->failures > 0)
        log_info("postgres: connection re-established");
    conn_set_ready(c, true);
    c->state = CONN_READY;
    c->failures = 0;
    c->backoff_ms = PG_BACKOFF_MIN_MS;
    check_stale_queue(c->pool);
    conn_take_next(c);
}

static void conn_continue_connect(pg_conn *c)
{
    switch (PQconnectPoll(c->pg)) {
    case PGRES_POLLING_OK:
        conn_became_ready(c);
        return;
    case PGRES_POLLING_READING:
        if (conn_watch_new_socket(c, UV_READABLE) != 0)
            conn_connect_failed(c);
        return;
    case PGRES_POLLING_WRITING:
        if (conn_watch_new_socket(c, UV_WRITABLE) != 0)
            conn_connect_failed(c);
        return;
    default:
        conn_connect_failed(c);
        return;
    }
}

/* 0 when everything is sent or the rest will go out when writable; -1 after conn_lost. */
static int conn_flush(pg_conn *c)
{
    int r = PQflush(c->pg);
    if (r < 0) {
        conn_lost(c);
        return -1;
    }
    c->flushing = r == 1;
    conn_watch(c, c->flushing ? UV_READABLE | UV_WRITABLE : UV_READABLE);
    return 0;
}

static void conn_send(pg_conn *c, pg_query *q)
{
    c->inflight = q;
    if (!PQsendQueryParams(c->pg, q->sql, q->nparams, NULL, q->params, NULL, NULL, 0)) {
        conn_lost(c);
        return;
    }
    conn_flush(c);
}

static void conn_take_next(pg_conn *c)
{
    pg_pool *p = c->pool;
    if (p->closing || c->state != CONN_READY || c->inflight)
        return;
    pg_query *q = queue_pop(p);
    if (q)
        conn_send(c, q);
}

/* With one statement per query there is one result; keep the first error if any. */
static void conn_keep_result(pg_conn *c, PGresult *r)
{
    if (c->result && PQresultStatus(c->result) == PGRES_FATAL_ERROR) {
        PQclear(r);
        return;
    }
    PQclear(c->result);
    c->result = r;
}

static bool is_copy(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH;
}

static void conn_finish_query(pg_conn *c)
{
    pg_pool *p = c->pool;
    pg_query *q = c->inflight;
    db_result res;
    result_from_pg(&res, c->result, c->pg);
    PQclear(c->result);
    c->result = NULL;
    c->inflight = NULL;
    bool bad = res.status == DB_ERR_UNAVAILABLE;
    if (bad)
        conn_lost(c);
    deliver(q, &res);
    if (!bad && !p->closing)
        conn_take_next(c);
}

static void conn_collect_results(pg_conn *c)
{
    while (!PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) {
            conn_finish_query(c);
            return;
        }
        if (is_copy(r)) {
            PQclear(r);
            conn_abort(c, DB_ERR_OTHER, "COPY is not supported");
            return;
        }
        conn_keep_result(c, r);
    }
}

/* An idle connection turns readable for notifications or when the server goes away. */
static void conn_check_idle(pg_conn *c)
{
    PGnotify *n;
    while ((n = PQnotifies(c->pg)) != NULL)
        PQfreemem(n);
    if (PQstatus(c->pg) == CONNECTION_BAD)
        conn_lost(c);
}

static void conn_on_ready_io(pg_conn *c, int events)
{
    if ((events & UV_READABLE) && !PQconsumeInput(c->pg)) {
        conn_lost(c);
        return;
    }
    if (c->flushing && conn_flush(c) != 0)
        return;
    if (c->inflight)
        conn_collect_results(c);
    else
        conn_check_idle(c);
}

static void on_conn_io(uv_poll_t *h, int status, int events)
{
    pg_conn *c = h->data;
    if (status < 0 && c->state == CONN_READY) {
        bool described = !PQconsumeInput(c->pg);
        conn_abort(c, DB_ERR_UNAVAILABLE, described ? PQerrorMessage(c->pg) : uv_strerror(status));
        return;
    }
    /* libuv reports a socket error (POLLERR) as a bad status, as when a connect is
     * refused; PQconnectPoll reads the error itself and moves on to the next address. */
    if (c->state == CONN_CONNECTING)
        conn_continue_connect(c);
    else if (c->state == CONN_READY)
        conn_on_ready_io(c, events);
}

/* ---------------------------------------------------------------- pool */

static void on_watchdog(uv_timer_t *t)
{
    check_stale_queue(t->data);
}

/* Queued queries wait for a connection, but not forever. Only called from loop
 * callbacks, since it may run query callbacks. */
static void check_stale_queue(pg_pool *p)
{
    if (p->closing)
        return;
    if (p->ready_count > 0 || !p->queue_head) {
        uv_timer_stop(&p->watchdog);
        return;
    }
    uint64_t waited = uv_now(p->base.loop) - p->unavailable_since;
    if (waited < PG_STALE_QUEUE_MS) {
        uv_timer_start(&p->watchdog, on_watchdog, PG_STALE_QUEUE_MS - waited, 0);
        return;
    }
    uv_timer_stop(&p->watchdog);
    fail_list(queue_take_all(p), DB_ERR_UNAVAILABLE, "no database connection available");
}

static void on_kick(uv_idle_t *h)
{
    pg_pool *p = h->data;
    uv_idle_stop(h);
    for (int i = 0; i < p->nconns && p->queue_head && !p->closing; i++)
        conn_take_next(&p->conns[i]);
    check_stale_queue(p);
}

static int pg_query_async(db *self, const char *sql, const db_param *params, int nparams,
                          db_callback cb, void *ctx)
{
    pg_pool *p = self->impl;
    if (p->closing || !sql || !cb || nparams < 0 || nparams > PG_MAX_PARAMS ||
        (nparams > 0 && !params))
        return -1;
    pg_query *q = query_new(sql, params, nparams, cb, ctx);
    if (!q)
        return -1;
    queue_push(p, q);
    uv_idle_start(&p->kick, on_kick);
    return 0;
}

static bool pg_is_ready(db *self)
{
    pg_pool *p = self->impl;
    return !p->closing && p->ready_count > 0;
}

/* Fails every query the pool still holds, oldest first: in-flight, then queued. */
static pg_query *take_pending(pg_pool *p)
{
    pg_query *head = NULL, **tail = &head;
    for (int i = 0; i < p->nconns; i++) {
        pg_conn *c = &p->conns[i];
        if (c->inflight) {
            *tail = c->inflight;
            tail = &c->inflight->next;
            c->inflight = NULL;
        }
    }
    *tail = queue_take_all(p);
    return head;
}

static void pg_close(db *self)
{
    pg_pool *p = self->impl;
    if (p->closing)
        return;
    pg_query *pending = take_pending(p);
    p->closing = true;
    for (int i = 0; i < p->nconns; i++) {
        conn_teardown(&p->conns[i]);
        close_handle(p, (uv_handle_t *)&p->conns[i].retry, false);
    }
    close_handle(p, (uv_handle_t *)&p->kick, false);
    close_handle(p, (uv_handle_t *)&p->watchdog, false);
    PQfinish(p->blocking);
    p->blocking = NULL;
    fail_list(pending, DB_ERR_UNAVAILABLE, "database is closing");
}

/* ---------------------------------------------------------------- blocking helpers */

static PGresult *blocking_exec(pg_pool *p, const char *sql, char *err, size_t err_size)
{
    if (!p->blocking || p->closing) {
        set_err(err, err_size, "database is closing");
        return NULL;
    }
    if (PQstatus(p->blocking) != CONNECTION_OK)
        PQreset(p->blocking);
    PGresult *r = PQexec(p->blocking, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY)
        return r;
    if (err && err_size)
        copy_first_line(err, err_size, r ? PQresultErrorMessage(r) : PQerrorMessage(p->blocking));
    PQclear(r);
    return NULL;
}

static int pg_exec_blocking(db *self, const char *sql, char *err, size_t err_size)
{
    PGresult *r = blocking_exec(self->impl, sql, err, err_size);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

static int pg_query_int_blocking(db *self, const char *sql, int64_t *out, char *err,
                                 size_t err_size)
{
    PGresult *r = blocking_exec(self->impl, sql, err, err_size);
    if (!r)
        return -1;
    *out = 0;
    if (PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0))
        *out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

static const db_backend postgres_backend = {
    .name = "postgres",
    .query = pg_query_async,
    .exec_blocking = pg_exec_blocking,
    .query_int_blocking = pg_query_int_blocking,
    .is_ready = pg_is_ready,
    .close = pg_close,
    /* Several `zencast serve` starting at once must not apply a migration twice. */
    .migration_lock_sql = "SELECT pg_advisory_lock(7367287)",
    .migration_unlock_sql = "SELECT pg_advisory_unlock(7367287)",
};

/* ---------------------------------------------------------------- open */

/* Replaces every occurrence of the password in msg, in case libpq ever echoes it. */
static void scrub_password(char *msg, const char *password)
{
    size_t n = password ? strlen(password) : 0;
    if (n == 0)
        return;
    char *hit;
    while ((hit = strstr(msg, password)) != NULL)
        memset(hit, '*', n);
}

/* libpq reports one line per host tried, with tab-indented hints; make it one line. */
static void flatten_lines(char *msg)
{
    char *out = msg;
    for (const char *s = msg; *s; s++) {
        bool space = *s == '\n' || *s == '\r' || *s == '\t' || *s == ' ';
        if (!space)
            *out++ = *s;
        else if (out > msg && out[-1] != ' ')
            *out++ = ' ';
    }
    while (out > msg && out[-1] == ' ')
        out--;
    *out = '\0';
}

/* Connects once, blocking, to report a bad URL or an unreachable server at start-up. */
static PGconn *connect_blocking(const char *conninfo, char *err, size_t err_size)
{
    char *parse_err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &parse_err);
    if (!opts) {
        /* libpq's parse message may quote the malformed part, password included. */
        PQfreemem(parse_err);
        set_err(err, err_size, "DATABASE_URL: invalid PostgreSQL connection string");
        return NULL;
    }
    const char *password = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0)
            password = o->val;
    PGconn *pg = PQconnectdb(conninfo);
    if (pg && PQstatus(pg) == CONNECTION_OK) {
        PQconninfoFree(opts);
        return pg;
    }
    char msg[512];
    snprintf(msg, sizeof msg, "%s", pg ? PQerrorMessage(pg) : "out of memory");
    flatten_lines(msg);
    scrub_password(msg, password);
    if (err && err_size)
        snprintf(err, err_size, "postgres: cannot connect: %s", msg);
    PQconninfoFree(opts);
    PQfinish(pg);
    return NULL;
}

static void pool_init_handles(pg_pool *p, uv_loop_t *loop)
{
    uv_idle_init(loop, &p->kick);
    p->kick.data = p;
    uv_timer_init(loop, &p->watchdog);
    p->watchdog.data = p;
    p->open_handles = 2;
    for (int i = 0; i < p->nconns; i++) {
        pg_conn *c = &p->conns[i];
        c->pool = p;
        c->backoff_ms = PG_BACKOFF_MIN_MS;
        uv_timer_init(loop, &c->retry);
        c->retry.data = c;
        p->open_handles++;
    }
}

db *db_postgres_open(uv_loop_t *loop, const char *conninfo, int pool_size,
                     char *err, size_t err_size)
{
    if (pool_size <= 0)
        pool_size = PG_DEFAULT_POOL_SIZE;
    PGconn *blocking = connect_blocking(conninfo, err, err_size);
    if (!blocking)
        return NULL;
    PQsetNoticeProcessor(blocking, on_notice, NULL);
    pg_pool *p = calloc(1, sizeof *p);
    if (p) {
        p->conninfo = strdup(conninfo);
        p->conns = calloc((size_t)pool_size, sizeof *p->conns);
    }
    if (!p || !p->conninfo || !p->conns) {
        if (p)
            pool_free(p);
        PQfinish(blocking);
        set_err(err, err_size, "postgres: out of memory");
        return NULL;
    }
    p->base = (db){ .backend = &postgres_backend, .loop = loop, .impl = p };
    p->blocking = blocking;
    p->nconns = pool_size;
    uv_update_time(loop);
    p->unavailable_since = uv_now(loop);
    pool_init_handles(p, loop);
    for (int i = 0; i < p->nconns; i++)
        conn_start(&p->conns[i]);
    return &p->base;
}
