/* Render job leases, on SQLite and (with TEST_DATABASE_URL) on PostgreSQL: one claim per
 * job, a dead worker's job claimed again after its lease, only the lease holder finishes,
 * attempts counted, failures recorded; a render queued again only while none is under way. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/render_jobs.h"

#define LEASE 60000
#define T0 1800000000000LL

typedef struct {
    uv_loop_t loop;
    db *db;
    char dir[64];
} fixture;

typedef struct {
    bool done;
    jobs_claim_status status;
    render_job job;
    bool ok;
} outcome;

static void on_claim(jobs_claim_status status, const render_job *job, void *ctx)
{
    outcome *o = ctx;
    o->status = status;
    if (job)
        o->job = *job;
    o->done = true;
}

static void on_done(bool ok, void *ctx)
{
    outcome *o = ctx;
    o->ok = ok;
    o->done = true;
}

static void wait_for(fixture *f, outcome *o)
{
    while (!o->done)
        uv_run(&f->loop, UV_RUN_ONCE);
}

static outcome claim(fixture *f, const char *worker, int64_t now, int max_attempts)
{
    outcome o = { 0 };
    render_jobs_claim(f->db, worker, now, LEASE, max_attempts, on_claim, &o);
    wait_for(f, &o);
    return o;
}

static bool finish(fixture *f, const char *job, const char *worker, int64_t now)
{
    outcome o = { 0 };
    render_jobs_finish(f->db, job, worker, now, on_done, &o);
    wait_for(f, &o);
    return o.ok;
}

static bool renew(fixture *f, const char *job, const char *worker, int64_t now)
{
    outcome o = { 0 };
    render_jobs_renew(f->db, job, worker, now, LEASE, on_done, &o);
    wait_for(f, &o);
    return o.ok;
}

static bool fail_job(fixture *f, const char *job, const char *worker, bool permanent, int64_t now)
{
    outcome o = { 0 };
    render_jobs_fail(f->db, job, worker, "decoder exploded", permanent, 3, now, on_done, &o);
    wait_for(f, &o);
    return o.ok;
}

typedef struct {
    bool done, queued, failed;
} enqueue_outcome;

static void on_enqueue(const db_result *failure, bool queued, void *ctx)
{
    enqueue_outcome *o = ctx;
    o->failed = failure != NULL;
    o->queued = queued;
    o->done = true;
}

/* Queues job_id for take rj-t; true when it was queued, false when a render was under way. */
static bool enqueue(fixture *f, const char *job_id, const char *layout, const char *resolution, int64_t now)
{
    render_job job = { 0 };
    snprintf(job.id, sizeof job.id, "%s", job_id);
    snprintf(job.recording_id, sizeof job.recording_id, "rj-r");
    snprintf(job.take_id, sizeof job.take_id, "rj-t");
    snprintf(job.layout, sizeof job.layout, "%s", layout);
    snprintf(job.resolution, sizeof job.resolution, "%s", resolution);
    enqueue_outcome o = { 0 };
    render_jobs_enqueue(f->db, &job, now, on_enqueue, &o);
    while (!o.done)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_false(o.failed);
    return o.queued;
}

static void exec_sql(fixture *f, const char *sql)
{
    char err[256];
    if (f->db->backend->exec_blocking(f->db, sql, err, sizeof err) != 0)
        fail_msg("%s: %s", sql, err);
}

static int64_t query_int(fixture *f, const char *sql)
{
    char err[256];
    int64_t v = -1;
    assert_int_equal(f->db->backend->query_int_blocking(f->db, sql, &v, err, sizeof err), 0);
    return v;
}

static void add_job(fixture *f, const char *id, long long created)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "INSERT INTO render_jobs (id, recording_id, status, created_at, updated_at) VALUES ('%s', 'rj-r', 'queued', %lld, %lld)",
             id, created, created);
    exec_sql(f, sql);
}

static int open_db(fixture *f, const char *url)
{
    char err[256], path[128];
    uv_loop_init(&f->loop);
    if (!url) {
        snprintf(f->dir, sizeof f->dir, "/tmp/zencast-jobs-XXXXXX");
        if (!mkdtemp(f->dir))
            return -1;
        snprintf(path, sizeof path, "%s/db", f->dir);
    }
    f->db = db_open(&f->loop, url, path, err, sizeof err);
    if (!f->db || db_migrate(f->db, err, sizeof err) != 0) {
        print_error("%s\n", err);
        return -1;
    }
    exec_sql(f, "DELETE FROM render_jobs WHERE recording_id = 'rj-r'; DELETE FROM takes WHERE recording_id = 'rj-r'; "
                "DELETE FROM recordings WHERE id = 'rj-r'; "
                "DELETE FROM users WHERE id = 'rj-u';");
    exec_sql(f, "INSERT INTO users (id, email, password_hash, name, created_at) VALUES ('rj-u', 'rj@x.io', 'x', 'A', 0);"
                "INSERT INTO recordings (id, host_user_id, title, status, invite_token, created_at, updated_at) "
                "VALUES ('rj-r', 'rj-u', 'T', 'queued', 'i', 0, 0);");
    return 0;
}

static void close_db(fixture *f)
{
    exec_sql(f, "DELETE FROM render_jobs WHERE recording_id = 'rj-r'; DELETE FROM takes WHERE recording_id = 'rj-r'; "
                "DELETE FROM recordings WHERE id = 'rj-r'; "
                "DELETE FROM users WHERE id = 'rj-u';");
    db_close(f->db);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    if (f->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
    }
}

static void scenario(fixture *f)
{
    add_job(f, "rj-job-1", 1);
    add_job(f, "rj-job-2", 2);

    /* Two workers: each gets a different job, the oldest first; a third finds none. */
    outcome a = claim(f, "worker-a", T0, 3), b = claim(f, "worker-b", T0, 3), c = claim(f, "worker-c", T0, 3);
    assert_int_equal(a.status, JOBS_CLAIMED);
    assert_string_equal(a.job.id, "rj-job-1");
    assert_int_equal(a.job.attempts, 1);
    assert_int_equal(b.status, JOBS_CLAIMED);
    assert_string_equal(b.job.id, "rj-job-2");
    assert_int_equal(c.status, JOBS_NONE);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM recordings WHERE id = 'rj-r' AND status = 'rendering'"), 1);

    /* worker-a renews in time; worker-b dies: after its lease, worker-c takes job 2. */
    assert_true(renew(f, "rj-job-1", "worker-a", T0 + LEASE / 2));
    outcome again = claim(f, "worker-c", T0 + LEASE + 1, 3);
    assert_int_equal(again.status, JOBS_CLAIMED);
    assert_string_equal(again.job.id, "rj-job-2");
    assert_int_equal(again.job.attempts, 2);

    /* The dead worker comes back: it can neither renew nor finish; the new holder finishes, once. */
    assert_false(renew(f, "rj-job-2", "worker-b", T0 + LEASE + 2));
    assert_false(finish(f, "rj-job-2", "worker-b", T0 + LEASE + 3));
    assert_true(finish(f, "rj-job-2", "worker-c", T0 + LEASE + 4));
    assert_false(finish(f, "rj-job-2", "worker-c", T0 + LEASE + 5));
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM render_jobs WHERE id = 'rj-job-2' AND status = 'done'"), 1);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM recordings WHERE id = 'rj-r' AND status = 'ready'"), 1);

    /* A failure that may be retried queues the job again; a permanent one records why. */
    assert_true(fail_job(f, "rj-job-1", "worker-a", false, T0 + LEASE / 2 + 1));
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM render_jobs WHERE id = 'rj-job-1' AND status = 'queued'"), 1);
    outcome retry = claim(f, "worker-a", T0 + LEASE, 3);
    assert_string_equal(retry.job.id, "rj-job-1");
    assert_int_equal(retry.job.attempts, 2);
    assert_true(fail_job(f, "rj-job-1", "worker-a", true, T0 + LEASE + 1));
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM render_jobs WHERE id = 'rj-job-1' AND status = 'failed' "
                                  "AND error = 'decoder exploded'"), 1);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM recordings WHERE id = 'rj-r' AND status = 'failed'"), 1);

    /* A job whose workers keep dying fails for good once out of attempts. */
    add_job(f, "rj-job-3", 3);
    int64_t now = T0 + 10 * LEASE;
    for (int attempt = 1; attempt <= 2; attempt++) {
        outcome o = claim(f, "dies", now, 2);
        assert_string_equal(o.job.id, "rj-job-3");
        now += LEASE + 1;
    }
    assert_int_equal(claim(f, "dies", now, 2).status, JOBS_NONE);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM render_jobs WHERE id = 'rj-job-3' AND status = 'failed'"), 1);
}

/* Rendering again: one render of a recording at a time, with the settings asked for. */
static void enqueue_scenario(fixture *f)
{
    exec_sql(f, "INSERT INTO takes (id, recording_id, status, started_at, created_at) VALUES ('rj-t', 'rj-r', 'complete', 0, 0)");
    int64_t now = T0 + 100 * LEASE;
    assert_true(enqueue(f, "rj-again-1", "speaker", "1080p", now));
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM render_jobs WHERE id = 'rj-again-1' AND status = 'queued' "
                                  "AND take_id = 'rj-t' AND layout = 'speaker' AND resolution = '1080p'"), 1);
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM recordings WHERE id = 'rj-r' AND status = 'queued'"), 1);
    assert_false(enqueue(f, "rj-again-2", "grid", "720p", now + 1)); /* queued: busy */

    outcome claimed = claim(f, "worker-a", now + 2, 3);
    assert_string_equal(claimed.job.id, "rj-again-1");
    assert_string_equal(claimed.job.layout, "speaker");
    assert_string_equal(claimed.job.resolution, "1080p");
    assert_false(enqueue(f, "rj-again-2", "grid", "720p", now + 3)); /* running: busy */
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM recordings WHERE id = 'rj-r' AND status = 'rendering'"), 1);

    /* What the NOT EXISTS check cannot see across PostgreSQL transactions, the index refuses. */
    char err[256];
    assert_int_not_equal(f->db->backend->exec_blocking(f->db,
                             "INSERT INTO render_jobs (id, recording_id, take_id, status, created_at, updated_at) "
                             "VALUES ('rj-again-x', 'rj-r', 'rj-t', 'queued', 0, 0)", err, sizeof err), 0);

    assert_true(finish(f, "rj-again-1", "worker-a", now + 4));
    assert_true(enqueue(f, "rj-again-2", "side-by-side", "720p", now + 5));
    assert_int_equal(query_int(f, "SELECT COUNT(*) FROM render_jobs WHERE take_id = 'rj-t'"), 2);
}

static void test_settings(void **state)
{
    (void)state;
    int width = 0, height = 0;
    assert_true(render_jobs_resolution_size("720p", &width, &height));
    assert_int_equal(width, 1280);
    assert_int_equal(height, 720);
    assert_true(render_jobs_resolution_size("1080p", &width, &height));
    assert_int_equal(width, 1920);
    assert_int_equal(height, 1080);
    assert_false(render_jobs_resolution_size("1920x1080", &width, &height));
    assert_false(render_jobs_resolution_size("4k", &width, &height));
    assert_true(render_jobs_layout_known("grid"));
    assert_true(render_jobs_layout_known("speaker"));
    assert_true(render_jobs_layout_known("side-by-side"));
    assert_false(render_jobs_layout_known("Grid"));
    assert_false(render_jobs_layout_known(""));
}

static void test_sqlite(void **state)
{
    (void)state;
    fixture f = { 0 };
    assert_int_equal(open_db(&f, NULL), 0);
    scenario(&f);
    enqueue_scenario(&f);
    close_db(&f);
}

static void test_postgres(void **state)
{
    (void)state;
    const char *url = getenv("TEST_DATABASE_URL");
    if (!url || !*url)
        skip();
    fixture f = { 0 };
    assert_int_equal(open_db(&f, url), 0);
    scenario(&f);
    enqueue_scenario(&f);
    close_db(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_settings), cmocka_unit_test(test_sqlite),
                                        cmocka_unit_test(test_postgres) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
