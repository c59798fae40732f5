/* PostgreSQL back end against a real server: set TEST_DATABASE_URL, e.g.
 * postgresql://postgres@127.0.0.1:5432/zencast_test. Without it the server tests skip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CELLS 8

typedef struct {
    int calls;
    db_status status;
    char error[256];
    int nrows;
    int ncols;
    long affected;
    char *cells[MAX_CELLS]; /* row 0; NULL for SQL NULL */
} capture;

static uv_loop_t loop;
static db *d;
static char run_id[64];
static int completed; /* callbacks run so far, across all captures */

static void capture_reset(capture *c)
{
    for (int i = 0; i < MAX_CELLS; i++)
        free(c->cells[i]);
    memset(c, 0, sizeof *c);
}

static void on_capture(db_result *r, void *ctx)
{
    capture *c = ctx;
    completed++;
    c->calls++;
    c->status = r->status;
    snprintf(c->error, sizeof c->error, "%s", r->error);
    c->nrows = r->nrows;
    c->ncols = r->ncols;
    c->affected = r->affected;
    for (int col = 0; r->nrows > 0 && col < r->ncols && col < MAX_CELLS; col++) {
        const char *v = db_value(r, 0, col);
        c->cells[col] = v ? strdup(v) : NULL;
    }
}

static void on_tick(uv_timer_t *t) { (void)t; }

static void on_tick_closed(uv_handle_t *h) { free(h); }

/* Runs the loop until *counter reaches target or timeout_ms passes; the ticking timer
 * makes each UV_RUN_ONCE return even when nothing else happens. */
static void run_until(int *counter, int target, uint64_t timeout_ms)
{
    uv_timer_t *tick = malloc(sizeof *tick);
    assert_non_null(tick);
    uv_timer_init(&loop, tick);
    uv_timer_start(tick, on_tick, 20, 20);
    uv_update_time(&loop);
    uint64_t deadline = uv_now(&loop) + timeout_ms;
    while ((!counter || *counter < target) && uv_now(&loop) < deadline)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)tick, on_tick_closed);
}

static void run_for(uint64_t ms)
{
    run_until(NULL, 0, ms);
}

static void query_wait(const char *sql, const db_param *params, int nparams, capture *c)
{
    capture_reset(c);
    assert_int_equal(db_query(d, sql, params, nparams, on_capture, c), 0);
    run_until(&c->calls, 1, 10000);
    assert_int_equal(c->calls, 1);
}

static const char *url_or_skip(void)
{
    const char *url = getenv("TEST_DATABASE_URL");
    if (!url || !*url)
        skip();
    return url;
}

static void open_db(const char *url)
{
    char err[256] = "";
    assert_int_equal(uv_loop_init(&loop), 0);
    d = db_postgres_open(&loop, url, 4, err, sizeof err);
    if (!d)
        fail_msg("db_postgres_open: %s", err);
    assert_string_equal(d->backend->name, "postgres");
    if (db_migrate(d, err, sizeof err) != 0)
        fail_msg("db_migrate: %s", err);
}

static void close_db(void)
{
    db_close(d);
    d = NULL;
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_false(uv_loop_alive(&loop));
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void insert_user(const char *id, const char *email, const char *name, capture *c)
{
    db_param p[] = { DB_TEXT(id), DB_TEXT(email), DB_TEXT("hash"), DB_TEXT(name),
                     DB_INT(1700000000123) };
    query_wait("INSERT INTO users (id, email, password_hash, name, created_at) "
               "VALUES ($1, $2, $3, $4, $5) RETURNING id",
               p, 5, c);
}

static void delete_test_users(void)
{
    capture c = { 0 };
    char pattern[80];
    snprintf(pattern, sizeof pattern, "%s%%", run_id);
    db_param p[] = { DB_TEXT(pattern) };
    query_wait("DELETE FROM users WHERE id LIKE $1", p, 1, &c);
    assert_int_equal(c.status, DB_OK);
    capture_reset(&c);
}

/* ---------------------------------------------------------------- no server needed */

static void test_unknown_url_scheme(void **state)
{
    (void)state;
    char err[256] = "";
    uv_loop_t l;
    uv_loop_init(&l);
    assert_null(db_open(&l, "mysql://root@localhost/zencast", "unused.db", err, sizeof err));
    assert_string_equal(err, "DATABASE_URL: must start with postgres:// or postgresql:// "
                             "(or be unset for SQLite)");
    assert_int_equal(uv_loop_close(&l), 0);
}

static void test_open_error_hides_password(void **state)
{
    (void)state;
    char err[256] = "";
    uv_loop_t l;
    uv_loop_init(&l);
    assert_null(db_postgres_open(&l, "postgresql://zc:hunter2secret@127.0.0.1:1/zc", 2,
                                 err, sizeof err));
    assert_true(err[0] != '\0');
    assert_null(strstr(err, "hunter2secret"));
    assert_null(db_postgres_open(&l, "postgresql://zc:hunter2secret@127.0.0.1:1/zc?%zz", 2,
                                 err, sizeof err));
    assert_null(strstr(err, "hunter2secret"));
    assert_int_equal(uv_loop_close(&l), 0);
}

static void test_value_accessors(void **state)
{
    (void)state;
    char *values[] = { "42", NULL, "x", "9223372036854775808" };
    db_result r = { .status = DB_OK, .nrows = 2, .ncols = 2, .values = values };
    assert_string_equal(db_value(&r, 0, 0), "42");
    assert_null(db_value(&r, 0, 1));
    assert_null(db_value(&r, 2, 0));
    assert_null(db_value(&r, 0, -1));
    assert_int_equal(db_value_int(&r, 0, 0, -1), 42);
    assert_int_equal(db_value_int(&r, 0, 1, -1), -1);
    assert_int_equal(db_value_int(&r, 1, 0, -1), -1);
    assert_int_equal(db_value_int(&r, 1, 1, -1), -1);
    assert_int_equal(db_value_int(&r, 5, 5, 7), 7);
}

/* ---------------------------------------------------------------- with a server */

static void test_migrate_is_idempotent(void **state)
{
    (void)state;
    open_db(url_or_skip());
    char err[256] = "";
    assert_int_equal(db_migrate(d, err, sizeof err), 0);
    int64_t version = -1;
    assert_int_equal(d->backend->query_int_blocking(
                         d, "SELECT MAX(version) FROM schema_migrations", &version, err,
                         sizeof err),
                     0);
    assert_true(version >= 1);
    assert_int_equal(d->backend->exec_blocking(d, "SELECT 1; SELECT 2", err, sizeof err), 0);
    assert_int_equal(d->backend->exec_blocking(d, "SELEKT 1", err, sizeof err), -1);
    assert_non_null(strstr(err, "syntax error"));
    close_db();
}

static void test_insert_select_roundtrip(void **state)
{
    (void)state;
    open_db(url_or_skip());
    capture c = { 0 };
    char id[96], email[128];
    const char *evil = "O'Brien'; DROP TABLE users; --";
    snprintf(id, sizeof id, "%s-u1", run_id);
    snprintf(email, sizeof email, "%s'@example.com", run_id);

    insert_user(id, email, evil, &c);
    assert_int_equal(c.status, DB_OK);
    assert_int_equal(c.affected, 1);
    assert_int_equal(c.nrows, 1);
    assert_string_equal(c.cells[0], id);

    db_param sel[] = { DB_TEXT(id), DB_NULL };
    query_wait("SELECT name, email, created_at, $2::text FROM users WHERE id = $1", sel, 2, &c);
    assert_int_equal(c.status, DB_OK);
    assert_int_equal(c.nrows, 1);
    assert_int_equal(c.ncols, 4);
    assert_string_equal(c.cells[0], evil);
    assert_string_equal(c.cells[1], email);
    assert_string_equal(c.cells[2], "1700000000123");
    assert_null(c.cells[3]);

    char token[96];
    snprintf(token, sizeof token, "%s-t1", run_id);
    db_param tok[] = { DB_TEXT(token), DB_TEXT(id), DB_TEXT("fam"), DB_INT(1), DB_INT(-2),
                       DB_NULL };
    query_wait("INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at, "
               "expires_at, used_at) VALUES ($1, $2, $3, $4, $5, $6)",
               tok, 6, &c);
    assert_int_equal(c.status, DB_OK);
    assert_int_equal(c.affected, 1);
    assert_int_equal(c.nrows, 0);
    db_param one[] = { DB_TEXT(token) };
    query_wait("SELECT used_at, expires_at FROM refresh_tokens WHERE token_hash = $1", one, 1,
               &c);
    assert_int_equal(c.nrows, 1);
    assert_null(c.cells[0]);
    assert_string_equal(c.cells[1], "-2");

    db_param upd[] = { DB_TEXT("Renamed"), DB_TEXT(id) };
    query_wait("UPDATE users SET name = $1 WHERE id = $2", upd, 2, &c);
    assert_int_equal(c.status, DB_OK);
    assert_int_equal(c.affected, 1);

    query_wait("SELECT count(*) FROM users", NULL, 0, &c);
    assert_int_equal(c.status, DB_OK);

    delete_test_users();
    capture_reset(&c);
    close_db();
}

static void test_constraint_and_syntax_errors(void **state)
{
    (void)state;
    open_db(url_or_skip());
    capture c = { 0 };
    char id1[96], id2[96], email[128];
    snprintf(id1, sizeof id1, "%s-a", run_id);
    snprintf(id2, sizeof id2, "%s-b", run_id);
    snprintf(email, sizeof email, "%s-dup@example.com", run_id);

    insert_user(id1, email, "A", &c);
    assert_int_equal(c.status, DB_OK);
    insert_user(id2, email, "B", &c);
    assert_int_equal(c.status, DB_ERR_CONSTRAINT);
    assert_non_null(strstr(c.error, "unique"));
    assert_null(strstr(c.error, email)); /* the DETAIL line names the value; not kept */

    db_param fk[] = { DB_TEXT("t"), DB_TEXT("no-such-user"), DB_TEXT("f"), DB_INT(1),
                      DB_INT(2) };
    query_wait("INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at, "
               "expires_at) VALUES ($1, $2, $3, $4, $5)",
               fk, 5, &c);
    assert_int_equal(c.status, DB_ERR_CONSTRAINT);

    query_wait("SELEKT 1", NULL, 0, &c);
    assert_int_equal(c.status, DB_ERR_OTHER);
    assert_non_null(strstr(c.error, "syntax error"));
    assert_null(strchr(c.error, '\n'));

    query_wait("SELECT 1", NULL, 0, &c);
    assert_int_equal(c.status, DB_OK);
    assert_string_equal(c.cells[0], "1");

    delete_test_users();
    capture_reset(&c);
    close_db();
}

static void test_concurrent_queries(void **state)
{
    (void)state;
    open_db(url_or_skip());
    enum { N = 20 };
    capture c[N];
    memset(c, 0, sizeof c);
    completed = 0;
    for (int i = 0; i < N; i++) {
        db_param p[] = { DB_INT(i) };
        assert_int_equal(db_query(d, "SELECT $1::bigint * 2, pg_sleep(0.02)", p, 1, on_capture,
                                  &c[i]),
                         0);
    }
    assert_int_equal(completed, 0); /* never called back inside db_query */
    run_until(&completed, N, 10000);
    assert_int_equal(completed, N);
    assert_true(d->backend->is_ready(d));
    for (int i = 0; i < N; i++) {
        assert_int_equal(c[i].calls, 1);
        assert_int_equal(c[i].status, DB_OK);
        char want[16];
        snprintf(want, sizeof want, "%d", i * 2);
        assert_string_equal(c[i].cells[0], want);
        capture_reset(&c[i]);
    }
    close_db();
}

static int late_query_rc;

static void on_closing_result(db_result *r, void *ctx)
{
    capture *c = ctx;
    on_capture(r, ctx);
    if (c->calls == 1)
        late_query_rc = db_query(d, "SELECT 1", NULL, 0, on_capture, c);
}

static void test_close_fails_pending(void **state)
{
    (void)state;
    open_db(url_or_skip());
    run_for(200); /* let some connections come up so a query is in flight */
    enum { N = 6 };
    capture c[N];
    memset(c, 0, sizeof c);
    for (int i = 0; i < N; i++)
        assert_int_equal(db_query(d, "SELECT pg_sleep(5)", NULL, 0, on_closing_result, &c[i]),
                         0);
    run_for(100);
    for (int i = 0; i < N; i++)
        assert_int_equal(c[i].calls, 0);
    late_query_rc = 0;
    db_close(d);
    for (int i = 0; i < N; i++) {
        assert_int_equal(c[i].calls, 1);
        assert_int_equal(c[i].status, DB_ERR_UNAVAILABLE);
        capture_reset(&c[i]);
    }
    assert_int_equal(late_query_rc, -1);
    d = NULL;
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_reconnects_after_terminate(void **state)
{
    (void)state;
    const char *base = url_or_skip();
    char app[64], url[1024];
    snprintf(app, sizeof app, "zc_test_%d", (int)getpid());
    if (strstr(base, "://"))
        snprintf(url, sizeof url, "%s%capplication_name=%s", base,
                 strchr(base, '?') ? '&' : '?', app);
    else
        snprintf(url, sizeof url, "%s application_name=%s", base, app);
    open_db(url);
    capture sleeper = { 0 }, killer = { 0 };
    assert_int_equal(db_query(d, "SELECT pg_sleep(10)", NULL, 0, on_capture, &sleeper), 0);
    run_for(300);
    db_param p[] = { DB_TEXT(app) };
    query_wait("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
               "WHERE application_name = $1 AND pid <> pg_backend_pid()",
               p, 1, &killer);
    assert_int_equal(killer.status, DB_OK);
    assert_true(atoi(killer.cells[0]) >= 4); /* 3 pool connections + the blocking one */

    run_until(&sleeper.calls, 1, 5000);
    assert_int_equal(sleeper.calls, 1);
    assert_int_equal(sleeper.status, DB_ERR_UNAVAILABLE);

    run_for(500);
    assert_true(d->backend->is_ready(d));
    enum { N = 8 };
    capture c[N];
    memset(c, 0, sizeof c);
    completed = 0;
    for (int i = 0; i < N; i++)
        assert_int_equal(db_query(d, "SELECT pg_backend_pid()", NULL, 0, on_capture, &c[i]), 0);
    run_until(&completed, N, 10000);
    assert_int_equal(completed, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(c[i].status, DB_OK);
        capture_reset(&c[i]);
    }
    capture_reset(&sleeper);
    capture_reset(&killer);
    close_db();
}

int main(void)
{
    snprintf(run_id, sizeof run_id, "zctest-%d-%ld", (int)getpid(), (long)time(NULL));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_url_scheme),
        cmocka_unit_test(test_open_error_hides_password),
        cmocka_unit_test(test_value_accessors),
        cmocka_unit_test(test_migrate_is_idempotent),
        cmocka_unit_test(test_insert_select_roundtrip),
        cmocka_unit_test(test_constraint_and_syntax_errors),
        cmocka_unit_test(test_concurrent_queries),
        cmocka_unit_test(test_close_fails_pending),
        cmocka_unit_test(test_reconnects_after_terminate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
