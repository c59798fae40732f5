/* The retention sweep deletes raw chunks only of takes whose newest successful render is
 * older than the retention period and that are not queued to render again, and marks their
 * rows expired. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "storage/retention.h"

#define DAY_MS (86400LL * 1000)

static char dir[] = "/tmp/zencast-retention-XXXXXX";

static int64_t now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void exec_sql(db *d, const char *sql)
{
    char err[256];
    if (d->backend->exec_blocking(d, sql, err, sizeof err) != 0)
        fail_msg("%s: %s", sql, err);
}

static int64_t count(db *d, const char *sql)
{
    char err[256];
    int64_t n = -1;
    assert_int_equal(d->backend->query_int_blocking(d, sql, &n, err, sizeof err), 0);
    return n;
}

static void write_object(const char *key)
{
    char path[512];
    snprintf(path, sizeof path, "%s/objects/%s", dir, key);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\" && printf chunk > '%s'", path, path);
    assert_int_equal(system(cmd), 0);
}

static bool object_exists(const char *key)
{
    char path[512];
    snprintf(path, sizeof path, "%s/objects/%s", dir, key);
    return access(path, F_OK) == 0;
}

/* take t: rendered `done_days` ago (status), with two chunks. */
static void add_take(db *d, const char *take, const char *job_status, int64_t done_at)
{
    char sql[1200];
    snprintf(sql, sizeof sql,
             "INSERT INTO takes (id, recording_id, status, started_at, created_at) VALUES ('%s', 'r1', 'complete', 0, 0);"
             "INSERT INTO render_jobs (id, recording_id, take_id, status, created_at, updated_at) "
             "VALUES ('job-%s', 'r1', '%s', '%s', 0, %lld);"
             "INSERT INTO chunks (take_id, participant_id, chunk_index, size_bytes, sha256, mime_type, media_start_ms, "
             "object_key, created_at, status) VALUES ('%s', 'p1', 0, 5, 'x', 'video/webm', 0, 'recordings/r1/p1/%s/0.webm', 0, 'stored'),"
             "('%s', 'p1', 1, 5, 'x', 'video/webm', 0, 'recordings/r1/p1/%s/1.webm', 0, 'stored');",
             take, take, take, job_status, (long long)done_at, take, take, take, take);
    exec_sql(d, sql);
    char key[200];
    for (int i = 0; i < 2; i++) {
        snprintf(key, sizeof key, "recordings/r1/p1/%s/%d.webm", take, i);
        write_object(key);
    }
}

static void swept(int deleted, void *ctx)
{
    *(int *)ctx = deleted;
}

static void test_sweep(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    uv_loop_t loop;
    uv_loop_init(&loop);
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/zencast.db", dir);
    db *d = db_sqlite_open(&loop, path, err, sizeof err);
    assert_non_null(d);
    assert_int_equal(db_migrate(d, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/objects", dir);
    const uint8_t secret[32] = { 1 };
    storage *s = storage_local_open(&loop, path, "http://127.0.0.1", secret, sizeof secret, err, sizeof err);
    assert_non_null(s);

    exec_sql(d, "INSERT INTO users (id, email, password_hash, name, created_at) VALUES ('u1', 'a@b.co', 'x', 'A', 0);"
                "INSERT INTO recordings (id, host_user_id, title, invite_token, created_at, updated_at) "
                "VALUES ('r1', 'u1', 'T', 'i', 0, 0);"
                "INSERT INTO participants (id, recording_id, user_id, role, name, joined_at) "
                "VALUES ('p1', 'r1', 'u1', 'host', 'A', 0);");
    int64_t now = now_ms();
    add_take(d, "old", "done", now - 8 * DAY_MS);    /* rendered 8 days ago: its chunks go */
    add_take(d, "recent", "done", now - 1 * DAY_MS); /* rendered yesterday: stays */
    add_take(d, "failed", "failed", now - 30 * DAY_MS); /* never rendered well: stays */
    add_take(d, "again", "done", now - 8 * DAY_MS);     /* rendered 8 days ago, queued again: stays */
    exec_sql(d, "INSERT INTO render_jobs (id, recording_id, take_id, status, created_at, updated_at) "
                "VALUES ('job-again-2', 'r1', 'again', 'queued', 0, 0)");

    retention *r = retention_start(&loop, d, s, 7 * DAY_MS, 3600 * 1000);
    int deleted = -1;
    retention_sweep(r, swept, &deleted);
    while (deleted < 0)
        uv_run(&loop, UV_RUN_ONCE);

    assert_int_equal(deleted, 2);
    assert_false(object_exists("recordings/r1/p1/old/0.webm"));
    assert_false(object_exists("recordings/r1/p1/old/1.webm"));
    assert_true(object_exists("recordings/r1/p1/recent/0.webm"));
    assert_true(object_exists("recordings/r1/p1/failed/1.webm"));
    assert_true(object_exists("recordings/r1/p1/again/0.webm"));
    assert_int_equal(count(d, "SELECT COUNT(*) FROM chunks WHERE status = 'expired' AND take_id = 'old'"), 2);
    assert_int_equal(count(d, "SELECT COUNT(*) FROM chunks WHERE status = 'stored'"), 6);

    deleted = -1; /* a second sweep finds nothing more */
    retention_sweep(r, swept, &deleted);
    while (deleted < 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(deleted, 0);

    retention_stop(r);
    s->backend->close(s);
    db_close(d);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_sweep) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
