/* Redis rooms against a real server: set TEST_REDIS_URL, e.g. redis://127.0.0.1:6400
 * (scripts/redis-test-server.sh starts a throwaway one). Without it the server tests
 * skip. Two rooms_redis_new on one loop play two server instances sharing that Redis.
 * The reconnect test kills every client connection and runs FLUSHALL: use a Redis of
 * your own. The checks go through `redis-cli -u`, which wants a password spelled
 * redis://default:PASSWORD@host:port. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "rooms/rooms.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define INBOX_MAX 256

typedef struct {
    int count;
    char room[INBOX_MAX][64];
    char text[INBOX_MAX][64];
} inbox;

typedef struct {
    int calls;
    rooms_status status;
    int count;
    room_member members[8];
} join_result;

typedef struct {
    int calls;
    char *json; /* NULL when the answer was NULL */
} uploads_result;

static uv_loop_t loop;
static rooms *a, *b;
static inbox inbox_a, inbox_b;
static char room_seq_prefix[32];
static int room_seq;

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
    while (!(met = cond && cond(arg)) && uv_now(&loop) < deadline)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)tick, on_tick_closed);
    return met;
}

static void run_for(uint64_t ms)
{
    run_until(NULL, NULL, ms);
}

static bool both_ready(void *arg)
{
    (void)arg;
    return a->backend->is_ready(a) && b->backend->is_ready(b);
}

static bool not_ready(void *arg)
{
    rooms *r = arg;
    return !r->backend->is_ready(r);
}

/* ---------------------------------------------------------------- captures */

static void on_deliver(void *ctx, const char *room_id, const char *envelope, size_t len)
{
    inbox *box = ctx;
    if (box->count >= INBOX_MAX)
        return;
    snprintf(box->room[box->count], sizeof box->room[0], "%s", room_id);
    snprintf(box->text[box->count], sizeof box->text[0], "%.*s", (int)len, envelope);
    box->count++;
}

static int inbox_count(const inbox *box, const char *room_id, const char *text)
{
    int n = 0;
    for (int i = 0; i < box->count; i++)
        if (strcmp(box->room[i], room_id) == 0 && strcmp(box->text[i], text) == 0)
            n++;
    return n;
}

static void on_join(rooms_status status, const room_member *members, int count, void *ctx)
{
    join_result *res = ctx;
    res->calls++;
    res->status = status;
    res->count = count;
    for (int i = 0; i < count && i < 8; i++)
        res->members[i] = members[i];
}

static bool join_answered(void *arg)
{
    return ((join_result *)arg)->calls > 0;
}

static void on_uploads(const char *json, void *ctx)
{
    uploads_result *res = ctx;
    res->calls++;
    res->json = json ? strdup(json) : NULL;
}

static bool uploads_answered(void *arg)
{
    return ((uploads_result *)arg)->calls > 0;
}

/* ---------------------------------------------------------------- redis-cli */

static const char *url_or_skip(void)
{
    const char *url = getenv("TEST_REDIS_URL");
    if (!url || !*url)
        skip();
    return url;
}

/* Runs redis-cli against TEST_REDIS_URL; its standard output goes to out. */
static int redis_cli(char *out, size_t size, const char *fmt, ...)
{
    char args[512], cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "redis-cli --no-auth-warning -u '%s' %s", getenv("TEST_REDIS_URL"),
             args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = out ? fread(out, 1, size - 1, p) : 0;
    if (out)
        out[n] = '\0';
    else
        while (fgetc(p) != EOF) {
        }
    return pclose(p);
}

static bool line_present(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *s = text; (s = strstr(s, line)) != NULL; s += n)
        if ((s == text || s[-1] == '\n') && (s[n] == '\n' || s[n] == '\0'))
            return true;
    return false;
}

static long hlen(const char *room_id, const char *suffix)
{
    char out[64];
    assert_int_equal(redis_cli(out, sizeof out, "HLEN 'zc:room:{%s}:%s'", room_id, suffix), 0);
    return strtol(out, NULL, 10);
}

/* The connId of participant_id's entry, "" when there is none. */
static void entry_conn_id(const char *room_id, const char *participant_id, char *conn, size_t size)
{
    char out[1024];
    assert_int_equal(
        redis_cli(out, sizeof out, "HGET 'zc:room:{%s}:members' '%s'", room_id, participant_id), 0);
    conn[0] = '\0';
    json_t *e = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
    const char *c = json_string_value(json_object_get(e, "connId"));
    if (c)
        snprintf(conn, size, "%s", c);
    json_decref(e);
}

/* ---------------------------------------------------------------- fixtures */

static const char *new_room_id(char *buf, size_t size)
{
    snprintf(buf, size, "%s-%d", room_seq_prefix, ++room_seq);
    return buf;
}

static rooms *open_rooms(const char *url, const char *instance, inbox *box)
{
    char err[256] = "";
    rooms *r = rooms_redis_new(&loop, url, instance, err, sizeof err);
    if (!r)
        fail_msg("rooms_redis_new: %s", err);
    assert_string_equal(r->backend->name, "redis");
    memset(box, 0, sizeof *box);
    rooms_set_delivery(r, on_deliver, box);
    return r;
}

static void open_pair(void)
{
    const char *url = url_or_skip();
    if (!room_seq_prefix[0])
        snprintf(room_seq_prefix, sizeof room_seq_prefix, "t%ld-%ld", (long)getpid(),
                 (long)time(NULL));
    assert_int_equal(uv_loop_init(&loop), 0);
    a = open_rooms(url, "instance-a", &inbox_a);
    b = open_rooms(url, "instance-b", &inbox_b);
    assert_true(run_until(both_ready, NULL, 5000));
}

static void close_pair(void)
{
    a->backend->close(a);
    b->backend->close(b);
    a = b = NULL;
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_false(uv_loop_alive(&loop));
    assert_int_equal(uv_loop_close(&loop), 0);
}

static join_result join_wait(rooms *r, const char *room_id, const char *id, const char *conn_id,
                             int64_t joined_at, int max_members)
{
    room_member m;
    memset(&m, 0, sizeof m);
    snprintf(m.id, sizeof m.id, "%s", id);
    snprintf(m.name, sizeof m.name, "Name of %s", id);
    snprintf(m.role, sizeof m.role, "guest");
    snprintf(m.conn_id, sizeof m.conn_id, "%s", conn_id);
    m.joined_at = joined_at;
    static join_result res;
    memset(&res, 0, sizeof res);
    r->backend->join(r, room_id, &m, max_members, on_join, &res);
    assert_int_equal(res.calls, 0); /* never answered inside the call */
    assert_true(run_until(join_answered, &res, 5000));
    return res;
}

/* Publishes text and then a marker on from, and waits until both instances have the
 * marker: one channel, one order, so a duplicate of text would have arrived before. */
static void publish_and_settle(rooms *from, const char *room_id, const char *text)
{
    static int markers;
    char marker[32];
    snprintf(marker, sizeof marker, "marker-%d", ++markers);
    from->backend->publish(from, room_id, text, strlen(text));
    from->backend->publish(from, room_id, marker, strlen(marker));
    for (int i = 0; i < 500; i++) {
        if (inbox_count(&inbox_a, room_id, marker) && inbox_count(&inbox_b, room_id, marker))
            break;
        run_for(10);
    }
    assert_int_equal(inbox_count(&inbox_a, room_id, marker), 1);
    assert_int_equal(inbox_count(&inbox_b, room_id, marker), 1);
}

/* ---------------------------------------------------------------- no server needed */

static void test_malformed_urls_are_refused(void **state)
{
    (void)state;
    static const char *bad[] = {
        "http://127.0.0.1:6379",     "redis://",
        "redis://:hunter2@",         "redis://host:0",
        "redis://host:65536",        "redis://host:port",
        "redis://host/db",           "redis://host/0?timeout=1",
        "redis://hunter2@host",      "redis://:@host",
        "redis://:hunter2%zz@host",  "redis://ho st",
        "redis://[::1",              "redis://[::1]x",
        "rediss://host",             "",
    };
    uv_loop_t l;
    assert_int_equal(uv_loop_init(&l), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        rooms *r = rooms_redis_new(&l, bad[i], "x", err, sizeof err);
        if (r)
            fail_msg("accepted %s", bad[i]);
        assert_int_equal(strncmp(err, "REDIS_URL: ", 11), 0);
        assert_null(strstr(err, "hunter2"));
    }
    char err[256] = "";
    assert_null(rooms_redis_new(&l, NULL, "x", err, sizeof err));
    assert_int_equal(uv_loop_close(&l), 0);
}

static void test_well_formed_urls_are_taken(void **state)
{
    (void)state;
    static const char *good[] = {
        "redis://127.0.0.1:1",         "redis://localhost",
        "redis://:se%2Fcret@127.0.0.1:1/3", "redis://user:p@ss/w@127.0.0.1:1/",
        "redis://[::1]:1/0",           "REDIS://127.0.0.1:1",
    };
    assert_int_equal(uv_loop_init(&loop), 0);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char err[256] = "";
        rooms *r = rooms_redis_new(&loop, good[i], "x", err, sizeof err);
        if (!r)
            fail_msg("refused %s: %s", good[i], err);
        r->backend->close(r);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Nothing listens on port 1: every answer is "unavailable", always after the call. */
static void test_unreachable_redis_answers_later(void **state)
{
    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    inbox box;
    rooms *r = open_rooms("redis://127.0.0.1:1", "lonely", &box);
    run_for(300); /* a few refused connects and retries */
    assert_false(r->backend->is_ready(r));

    room_member m = { .id = "p1", .name = "P", .role = "host", .conn_id = "c1", .joined_at = 1 };
    join_result res = { 0 };
    r->backend->join(r, "room-1", &m, 4, on_join, &res);
    assert_int_equal(res.calls, 0);
    uploads_result up = { 0 };
    r->backend->get_upload_status(r, "room-1", on_uploads, &up);
    assert_int_equal(up.calls, 0);
    assert_true(run_until(join_answered, &res, 1000));
    assert_true(run_until(uploads_answered, &up, 1000));
    assert_int_equal(res.status, ROOMS_UNAVAILABLE);
    assert_null(up.json);

    r->backend->publish(r, "room-1", "x", 1);
    r->backend->set_upload_status(r, "room-1", "p1", "{}");
    r->backend->leave(r, "room-1", "p1", "c1");
    r->backend->remove_room(r, "room-1");
    assert_int_equal(box.count, 0); /* no member of room-1 here */

    /* An answer still pending at close runs during the close. */
    join_result late = { 0 };
    r->backend->join(r, "room-1", &m, 4, on_join, &late);
    r->backend->close(r);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(late.calls, 1);
    assert_int_equal(late.status, ROOMS_UNAVAILABLE);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A server that accepts connections and never answers: hiredis 0.14 has no timeout of
 * its own, the back end gives up on the handshake and connects again. */
typedef struct {
    uv_tcp_t listener;
    uv_tcp_t clients[8];
    int accepted;
} silent_server;

static void on_silent_connection(uv_stream_t *listener, int status)
{
    silent_server *s = listener->data;
    if (status < 0 || s->accepted >= 8)
        return;
    uv_tcp_t *c = &s->clients[s->accepted];
    uv_tcp_init(listener->loop, c);
    if (uv_accept(listener, (uv_stream_t *)c) == 0)
        s->accepted++;
    else
        uv_close((uv_handle_t *)c, NULL);
}

static bool third_connection(void *arg)
{
    return ((silent_server *)arg)->accepted >= 3;
}

static void test_silent_server_is_given_up(void **state)
{
    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    static silent_server s;
    memset(&s, 0, sizeof s);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_init(&loop, &s.listener);
    s.listener.data = &s;
    assert_int_equal(uv_tcp_bind(&s.listener, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&s.listener, 8, on_silent_connection), 0);
    struct sockaddr_in bound;
    int len = sizeof bound;
    uv_tcp_getsockname(&s.listener, (struct sockaddr *)&bound, &len);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", ntohs(bound.sin_port));

    inbox box;
    rooms *r = open_rooms(url, "patient", &box);
    /* Two connections at once (commands, subscriber), a third after the deadline. */
    assert_true(run_until(third_connection, &s, 8000));
    assert_false(r->backend->is_ready(r));

    r->backend->close(r);
    uv_close((uv_handle_t *)&s.listener, NULL);
    for (int i = 0; i < s.accepted; i++)
        uv_close((uv_handle_t *)&s.clients[i], NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---------------------------------------------------------------- with a server */

static void test_two_instances_share_a_room(void **state)
{
    (void)state;
    open_pair();
    char room[64];
    new_room_id(room, sizeof room);

    join_result ra = join_wait(a, room, "alice", "conn-a1", 1000, 8);
    assert_int_equal(ra.status, ROOMS_OK);
    assert_int_equal(ra.count, 1);
    assert_string_equal(ra.members[0].id, "alice");

    join_result rb = join_wait(b, room, "bob", "conn-b1", 2000, 8);
    assert_int_equal(rb.status, ROOMS_OK);
    assert_int_equal(rb.count, 2);
    assert_string_equal(rb.members[0].id, "alice"); /* oldest first */
    assert_string_equal(rb.members[0].name, "Name of alice");
    assert_string_equal(rb.members[0].role, "guest");
    assert_string_equal(rb.members[0].conn_id, "conn-a1");
    assert_int_equal(rb.members[0].joined_at, 1000);
    assert_string_equal(rb.members[1].id, "bob");

    /* A second connection of alice on A sees both as well. */
    ra = join_wait(a, room, "alice", "conn-a2", 1000, 8);
    assert_int_equal(ra.status, ROOMS_OK);
    assert_int_equal(ra.count, 2);
    assert_string_equal(ra.members[0].id, "alice");
    assert_string_equal(ra.members[0].conn_id, "conn-a2");
    assert_string_equal(ra.members[1].id, "bob");

    /* A name cut inside a UTF-8 sequence loses the broken tail, not the join. */
    room_member cut;
    memset(&cut, 0, sizeof cut);
    snprintf(cut.id, sizeof cut.id, "carol");
    memset(cut.name, 'c', sizeof cut.name - 2);
    cut.name[sizeof cut.name - 2] = (char)0xc3;
    snprintf(cut.conn_id, sizeof cut.conn_id, "conn-c");
    cut.joined_at = 3000;
    join_result rc = { 0 };
    b->backend->join(b, room, &cut, 8, on_join, &rc);
    assert_true(run_until(join_answered, &rc, 5000));
    assert_int_equal(rc.status, ROOMS_OK);
    assert_int_equal(rc.count, 3);
    assert_int_equal(strlen(rc.members[2].name), sizeof cut.name - 2);
    b->backend->leave(b, room, "carol", "conn-c");

    publish_and_settle(a, room, "hello from a");
    assert_int_equal(inbox_count(&inbox_a, room, "hello from a"), 1);
    assert_int_equal(inbox_count(&inbox_b, room, "hello from a"), 1);
    publish_and_settle(b, room, "hello from b");
    assert_int_equal(inbox_count(&inbox_a, room, "hello from b"), 1);
    assert_int_equal(inbox_count(&inbox_b, room, "hello from b"), 1);

    /* Another room's envelopes do not reach these members' inboxes under this room. */
    char other[64];
    new_room_id(other, sizeof other);
    a->backend->publish(a, other, "elsewhere", 9);
    publish_and_settle(a, room, "after");
    assert_int_equal(inbox_count(&inbox_a, room, "elsewhere"), 0);
    assert_int_equal(inbox_count(&inbox_b, room, "elsewhere"), 0);

    a->backend->remove_room(a, room);
    close_pair();
}

static void test_full_room_is_refused(void **state)
{
    (void)state;
    open_pair();
    char room[64];
    new_room_id(room, sizeof room);
    assert_int_equal(join_wait(a, room, "p1", "c1", 1, 2).status, ROOMS_OK);
    assert_int_equal(join_wait(b, room, "p2", "c2", 2, 2).status, ROOMS_OK);

    join_result full = join_wait(b, room, "p3", "c3", 3, 2);
    assert_int_equal(full.status, ROOMS_FULL);
    assert_int_equal(full.count, 0);
    assert_int_equal(hlen(room, "members"), 2);

    /* The joiner is not counted against itself: a reconnect into a full room works. */
    join_result again = join_wait(a, room, "p2", "c2-new", 2, 2);
    assert_int_equal(again.status, ROOMS_OK);
    assert_int_equal(again.count, 2);
    assert_int_equal(hlen(room, "members"), 2);

    a->backend->remove_room(a, room);
    run_for(100);
    assert_int_equal(hlen(room, "members"), 0);
    close_pair();
}

static void test_rejoin_replaces_and_old_leave_is_ignored(void **state)
{
    (void)state;
    open_pair();
    char room[64], conn[64];
    new_room_id(room, sizeof room);
    assert_int_equal(join_wait(a, room, "alice", "old-conn", 10, 8).status, ROOMS_OK);
    assert_int_equal(join_wait(a, room, "bob", "bob-conn", 20, 8).status, ROOMS_OK);

    /* alice reconnects through B, then A notices her old connection is gone. */
    join_result re = join_wait(b, room, "alice", "new-conn", 30, 8);
    assert_int_equal(re.status, ROOMS_OK);
    assert_int_equal(re.count, 2);
    assert_int_equal(hlen(room, "members"), 2);
    a->backend->leave(a, room, "alice", "old-conn");
    run_for(100);
    entry_conn_id(room, "alice", conn, sizeof conn);
    assert_string_equal(conn, "new-conn");
    assert_int_equal(hlen(room, "members"), 2);

    b->backend->leave(b, room, "alice", "new-conn");
    run_for(100);
    entry_conn_id(room, "alice", conn, sizeof conn);
    assert_string_equal(conn, "");
    assert_int_equal(hlen(room, "members"), 1);

    a->backend->remove_room(a, room);
    close_pair();
}

static void test_upload_status_round_trip(void **state)
{
    (void)state;
    open_pair();
    char room[64];
    new_room_id(room, sizeof room);

    uploads_result up = { 0 };
    b->backend->get_upload_status(b, room, on_uploads, &up);
    assert_int_equal(up.calls, 0);
    assert_true(run_until(uploads_answered, &up, 5000));
    assert_string_equal(up.json, "{}");
    free(up.json);

    a->backend->set_upload_status(a, room, "alice", "{\"state\":\"uploading\",\"bytes\":5}");
    a->backend->set_upload_status(a, room, "bob", "\"done\"");
    /* a's writes and b's read go over different connections: b asks until it sees them. */
    json_t *want =
        json_loads("{\"alice\":{\"state\":\"uploading\",\"bytes\":5},\"bob\":\"done\"}", 0, NULL);
    bool seen = false;
    for (int attempt = 0; attempt < 50 && !seen; attempt++) {
        memset(&up, 0, sizeof up);
        b->backend->get_upload_status(b, room, on_uploads, &up);
        assert_true(run_until(uploads_answered, &up, 5000));
        assert_non_null(up.json);
        json_t *got = json_loads(up.json, 0, NULL);
        seen = json_equal(got, want);
        json_decref(got);
        free(up.json);
        if (!seen)
            run_until(NULL, NULL, 20);
    }
    json_decref(want);
    assert_true(seen);

    char ttl[32];
    assert_int_equal(redis_cli(ttl, sizeof ttl, "PTTL 'zc:room:{%s}:uploads'", room), 0);
    assert_true(strtol(ttl, NULL, 10) > 0);

    a->backend->remove_room(a, room);
    close_pair();
}

static void test_remove_room_forgets_everything(void **state)
{
    (void)state;
    open_pair();
    char room[64], out[64];
    new_room_id(room, sizeof room);
    assert_int_equal(join_wait(a, room, "p1", "c1", 1, 8).status, ROOMS_OK);
    assert_int_equal(join_wait(b, room, "p2", "c2", 2, 8).status, ROOMS_OK);
    a->backend->set_upload_status(a, room, "p1", "{}");
    run_for(50);
    assert_int_equal(redis_cli(out, sizeof out, "PTTL 'zc:room:{%s}:members'", room), 0);
    assert_true(strtol(out, NULL, 10) > 0); /* abandoned rooms expire */

    a->backend->remove_room(a, room);
    run_for(100);
    assert_int_equal(redis_cli(out, sizeof out,
                               "EXISTS 'zc:room:{%s}:members' 'zc:room:{%s}:uploads'", room, room),
                     0);
    assert_int_equal(strtol(out, NULL, 10), 0);
    close_pair();
}

static bool probes_crossed(void *arg)
{
    const char *room = arg;
    return inbox_count(&inbox_a, room, "probe from b") > 0 &&
           inbox_count(&inbox_b, room, "probe from a") > 0;
}

static void test_reconnect_restores_presence_and_pubsub(void **state)
{
    (void)state;
    open_pair();
    char room[64], keys[1024];
    new_room_id(room, sizeof room);
    assert_int_equal(join_wait(a, room, "alice", "ca", 1, 8).status, ROOMS_OK);
    assert_int_equal(join_wait(b, room, "bob", "cb", 2, 8).status, ROOMS_OK);

    assert_int_equal(redis_cli(NULL, 0, "CLIENT KILL TYPE normal"), 0);
    assert_int_equal(redis_cli(NULL, 0, "CLIENT KILL TYPE pubsub"), 0);
    assert_int_equal(redis_cli(NULL, 0, "FLUSHALL"), 0);

    /* While A's command connection is down, its envelopes still reach its own members. */
    assert_true(run_until(not_ready, a, 5000));
    int before = inbox_count(&inbox_a, room, "during the outage");
    a->backend->publish(a, room, "during the outage", 17);
    assert_int_equal(inbox_count(&inbox_a, room, "during the outage"), before + 1);

    assert_true(run_until(both_ready, NULL, 5000));
    bool back = false;
    for (int i = 0; i < 50 && !back; i++) {
        assert_int_equal(redis_cli(keys, sizeof keys, "HKEYS 'zc:room:{%s}:members'", room), 0);
        back = line_present(keys, "alice") && line_present(keys, "bob");
        if (!back)
            run_for(100);
    }
    assert_true(back);

    /* The subscriptions come back too: probe until each side hears the other. */
    bool crossed = false;
    for (int i = 0; i < 50 && !crossed; i++) {
        a->backend->publish(a, room, "probe from a", 12);
        b->backend->publish(b, room, "probe from b", 12);
        crossed = run_until(probes_crossed, room, 100);
    }
    assert_true(crossed);
    publish_and_settle(a, room, "back from a");
    assert_int_equal(inbox_count(&inbox_a, room, "back from a"), 1);
    assert_int_equal(inbox_count(&inbox_b, room, "back from a"), 1);
    publish_and_settle(b, room, "back from b");
    assert_int_equal(inbox_count(&inbox_a, room, "back from b"), 1);
    assert_int_equal(inbox_count(&inbox_b, room, "back from b"), 1);

    a->backend->remove_room(a, room);
    close_pair();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_urls_are_refused),
        cmocka_unit_test(test_well_formed_urls_are_taken),
        cmocka_unit_test(test_unreachable_redis_answers_later),
        cmocka_unit_test(test_silent_server_is_given_up),
        cmocka_unit_test(test_two_instances_share_a_room),
        cmocka_unit_test(test_full_room_is_refused),
        cmocka_unit_test(test_rejoin_replaces_and_old_leave_is_ignored),
        cmocka_unit_test(test_upload_status_round_trip),
        cmocka_unit_test(test_remove_room_forgets_everything),
        cmocka_unit_test(test_reconnect_restores_presence_and_pubsub),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
