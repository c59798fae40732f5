/* The S3 back end. The URL-shape and cancellation tests need no server. The others run
 * against a real S3-compatible server when TEST_S3_ENDPOINT is set, e.g.
 *
 *   TEST_S3_ENDPOINT=$(scripts/s3rver-test-server.sh start /tmp/zc-s3 4600 zencast-test) \
 *   TEST_S3_BUCKET=zencast-test build/server/tests/test_storage_s3
 *
 * Credentials default to s3rver's S3RVER / S3RVER (TEST_S3_ACCESS_KEY_ID and
 * TEST_S3_SECRET_ACCESS_KEY override them; TEST_S3_REGION defaults to us-east-1). Objects
 * go under test/RUN/ (RUN random) and are removed at the end of each test. Note that
 * s3rver does not check SigV4 signatures: these tests prove the requests' shape and
 * behaviour, the signatures are covered by test_sigv4 and the botocore cross-check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "storage/storage.h"
#include "util/crypto.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BIG_SIZE (3 * 1024 * 1024)

static uv_loop_t loop;

/* ---------------------------------------------------------------- loop helpers */

typedef bool (*condition)(void *arg);

static void on_tick(uv_timer_t *t) { (void)t; }

static void on_tick_closed(uv_handle_t *h) { free(h); }

/* Runs the loop until cond holds or timeout_ms passes; the ticking timer makes each
 * UV_RUN_ONCE return even when nothing else happens. */
static bool run_until(condition cond, void *arg, uint64_t timeout_ms)
{
    uv_timer_t *tick = malloc(sizeof *tick);
    assert_non_null(tick);
    uv_timer_init(&loop, tick);
    uv_timer_start(tick, on_tick, 10, 10);
    uv_update_time(&loop);
    uint64_t deadline = uv_now(&loop) + timeout_ms;
    bool met;
    while (!(met = cond(arg)) && uv_now(&loop) < deadline)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)tick, on_tick_closed);
    return met;
}

static bool flag_set(void *arg) { return *(bool *)arg; }

static void on_wait_done(uv_timer_t *t) { *(bool *)t->data = true; }

/* Waits ms on a uv timer, the loop running meanwhile. */
static void wait_ms(uint64_t ms)
{
    uv_timer_t t;
    bool fired = false;
    uv_timer_init(&loop, &t);
    t.data = &fired;
    uv_timer_start(&t, on_wait_done, ms, 0);
    assert_true(run_until(flag_set, &fired, ms + 5000));
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* Closes s, runs the loop dry and checks nothing is left on it. */
static void close_and_drain(storage *s)
{
    s->backend->close(s);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

static int setup_loop(void **state)
{
    (void)state;
    return uv_loop_init(&loop);
}

static int teardown_loop(void **state)
{
    (void)state;
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    return 0;
}

/* ---------------------------------------------------------------- synchronous wrappers */

typedef struct {
    bool called;
    bool in_call; /* set while the call runs: a callback seeing it ran inside the call */
    bool inside;  /* the callback ran inside the call */
    storage_status status;
    storage_object object;
    bool had_object;
    int count;
    char **keys;
} result;

static bool result_called(void *arg) { return ((result *)arg)->called; }

static void on_done(storage_status status, void *ctx)
{
    result *r = ctx;
    r->inside = r->in_call;
    r->called = true;
    r->status = status;
}

static void on_head(storage_status status, const storage_object *object, void *ctx)
{
    result *r = ctx;
    r->inside = r->in_call;
    r->called = true;
    r->status = status;
    r->had_object = object != NULL;
    if (object)
        r->object = *object;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void on_list(storage_status status, const char *const *keys, int count, void *ctx)
{
    result *r = ctx;
    r->inside = r->in_call;
    r->called = true;
    r->status = status;
    r->count = count;
    r->keys = count ? calloc((size_t)count, sizeof *r->keys) : NULL;
    for (int i = 0; i < count; i++)
        r->keys[i] = strdup(keys[i]);
    if (count)
        qsort(r->keys, (size_t)count, sizeof *r->keys, cmp_str);
}

static void result_free(result *r)
{
    for (int i = 0; i < r->count; i++)
        free(r->keys[i]);
    free(r->keys);
    r->keys = NULL;
    r->count = 0;
}

static void await(result *r, uint64_t timeout_ms)
{
    assert_false(r->inside);
    assert_true(run_until(result_called, r, timeout_ms));
}

static storage_status do_head(storage *s, const char *key, bool hash, storage_object *out)
{
    result r = {.in_call = true};
    s->backend->head(s, key, hash, on_head, &r);
    r.in_call = false;
    await(&r, 30000);
    assert_int_equal(r.had_object, r.status == STORAGE_OK);
    if (out)
        *out = r.object;
    return r.status;
}

static storage_status do_put(storage *s, const char *key, const char *path, const char *type)
{
    result r = {.in_call = true};
    s->backend->put_file(s, key, path, type, on_done, &r);
    r.in_call = false;
    await(&r, 60000);
    return r.status;
}

static storage_status do_remove(storage *s, const char *key)
{
    result r = {.in_call = true};
    s->backend->remove(s, key, on_done, &r);
    r.in_call = false;
    await(&r, 30000);
    return r.status;
}

/* r->keys sorted; result_free after. */
static void do_list(storage *s, const char *prefix, result *r)
{
    *r = (result){.in_call = true};
    s->backend->list(s, prefix, on_list, r);
    r->in_call = false;
    await(r, 60000);
}

/* ---------------------------------------------------------------- fixtures */

static char run_prefix[64]; /* test/RUN */

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && v[0] ? v : fallback;
}

static storage *open_test_server(const char *access_key)
{
    storage_s3_options o = {
        .bucket = env_or("TEST_S3_BUCKET", "zencast-test"),
        .region = env_or("TEST_S3_REGION", "us-east-1"),
        .endpoint = getenv("TEST_S3_ENDPOINT"),
        .access_key_id = access_key ? access_key : env_or("TEST_S3_ACCESS_KEY_ID", "S3RVER"),
        .secret_access_key = env_or("TEST_S3_SECRET_ACCESS_KEY", "S3RVER"),
        .session_token = "",
    };
    char err[256] = "";
    storage *s = storage_s3_open(&loop, &o, err, sizeof err);
    if (!s)
        fail_msg("storage_s3_open: %s", err);
    assert_string_equal(s->backend->name, "s3");
    return s;
}

static bool have_server(void)
{
    const char *e = getenv("TEST_S3_ENDPOINT");
    return e && e[0];
}

#define NEED_SERVER()                                                                                          \
    do {                                                                                                       \
        if (!have_server()) {                                                                                  \
            print_message("TEST_S3_ENDPOINT is not set: skipped\n");                                          \
            skip();                                                                                            \
        }                                                                                                      \
    } while (0)

static void key_of(char *out, size_t size, const char *rest)
{
    snprintf(out, size, "%s/%s", run_prefix, rest);
}

/* A file of n pseudo-random bytes; its SHA-256 into sha. Returns a malloc'd path. */
static char *make_file(size_t n, char sha[65], unsigned char **bytes_out)
{
    char *path = strdup("/tmp/zencast-s3-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unsigned char *data = malloc(n ? n : 1);
    uint32_t x = 2463534242u ^ (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data[i] = (unsigned char)x;
    }
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
    crypto_sha256_hex(data, n, sha);
    if (bytes_out)
        *bytes_out = data;
    else
        free(data);
    return path;
}

/* Removes every object under test/RUN/. */
static void remove_run(storage *s)
{
    result r;
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s/", run_prefix);
    do_list(s, prefix, &r);
    assert_int_equal(r.status, STORAGE_OK);
    for (int i = 0; i < r.count; i++)
        assert_int_equal(do_remove(s, r.keys[i]), STORAGE_OK);
    result_free(&r);
}

/* ---------------------------------------------------------------- blocking curl for "browsers" */

typedef struct {
    const unsigned char *data;
    size_t len, pos;
} mem_reader;

static size_t mem_read(char *buf, size_t size, size_t nmemb, void *userp)
{
    mem_reader *m = userp;
    size_t n = size * nmemb, left = m->len - m->pos, take = n < left ? n : left;
    memcpy(buf, m->data + m->pos, take);
    m->pos += take;
    return take;
}

typedef struct {
    unsigned char *data;
    size_t len;
} mem_writer;

static size_t mem_write(char *p, size_t size, size_t nmemb, void *userp)
{
    mem_writer *m = userp;
    size_t n = size * nmemb;
    m->data = realloc(m->data, m->len + n + 1);
    memcpy(m->data + m->len, p, n);
    m->len += n;
    return n;
}

/* Sends exactly what a browser would: the presigned method and URL, the returned headers
 * and the body. Returns the HTTP status; the answer's body into out when given. */
static long browser_request(const storage_presigned *p, const unsigned char *body, size_t len, mem_writer *out)
{
    CURL *e = curl_easy_init();
    assert_non_null(e);
    struct curl_slist *headers = NULL;
    for (int i = 0; i < p->nheaders; i++) {
        char line[400];
        snprintf(line, sizeof line, "%s: %s", p->header_names[i], p->header_values[i]);
        headers = curl_slist_append(headers, line);
    }
    mem_reader reader = {body, len, 0};
    mem_writer sink = {0};
    curl_easy_setopt(e, CURLOPT_URL, p->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mem_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out ? out : &sink);
    if (strcmp(p->method, "PUT") == 0) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, mem_read);
        curl_easy_setopt(e, CURLOPT_READDATA, &reader);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    } else {
        assert_string_equal(p->method, "GET");
    }
    CURLcode rc = curl_easy_perform(e);
    if (rc != CURLE_OK)
        fail_msg("curl: %s", curl_easy_strerror(rc));
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(e);
    free(sink.data);
    return code;
}

/* ---------------------------------------------------------------- tests without a server */

static const char *query_param(const char *url, const char *name, char *out, size_t size)
{
    char needle[64];
    snprintf(needle, sizeof needle, "%s=", name);
    const char *q = strchr(url, '?');
    assert_non_null(q);
    for (const char *p = q + 1; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, needle, strlen(needle)) == 0) {
            p += strlen(needle);
            size_t n = strcspn(p, "&");
            snprintf(out, size, "%.*s", (int)n, p);
            return out;
        }
    }
    return NULL;
}

static storage *open_offline(const char *endpoint, const char *token)
{
    storage_s3_options o = {
        .bucket = "zencast-media",
        .region = "eu-west-1",
        .endpoint = endpoint,
        .access_key_id = "AKIDEXAMPLE",
        .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .session_token = token,
    };
    char err[256] = "";
    storage *s = storage_s3_open(&loop, &o, err, sizeof err);
    if (!s)
        fail_msg("storage_s3_open: %s", err);
    return s;
}

static void check_put_shape(storage *s, const char *url_start)
{
    /* SHA-256 of "": its base64 is well known. */
    const char *sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    storage_presigned p;
    int64_t before = (int64_t)time(NULL);
    assert_int_equal(s->backend->presign_put(s, "recordings/r1/u-1/0.webm", "audio/webm", sha, 0, 600, &p), 0);
    assert_true(strncmp(p.url, url_start, strlen(url_start)) == 0);
    assert_int_equal(p.url[strlen(url_start)], '?');
    assert_string_equal(p.method, "PUT");
    assert_true(p.expires_at >= before + 600 && p.expires_at <= (int64_t)time(NULL) + 600);
    char v[256];
    assert_non_null(query_param(p.url, "X-Amz-SignedHeaders", v, sizeof v));
    assert_string_equal(v, "content-type%3Bhost%3Bx-amz-checksum-sha256");
    assert_non_null(query_param(p.url, "X-Amz-Expires", v, sizeof v));
    assert_string_equal(v, "600");
    assert_non_null(query_param(p.url, "X-Amz-Algorithm", v, sizeof v));
    assert_string_equal(v, "AWS4-HMAC-SHA256");
    assert_non_null(query_param(p.url, "X-Amz-Credential", v, sizeof v));
    assert_true(strncmp(v, "AKIDEXAMPLE%2F", 14) == 0);
    assert_non_null(strstr(v, "%2Feu-west-1%2Fs3%2Faws4_request"));
    assert_non_null(query_param(p.url, "X-Amz-Signature", v, sizeof v));
    assert_int_equal(strlen(v), 64);
    assert_null(strstr(p.url, "wJalrXUtnFEMI")); /* the secret never appears */
    /* Exactly the headers the browser must send. */
    assert_int_equal(p.nheaders, 2);
    assert_string_equal(p.header_names[0], "Content-Type");
    assert_string_equal(p.header_values[0], "audio/webm");
    assert_string_equal(p.header_names[1], "x-amz-checksum-sha256");
    assert_string_equal(p.header_values[1], "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");

    assert_int_equal(s->backend->presign_get(s, "processed/r1/mix.mp3", 3600, &p), 0);
    assert_string_equal(p.method, "GET");
    assert_int_equal(p.nheaders, 0);
    assert_non_null(query_param(p.url, "X-Amz-SignedHeaders", v, sizeof v));
    assert_string_equal(v, "host");
    assert_non_null(query_param(p.url, "X-Amz-Expires", v, sizeof v));
    assert_string_equal(v, "3600");
}

static void test_presign_url_shape(void **state)
{
    (void)state;
    storage *s = open_offline("", "");
    check_put_shape(s, "https://zencast-media.s3.eu-west-1.amazonaws.com/recordings/r1/u-1/0.webm");
    storage_presigned p;
    char v[256];
    assert_int_equal(s->backend->presign_get(s, "processed/r1/mix.mp3", 60, &p), 0);
    const char *get_start = "https://zencast-media.s3.eu-west-1.amazonaws.com/processed/r1/mix.mp3?";
    assert_true(strncmp(p.url, get_start, strlen(get_start)) == 0);
    assert_null(query_param(p.url, "X-Amz-Security-Token", v, sizeof v));

    /* Refusals: keys we do not produce, bad hashes, types and lifetimes. */
    const char *sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_int_equal(s->backend->presign_put(s, "../etc/passwd", "audio/webm", sha, 1, 60, &p), -1);
    assert_int_equal(s->backend->presign_put(s, "a b", "audio/webm", sha, 1, 60, &p), -1);
    assert_int_equal(s->backend->presign_put(s, "a/b", "audio/webm", "xyz", 1, 60, &p), -1);
    assert_int_equal(
        s->backend->presign_put(s, "a/b", "audio/webm",
                                "g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 1, 60, &p),
        -1);
    assert_int_equal(s->backend->presign_put(s, "a/b", "audio/webm\r\nX-Evil: 1", sha, 1, 60, &p), -1);
    assert_int_equal(s->backend->presign_put(s, "a/b", "audio/webm", sha, -1, 60, &p), -1);
    assert_int_equal(s->backend->presign_put(s, "a/b", "audio/webm", sha, 1, 0, &p), -1);
    assert_int_equal(s->backend->presign_get(s, "a/b", 604801, &p), -1);
    assert_int_equal(s->backend->presign_get(s, "/a", 60, &p), -1);
    close_and_drain(s);

    /* Path-style, the scheme's default port dropped as browsers do. */
    s = open_offline("http://127.0.0.1:4568", "");
    check_put_shape(s, "http://127.0.0.1:4568/zencast-media/recordings/r1/u-1/0.webm");
    close_and_drain(s);
    s = open_offline("https://minio.example.com:443/s3/", "");
    check_put_shape(s, "https://minio.example.com/s3/zencast-media/recordings/r1/u-1/0.webm");
    close_and_drain(s);

    /* Temporary credentials travel in the URL. */
    s = open_offline("", "FwoGZXIvYXdzEBYaDH+/token=");
    assert_int_equal(s->backend->presign_get(s, "a/b", 60, &p), 0);
    assert_non_null(query_param(p.url, "X-Amz-Security-Token", v, sizeof v));
    assert_string_equal(v, "FwoGZXIvYXdzEBYaDH%2B%2Ftoken%3D");
    close_and_drain(s);
}

static void test_open_refuses_bad_options(void **state)
{
    (void)state;
    char err[256];
    storage_s3_options o = {"zencast-media", "eu-west-1", "", "AKID", "secret", ""};
    storage_s3_options bad = o;
    bad.endpoint = "ftp://example.com";
    err[0] = '\0';
    assert_null(storage_s3_open(&loop, &bad, err, sizeof err));
    assert_true(err[0] != '\0');
    bad = o;
    bad.endpoint = "http://user:pw@example.com";
    assert_null(storage_s3_open(&loop, &bad, err, sizeof err));
    bad = o;
    bad.bucket = "Bad_Bucket";
    assert_null(storage_s3_open(&loop, &bad, err, sizeof err));
    bad = o;
    bad.secret_access_key = "";
    assert_null(storage_s3_open(&loop, &bad, err, sizeof err));
    bad = o;
    bad.session_token = "a\r\nb";
    assert_null(storage_s3_open(&loop, &bad, err, sizeof err));
}

/* Nothing listens on port 9 of 127.0.0.1 (discard): requests fail, never hang, and close
 * cancels what is pending. Callbacks never run inside the call. */
static void test_errors_and_close_without_server(void **state)
{
    (void)state;
    storage *s = open_offline("http://127.0.0.1:9", "");
    storage_object obj;
    assert_int_equal(do_head(s, "a/b", false, &obj), STORAGE_ERROR);
    assert_int_equal(do_head(s, "not a key", false, &obj), STORAGE_ERROR);
    assert_int_equal(do_remove(s, "../x"), STORAGE_ERROR);
    assert_int_equal(do_put(s, "a/b", "/nonexistent/file", "audio/webm"), STORAGE_ERROR);
    result lr;
    do_list(s, "bad prefix", &lr);
    assert_int_equal(lr.status, STORAGE_ERROR);
    assert_int_equal(lr.count, 0);
    unsigned char buf[16];
    size_t got = 99;
    assert_int_equal(s->backend->read_range(s, "a/b", 0, buf, sizeof buf, &got), STORAGE_ERROR);
    assert_int_equal(got, 0);
    assert_int_equal(s->backend->read_range(s, "a/b", 0, buf, 0, &got), STORAGE_OK);
    assert_int_equal(got, 0);

    /* Pending operations answer STORAGE_ERROR once closed. */
    result h = {.in_call = true}, p = {.in_call = true}, l = {.in_call = true};
    char sha[65];
    char *path = make_file(1000, sha, NULL);
    s->backend->head(s, "a/b", true, on_head, &h);
    s->backend->put_file(s, "a/c", path, "audio/webm", on_done, &p);
    s->backend->list(s, "a/", on_list, &l);
    h.in_call = p.in_call = l.in_call = false;
    s->backend->close(s);
    assert_false(h.called || p.called || l.called);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_true(h.called && p.called && l.called);
    assert_false(h.inside || p.inside || l.inside);
    assert_int_equal(h.status, STORAGE_ERROR);
    assert_int_equal(p.status, STORAGE_ERROR);
    assert_int_equal(l.status, STORAGE_ERROR);
    unlink(path);
    free(path);
}

/* ---------------------------------------------------------------- tests against a server */

typedef struct {
    uv_work_t work;
    storage *s;
    const char *key;
    unsigned char *out;
    size_t capacity, total;
    storage_status status;
    size_t got_at_end, got_past_end;
    storage_status missing;
    bool done;
} range_job;

/* On a worker thread, as the renderer will: pieces of an odd size until *got is 0. */
static void range_work(uv_work_t *w)
{
    range_job *j = w->data;
    const size_t piece = 1024 * 1024 - 7;
    size_t got;
    j->status = STORAGE_OK;
    for (;;) {
        size_t want = j->capacity - j->total < piece ? j->capacity - j->total : piece;
        if (want == 0)
            break;
        storage_status st = j->s->backend->read_range(j->s, j->key, (int64_t)j->total, j->out + j->total, want, &got);
        if (st != STORAGE_OK) {
            j->status = st;
            return;
        }
        if (got == 0)
            break;
        j->total += got;
    }
    unsigned char tmp[10];
    j->got_at_end = j->got_past_end = 99;
    if (j->s->backend->read_range(j->s, j->key, (int64_t)j->total, tmp, sizeof tmp, &j->got_at_end) != STORAGE_OK ||
        j->s->backend->read_range(j->s, j->key, (int64_t)j->total + 1000, tmp, sizeof tmp, &j->got_past_end) !=
            STORAGE_OK)
        j->status = STORAGE_ERROR;
    char missing[128];
    key_of(missing, sizeof missing, "no/such/object.bin");
    j->missing = j->s->backend->read_range(j->s, missing, 0, tmp, sizeof tmp, &got);
}

static void range_after(uv_work_t *w, int status)
{
    range_job *j = w->data;
    assert_int_equal(status, 0);
    j->done = true;
}

static bool range_done(void *arg) { return ((range_job *)arg)->done; }

static void test_put_head_range_remove(void **state)
{
    (void)state;
    NEED_SERVER();
    storage *s = open_test_server(NULL);
    char sha[65], key[128];
    unsigned char *data;
    char *path = make_file(BIG_SIZE, sha, &data);
    key_of(key, sizeof key, "render/r1/out.bin");

    assert_int_equal(do_put(s, key, path, "application/octet-stream"), STORAGE_OK);

    storage_object obj;
    assert_int_equal(do_head(s, key, false, &obj), STORAGE_OK);
    assert_int_equal(obj.size, BIG_SIZE);
    assert_string_equal(obj.sha256, "");
    assert_int_equal(do_head(s, key, true, &obj), STORAGE_OK);
    assert_int_equal(obj.size, BIG_SIZE);
    assert_string_equal(obj.sha256, sha);

    /* The object back in pieces from a worker thread. */
    range_job j = {.s = s, .key = key, .capacity = BIG_SIZE + 4096};
    j.out = malloc(j.capacity);
    j.work.data = &j;
    assert_int_equal(uv_queue_work(&loop, &j.work, range_work, range_after), 0);
    assert_true(run_until(range_done, &j, 60000));
    assert_int_equal(j.status, STORAGE_OK);
    assert_int_equal(j.total, BIG_SIZE);
    assert_memory_equal(j.out, data, BIG_SIZE);
    assert_int_equal(j.got_at_end, 0);
    assert_int_equal(j.got_past_end, 0);
    assert_int_equal(j.missing, STORAGE_NOT_FOUND);
    free(j.out);

    /* An empty object. */
    char empty_sha[65], empty_key[128];
    char *empty = make_file(0, empty_sha, NULL);
    key_of(empty_key, sizeof empty_key, "render/r1/empty.bin");
    assert_int_equal(do_put(s, empty_key, empty, "application/octet-stream"), STORAGE_OK);
    assert_int_equal(do_head(s, empty_key, true, &obj), STORAGE_OK);
    assert_int_equal(obj.size, 0);
    assert_string_equal(obj.sha256, empty_sha);
    unsigned char tmp[8];
    size_t got = 99;
    assert_int_equal(s->backend->read_range(s, empty_key, 0, tmp, sizeof tmp, &got), STORAGE_OK);
    assert_int_equal(got, 0);

    /* Remove, then it is gone. S3 answers 204 to a DELETE of a missing key too. */
    assert_int_equal(do_remove(s, key), STORAGE_OK);
    assert_int_equal(do_head(s, key, false, &obj), STORAGE_NOT_FOUND);
    assert_int_equal(do_head(s, key, true, &obj), STORAGE_NOT_FOUND);
    assert_int_not_equal(do_remove(s, key), STORAGE_ERROR);

    remove_run(s);
    close_and_drain(s);
    unlink(path);
    unlink(empty);
    free(path);
    free(empty);
    free(data);
}

static void test_list(void **state)
{
    (void)state;
    NEED_SERVER();
    storage *s = open_test_server(NULL);
    char sha[65];
    char *path = make_file(100, sha, NULL);
    const char *names[] = {"list/a.webm", "list/b-c_d.e.webm", "list/deep/x/y/z/1.webm", "list/deep/x/y/z/2.webm",
                           "list/deep/x2.webm", "listx.webm"};
    char key[128];
    /* All at once: several transfers on the loop together. */
    result r[6];
    for (int i = 0; i < 6; i++) {
        r[i] = (result){0};
        key_of(key, sizeof key, names[i]);
        s->backend->put_file(s, key, path, "audio/webm", on_done, &r[i]);
    }
    for (int i = 0; i < 6; i++) {
        await(&r[i], 30000);
        assert_int_equal(r[i].status, STORAGE_OK);
    }

    result l;
    char prefix[128], expect[128];
    key_of(prefix, sizeof prefix, "list/");
    do_list(s, prefix, &l);
    assert_int_equal(l.status, STORAGE_OK);
    assert_int_equal(l.count, 5);
    for (int i = 0; i < 5; i++) {
        key_of(expect, sizeof expect, names[i]);
        assert_string_equal(l.keys[i], expect);
    }
    result_free(&l);

    key_of(prefix, sizeof prefix, "list");
    do_list(s, prefix, &l);
    assert_int_equal(l.count, 6);
    result_free(&l);

    key_of(prefix, sizeof prefix, "list/deep/x/y/");
    do_list(s, prefix, &l);
    assert_int_equal(l.status, STORAGE_OK);
    assert_int_equal(l.count, 2);
    key_of(expect, sizeof expect, names[3]);
    assert_string_equal(l.keys[1], expect);
    result_free(&l);

    key_of(prefix, sizeof prefix, "nothing/here/");
    do_list(s, prefix, &l);
    assert_int_equal(l.status, STORAGE_OK);
    assert_int_equal(l.count, 0);

    remove_run(s);
    close_and_drain(s);
    unlink(path);
    free(path);
}

/* More than one ListObjectsV2 page (1000 keys each): continuation tokens. */
static void test_list_pages(void **state)
{
    (void)state;
    NEED_SERVER();
    storage *s = open_test_server(NULL);
    char sha[65];
    char *path = make_file(10, sha, NULL);
    enum { N = 1050 };
    result *r = calloc(N, sizeof *r);
    char key[128];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "%s/pages/%05d.webm", run_prefix, i);
        s->backend->put_file(s, key, path, "audio/webm", on_done, &r[i]);
    }
    for (int i = 0; i < N; i++) {
        await(&r[i], 120000);
        assert_int_equal(r[i].status, STORAGE_OK);
    }
    free(r);

    result l;
    char prefix[128];
    key_of(prefix, sizeof prefix, "pages/");
    do_list(s, prefix, &l);
    assert_int_equal(l.status, STORAGE_OK);
    assert_int_equal(l.count, N);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "%s/pages/%05d.webm", run_prefix, i);
        assert_string_equal(l.keys[i], key);
    }
    result_free(&l);

    remove_run(s);
    close_and_drain(s);
    unlink(path);
    free(path);
}

static void test_presigned(void **state)
{
    (void)state;
    NEED_SERVER();
    storage *s = open_test_server(NULL);
    char sha[65], key[128];
    unsigned char *data;
    char *path = make_file(100 * 1000 + 3, sha, &data);
    unlink(path);
    free(path);
    const size_t len = 100 * 1000 + 3;
    key_of(key, sizeof key, "recordings/room/user/0.webm");

    storage_presigned put;
    assert_int_equal(s->backend->presign_put(s, key, "audio/webm", sha, (int64_t)len, 300, &put), 0);
    assert_int_equal(browser_request(&put, data, len, NULL), 200);

    storage_object obj;
    assert_int_equal(do_head(s, key, true, &obj), STORAGE_OK);
    assert_int_equal(obj.size, (int64_t)len);
    assert_string_equal(obj.sha256, sha);

    storage_presigned get;
    assert_int_equal(s->backend->presign_get(s, key, 300, &get), 0);
    mem_writer body = {0};
    assert_int_equal(browser_request(&get, NULL, 0, &body), 200);
    assert_int_equal(body.len, len);
    assert_memory_equal(body.data, data, len);
    free(body.data);

    /* Expiry is judged on the server's clock, to the second: there is no way around one
     * real wait past X-Amz-Date + X-Amz-Expires. 2.5 s covers the 1 s lifetime plus the
     * truncation of X-Amz-Date to whole seconds. */
    storage_presigned short_get, short_put;
    assert_int_equal(s->backend->presign_get(s, key, 1, &short_get), 0);
    assert_int_equal(s->backend->presign_put(s, key, "audio/webm", sha, (int64_t)len, 1, &short_put), 0);
    wait_ms(2500);
    assert_int_equal(browser_request(&short_get, NULL, 0, NULL), 403);
    assert_int_equal(browser_request(&short_put, data, len, NULL), 403);

    assert_int_equal(do_remove(s, key), STORAGE_OK);
    assert_int_equal(do_head(s, key, false, &obj), STORAGE_NOT_FOUND);
    remove_run(s);
    close_and_drain(s);
    free(data);
}

/* An unknown access key id is refused (403) and reported as STORAGE_ERROR. */
static void test_refused_credentials(void **state)
{
    (void)state;
    NEED_SERVER();
    storage *s = open_test_server("NOT-A-KEY");
    char key[128];
    key_of(key, sizeof key, "x/y.bin");
    storage_object obj;
    assert_int_equal(do_head(s, key, false, &obj), STORAGE_ERROR);
    assert_int_equal(do_remove(s, key), STORAGE_ERROR);
    result l;
    do_list(s, run_prefix, &l);
    assert_int_equal(l.status, STORAGE_ERROR);
    close_and_drain(s);
}

/* Closing with transfers in flight: each answers STORAGE_ERROR and the loop runs dry. */
static void test_close_while_busy(void **state)
{
    (void)state;
    NEED_SERVER();
    storage *s = open_test_server(NULL);
    char sha[65], key[128];
    char *path = make_file(BIG_SIZE, sha, NULL);
    key_of(key, sizeof key, "busy/a.bin");
    assert_int_equal(do_put(s, key, path, "application/octet-stream"), STORAGE_OK);

    result h = {0}, p = {0}, l = {0};
    s->backend->head(s, key, true, on_head, &h);
    char key2[128];
    key_of(key2, sizeof key2, "busy/b.bin");
    s->backend->put_file(s, key2, path, "application/octet-stream", on_done, &p);
    s->backend->list(s, run_prefix, on_list, &l);
    uv_run(&loop, UV_RUN_NOWAIT); /* let the requests start */
    s->backend->close(s);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_true(h.called && p.called && l.called);
    /* A transfer may just have finished; most are cut short. */
    assert_true(h.status == STORAGE_ERROR || h.status == STORAGE_OK);
    result_free(&l);

    s = open_test_server(NULL);
    remove_run(s);
    close_and_drain(s);
    unlink(path);
    free(path);
}

int main(void)
{
    uint8_t rnd[6];
    char hex[13];
    if (crypto_random_bytes(rnd, sizeof rnd) != 0)
        return 1;
    crypto_hex(rnd, sizeof rnd, hex);
    snprintf(run_prefix, sizeof run_prefix, "test/%s", hex);
    curl_global_init(CURL_GLOBAL_DEFAULT); /* for the "browser" requests */

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_presign_url_shape, setup_loop, teardown_loop),
        cmocka_unit_test_setup_teardown(test_open_refuses_bad_options, setup_loop, teardown_loop),
        cmocka_unit_test_setup_teardown(test_errors_and_close_without_server, setup_loop, teardown_loop),
        cmocka_unit_test_setup_teardown(test_put_head_range_remove, setup_loop, teardown_loop),
        cmocka_unit_test_setup_teardown(test_list, setup_loop, teardown_loop),
        cmocka_unit_test_setup_teardown(test_list_pages, setup_loop, teardown_loop),
        cmocka_unit_test_setup_teardown(test_presigned, setup_loop, teardown_loop),
        cmocka_unit_test_setup_teardown(test_refused_credentials, setup_loop, teardown_loop),
        cmocka_unit_test_setup_teardown(test_close_while_busy, setup_loop, teardown_loop),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
