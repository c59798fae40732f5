/* Redis rooms: presence in Redis hashes and envelopes over pub/sub, so that several
 * server instances share their rooms.
 *
 * Two hiredis connections on the loop: one for commands and one that only subscribes
 * (a subscribed connection can run nothing else). Each reconnects on its own with
 * exponential backoff. Redis holds nothing that cannot be rebuilt: this instance keeps
 * a local table of its own connected members, refreshes their entries every HEARTBEAT_MS
 * and writes them back after a reconnect. An entry nobody refreshed for STALE_MS belongs
 * to a crashed instance and is dropped by the next join.
 *
 * Keys (the braces are a cluster hash tag: a room's keys share one slot):
 *   zc:room:{id}:members  hash participantId -> {"id","name","role","connId","instance",
 *                                                "joinedAt","seenAt"}
 *   zc:room:{id}:uploads  hash participantId -> upload status JSON
 *   zc:room:{id}          channel of the room's envelopes
 *
 * An envelope reaches this instance's members through its own subscription, like any
 * other instance's. When that path is not there (the command connection is down, or the
 * room's subscription is not confirmed yet) publish delivers locally instead. */
#include "rooms/rooms.h"
#include "log.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REDIS_DEFAULT_PORT 6379
#define REDIS_MAX_DB 1000000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define HANDSHAKE_TIMEOUT_MS 5000
#define HEARTBEAT_MS 10000
#define STALE_MS 45000
#define KEY_TTL_MS (24 * 60 * 60 * 1000)
#define SUBSCRIBE_WAIT_MS 5000
#define CLOSE_GRACE_MS 2000
#define MAX_LOCAL_MEMBERS 10000
#define MAX_ENVELOPE (256 * 1024)
#define ROOM_ID_MAX 63
#define ROOM_BUCKETS 1024
#define KEY_MAX (ROOM_ID_MAX + 32)
#define CHANNEL_PREFIX "zc:room:{"
#define MEMBER_ID_SIZE sizeof(((room_member *)0)->id)

/* Drops entries nobody refreshed in time, refuses a full room, stores the joiner and
 * returns {"ok", entry...} or {"full"}. KEYS: members, uploads. ARGV: participant id,
 * entry without seenAt, max others (0: no limit), stale ms, ttl ms. Times are Redis's
 * own clock, so instances with skewed clocks agree on staleness. */
static const char JOIN_SCRIPT[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "local others = 0\n"
    "for i = 1, #all, 2 do\n"
    "  local ok, e = pcall(cjson.decode, all[i + 1])\n"
    "  local seen = ok and type(e) == 'table' and tonumber(e.seenAt)\n"
    "  if not seen or now - seen > tonumber(ARGV[4]) then\n"
    "    redis.call('HDEL', KEYS[1], all[i])\n"
    "  elseif all[i] ~= ARGV[1] then\n"
    "    others = others + 1\n"
    "  end\n"
    "end\n"
    "local max = tonumber(ARGV[3])\n"
    "if max > 0 and others >= max then return {'full'} end\n"
    "local entry = cjson.decode(ARGV[2])\n"
    "entry.seenAt = now\n"
    "redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[5])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[5])\n"
    "local out = redis.call('HVALS', KEYS[1])\n"
    "table.insert(out, 1, 'ok')\n"
    "return out\n";

/* Heartbeat and re-registration: writes the entry with a fresh seenAt unless another
 * connection holds the participant's slot (a reconnect replaced this one). KEYS:
 * members. ARGV: participant id, entry without seenAt, ttl ms. */
static const char REFRESH_SCRIPT[] =
    "local entry = cjson.decode(ARGV[2])\n"
    "local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if cur then\n"
    "  local ok, e = pcall(cjson.decode, cur)\n"
    "  if ok and type(e) == 'table' and e.connId ~= entry.connId then return 0 end\n"
    "end\n"
    "local t = redis.call('TIME')\n"
    "entry.seenAt = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
    "return 1\n";

/* Removes the entry only if it still belongs to the leaving connection. KEYS: members.
 * ARGV: participant id, connection id. */
static const char LEAVE_SCRIPT[] =
    "local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "if not cur then return 0 end\n"
    "local ok, e = pcall(cjson.decode, cur)\n"
    "if ok and type(e) == 'table' and e.connId ~= ARGV[2] then return 0 end\n"
    "redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "return 1\n";

typedef struct rooms_redis rooms_redis;

typedef struct local_member {
    struct local_member *next;
    room_member m;
    bool accepted; /* Redis took the join: heartbeats keep the entry fresh */
} local_member;

/* A join or an upload-status request waiting for its answer. */
typedef struct op {
    struct op *next;
    rooms_redis *rr;
    rooms_join_cb join_cb; /* exactly one of the three is set */
    rooms_uploads_cb uploads_cb;
    rooms_member_cb member_cb;
    bool is_member;
    void *ctx;
    rooms_status status;
    room_member *members;
    int count;
    bool created; /* the join added this instance's record of the member */
    uint64_t waiting_since;
    char room_id[ROOM_ID_MAX + 1];
    char participant_id[MEMBER_ID_SIZE];
    char conn_id[ROOM_CONN_ID_MAX];
} op;

typedef struct room {
    struct room *next;
    local_member *members;
    int nmembers;
    int subs_inflight; /* SUBSCRIBE/UNSUBSCRIBE sent and not answered yet */
    bool last_sent_subscribe;
    bool subscribed; /* as of the last answer */
    op *waiting;     /* accepted joins waiting for the subscription */
    char id[ROOM_ID_MAX + 1];
} room;

typedef struct pending_leave {
    struct pending_leave *next;
    char room_id[ROOM_ID_MAX + 1];
    char participant_id[MEMBER_ID_SIZE];
    char conn_id[ROOM_CONN_ID_MAX];
} pending_leave;

typedef struct redis_link {
    rooms_redis *rr;
    const char *name;
    redisAsyncContext *ac;
    uv_timer_t timer; /* reconnect backoff; the handshake deadline while connecting */
    uint64_t backoff_ms;
    bool ready; /* connected, authenticated and answering */
    bool handshake_failed;
    char why[128]; /* why we dropped the context ourselves */
} redis_link;

struct rooms_redis {
    rooms base;
    uv_loop_t *loop;
    char *host;
    char *user;
    char *password;
    int port;
    int db;
    char instance_id[64];
    redis_link cmd;
    redis_link sub;
    room *buckets[ROOM_BUCKETS];
    int nlocal;              /* local_member records in all rooms */
    pending_leave *leaves;   /* leaves that could not reach Redis, sent on reconnect */
    int nleaves;
    op *deferred_head;       /* answers due on the next loop turn */
    op *deferred_tail;
    uv_idle_t answer;
    uv_timer_t heartbeat;
    uv_timer_t closer;
    int open_handles;
    int contexts;            /* hiredis contexts not freed yet */
    bool outage;             /* warned that Redis is out of reach */
    bool connected_once;
    bool closing;
    bool torn_down;
};

static void link_connect(redis_link *l);
static void link_gone(redis_link *l, redisAsyncContext *ac);
static void room_sync_subscription(rooms_redis *rr, room *rm);
static void on_channel_reply(redisAsyncContext *ac, void *reply, void *privdata);

/* ---------------------------------------------------------------- utilities */

static void set_err(char *err, size_t err_size, const char *msg)
{
    if (err && err_size)
        snprintf(err, err_size, "%s", msg);
}

static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool valid_id(const char *s, size_t size)
{
    return s && s[0] && strnlen(s, size) < size;
}

static bool valid_room_id(const char *id)
{
    return valid_id(id, ROOM_ID_MAX + 1);
}

static void room_key(char *buf, const char *room_id, const char *suffix)
{
    snprintf(buf, KEY_MAX, CHANNEL_PREFIX "%s}%s", room_id, suffix);
}

static void format_long(char *buf, size_t size, long long v)
{
    snprintf(buf, size, "%lld", v);
}

/* ---------------------------------------------------------------- answers */

static op *op_new(rooms_redis *rr, void *ctx)
{
    op *o = calloc(1, sizeof *o);
    if (!o) {
        log_error("redis: out of memory");
        return NULL;
    }
    o->rr = rr;
    o->ctx = ctx;
    o->status = ROOMS_UNAVAILABLE;
    return o;
}

static void op_answer(op *o)
{
    if (o->join_cb)
        o->join_cb(o->status, o->members, o->count, o->ctx);
    else if (o->member_cb)
        o->member_cb(o->is_member, o->ctx);
    else if (o->uploads_cb)
        o->uploads_cb(NULL, o->ctx);
    free(o->members);
    free(o);
}

static void answer_list(op *list)
{
    while (list) {
        op *next = list->next;
        op_answer(list);
        list = next;
    }
}

static void on_answer(uv_idle_t *h)
{
    rooms_redis *rr = h->data;
    op *list = rr->deferred_head;
    rr->deferred_head = rr->deferred_tail = NULL;
    uv_idle_stop(h);
    answer_list(list);
}

/* Answers on the next loop turn: never inside the caller's own call, never while we
 * walk our tables. */
static void defer(rooms_redis *rr, op *o)
{
    if (rr->torn_down) {
        op_answer(o); /* the loop turn we would wait for may never come */
        return;
    }
    o->next = NULL;
    if (rr->deferred_tail)
        rr->deferred_tail->next = o;
    else
        rr->deferred_head = o;
    rr->deferred_tail = o;
    uv_idle_start(&rr->answer, on_answer);
}

static void defer_list(rooms_redis *rr, op *list)
{
    while (list) {
        op *next = list->next;
        defer(rr, list);
        list = next;
    }
}

/* ---------------------------------------------------------------- local table */

static unsigned bucket_of(const char *id)
{
    unsigned h = 5381;
    while (*id)
        h = h * 33 + (unsigned char)*id++;
    return h % ROOM_BUCKETS;
}

static room **room_slot(rooms_redis *rr, const char *id)
{
    room **slot = &rr->buckets[bucket_of(id)];
    while (*slot && strcmp((*slot)->id, id) != 0)
        slot = &(*slot)->next;
    return slot;
}

static room *room_find(rooms_redis *rr, const char *id)
{
    return *room_slot(rr, id);
}

static room *room_get(rooms_redis *rr, const char *id)
{
    room **slot = room_slot(rr, id);
    if (*slot)
        return *slot;
    room *rm = calloc(1, sizeof *rm);
    if (!rm)
        return NULL;
    copy_str(rm->id, sizeof rm->id, id);
    *slot = rm;
    return rm;
}

static bool room_confirmed(const room *rm)
{
    return rm->subs_inflight == 0 && rm->subscribed;
}

static op *room_take_waiting(room *rm)
{
    op *list = rm->waiting;
    rm->waiting = NULL;
    return list;
}

static void room_add_waiting(room *rm, op *o)
{
    op **tail = &rm->waiting;
    while (*tail)
        tail = &(*tail)->next;
    o->next = NULL;
    *tail = o;
}

static void room_release_if_unused(rooms_redis *rr, room *rm)
{
    if (rm->nmembers || rm->subs_inflight || rm->waiting)
        return;
    room **slot = room_slot(rr, rm->id);
    *slot = rm->next;
    free(rm);
}

/* After members came or went: fix the subscription, answer joins that no longer need
 * to wait, forget the room when nothing refers to it. */
static void room_changed(rooms_redis *rr, room *rm)
{
    room_sync_subscription(rr, rm);
    if (rm->nmembers == 0 || room_confirmed(rm) || !rr->sub.ready)
        defer_list(rr, room_take_waiting(rm));
    room_release_if_unused(rr, rm);
}

static local_member *member_find(room *rm, const char *participant_id, const char *conn_id)
{
    for (local_member *lm = rm->members; lm; lm = lm->next)
        if (strcmp(lm->m.id, participant_id) == 0 && strcmp(lm->m.conn_id, conn_id) == 0)
            return lm;
    return NULL;
}

static void member_unlink(rooms_redis *rr, room *rm, local_member **slot)
{
    local_member *lm = *slot;
    *slot = lm->next;
    free(lm);
    rm->nmembers--;
    rr->nlocal--;
}

static bool member_remove(rooms_redis *rr, room *rm, const char *participant_id,
                          const char *conn_id)
{
    for (local_member **p = &rm->members; *p; p = &(*p)->next) {
        if (strcmp((*p)->m.id, participant_id) == 0 && strcmp((*p)->m.conn_id, conn_id) == 0) {
            member_unlink(rr, rm, p);
            return true;
        }
    }
    return false;
}

/* The participant joined again from another connection: its older ones are gone. */
static void members_drop_replaced(rooms_redis *rr, room *rm, const char *participant_id,
                                  const char *keep_conn_id)
{
    local_member **p = &rm->members;
    while (*p) {
        if (strcmp((*p)->m.id, participant_id) == 0 && strcmp((*p)->m.conn_id, keep_conn_id) != 0)
            member_unlink(rr, rm, p);
        else
            p = &(*p)->next;
    }
}

/* Records m as connected here; *created tells whether the record is new. NULL when the
 * instance already holds MAX_LOCAL_MEMBERS or memory ran out. */
static local_member *member_add(rooms_redis *rr, const char *room_id, const room_member *m,
                                bool *created)
{
    room *rm = room_find(rr, room_id);
    local_member *lm = rm ? member_find(rm, m->id, m->conn_id) : NULL;
    *created = false;
    if (lm) {
        lm->m = *m;
        return lm;
    }
    if (rr->nlocal >= MAX_LOCAL_MEMBERS)
        return NULL;
    rm = room_get(rr, room_id);
    lm = rm ? calloc(1, sizeof *lm) : NULL;
    if (!lm) {
        if (rm)
            room_release_if_unused(rr, rm);
        log_error("redis: out of memory");
        return NULL;
    }
    lm->m = *m;
    lm->next = rm->members;
    rm->members = lm;
    rm->nmembers++;
    rr->nlocal++;
    *created = true;
    room_sync_subscription(rr, rm);
    return lm;
}

/* Returns the joins that were waiting, for the caller to answer. */
static op *free_local_table(rooms_redis *rr)
{
    op *waiting = NULL;
    for (int i = 0; i < ROOM_BUCKETS; i++) {
        while (rr->buckets[i]) {
            room *rm = rr->buckets[i];
            rr->buckets[i] = rm->next;
            while (rm->members)
                member_unlink(rr, rm, &rm->members);
            while (rm->waiting) {
                op *o = rm->waiting;
                rm->waiting = o->next;
                o->next = waiting;
                waiting = o;
            }
            free(rm);
        }
    }
    while (rr->leaves) {
        pending_leave *pl = rr->leaves;
        rr->leaves = pl->next;
        free(pl);
    }
    rr->nleaves = 0;
    return waiting;
}

/* ---------------------------------------------------------------- member entries */

/* A name cut to fit its buffer may end inside a UTF-8 sequence, which jansson refuses:
 * drop that broken tail rather than the whole join. */
static json_t *json_text(const char *s)
{
    size_t n = strlen(s);
    for (size_t cut = 0; cut <= 3 && cut <= n; cut++) {
        json_t *v = json_stringn(s, n - cut);
        if (v)
            return v;
    }
    return json_string("");
}

static char *member_entry_json(rooms_redis *rr, const room_member *m)
{
    json_t *e = json_object();
    if (!e)
        return NULL;
    json_object_set_new(e, "id", json_text(m->id));
    json_object_set_new(e, "name", json_text(m->name));
    json_object_set_new(e, "role", json_text(m->role));
    json_object_set_new(e, "connId", json_text(m->conn_id));
    json_object_set_new(e, "instance", json_text(rr->instance_id));
    json_object_set_new(e, "joinedAt", json_integer(m->joined_at));
    char *text = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    return text;
}

static int64_t json_epoch_ms(const json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v);
    double d = json_number_value(v);
    return d > -9e15 && d < 9e15 ? (int64_t)d : 0;
}

static int parse_member(const char *text, room_member *out)
{
    json_t *e = json_loads(text, 0, NULL);
    const char *id = json_string_value(json_object_get(e, "id"));
    const char *conn_id = json_string_value(json_object_get(e, "connId"));
    if (!id || !conn_id) {
        json_decref(e);
        return -1;
    }
    memset(out, 0, sizeof *out);
    copy_str(out->id, sizeof out->id, id);
    copy_str(out->name, sizeof out->name, json_string_value(json_object_get(e, "name")));
    copy_str(out->role, sizeof out->role, json_string_value(json_object_get(e, "role")));
    copy_str(out->conn_id, sizeof out->conn_id, conn_id);
    out->joined_at = json_epoch_ms(json_object_get(e, "joinedAt"));
    json_decref(e);
    return 0;
}

static int compare_members(const void *a, const void *b)
{
    const room_member *x = a, *y = b;
    if (x->joined_at != y->joined_at)
        return x->joined_at < y->joined_at ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The join script's answer after "ok": one entry per member. */
static int parse_members(op *o, const redisReply *r)
{
    o->members = calloc(r->elements, sizeof *o->members);
    if (!o->members)
        return -1;
    for (size_t i = 1; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type == REDIS_REPLY_STRING && parse_member(e->str, &o->members[o->count]) == 0)
            o->count++;
    }
    qsort(o->members, (size_t)o->count, sizeof *o->members, compare_members);
    return 0;
}

/* ---------------------------------------------------------------- commands */

static void on_reply_logged(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    const redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR)
        log_warn("redis: %s failed: %s", (const char *)privdata, r->str);
}

static int command(rooms_redis *rr, redisCallbackFn *fn, void *privdata, int argc,
                   const char **argv, const size_t *argvlen)
{
    if (!rr->cmd.ready || !rr->cmd.ac)
        return -1;
    return redisAsyncCommandArgv(rr->cmd.ac, fn, privdata, argc, argv, argvlen) == REDIS_OK ? 0
                                                                                              : -1;
}

static int send_refresh(rooms_redis *rr, const char *room_id, const room_member *m)
{
    char *entry = member_entry_json(rr, m);
    if (!entry)
        return -1;
    char key[KEY_MAX], ttl[24];
    room_key(key, room_id, ":members");
    format_long(ttl, sizeof ttl, KEY_TTL_MS);
    const char *argv[] = { "EVAL", REFRESH_SCRIPT, "1", key, m->id, entry, ttl };
    int rc = command(rr, on_reply_logged, "refresh", 7, argv, NULL);
    free(entry);
    return rc;
}

static void refresh_members(rooms_redis *rr)
{
    for (int i = 0; i < ROOM_BUCKETS; i++)
        for (room *rm = rr->buckets[i]; rm; rm = rm->next)
            for (local_member *lm = rm->members; lm; lm = lm->next)
                if (lm->accepted && send_refresh(rr, rm->id, &lm->m) != 0)
                    return;
}

static int send_leave(rooms_redis *rr, const char *room_id, const char *participant_id,
                      const char *conn_id)
{
    char key[KEY_MAX];
    room_key(key, room_id, ":members");
    const char *argv[] = { "EVAL", LEAVE_SCRIPT, "1", key, participant_id, conn_id };
    return command(rr, on_reply_logged, "leave", 6, argv, NULL);
}

static void remember_leave(rooms_redis *rr, const char *room_id, const char *participant_id,
                           const char *conn_id)
{
    if (rr->nleaves >= MAX_LOCAL_MEMBERS)
        return;
    pending_leave *pl = calloc(1, sizeof *pl);
    if (!pl)
        return;
    copy_str(pl->room_id, sizeof pl->room_id, room_id);
    copy_str(pl->participant_id, sizeof pl->participant_id, participant_id);
    copy_str(pl->conn_id, sizeof pl->conn_id, conn_id);
    pl->next = rr->leaves;
    rr->leaves = pl;
    rr->nleaves++;
}

static void send_pending_leaves(rooms_redis *rr)
{
    pending_leave *list = rr->leaves;
    rr->leaves = NULL;
    rr->nleaves = 0;
    while (list) {
        pending_leave *pl = list;
        list = pl->next;
        if (send_leave(rr, pl->room_id, pl->participant_id, pl->conn_id) != 0)
            remember_leave(rr, pl->room_id, pl->participant_id, pl->conn_id);
        free(pl);
    }
}

/* ---------------------------------------------------------------- subscriptions */

/* What the server will hold once every SUBSCRIBE/UNSUBSCRIBE in flight is answered. */
static bool room_will_be_subscribed(const room *rm)
{
    return rm->subs_inflight > 0 ? rm->last_sent_subscribe : rm->subscribed;
}

/* Subscribes while the room has members here, unsubscribes when it has none. hiredis
 * keeps one callback per channel and delivers every (un)subscribe answer to it as long
 * as the two commands alternate, which this guarantees. */
static void room_sync_subscription(rooms_redis *rr, room *rm)
{
    bool want = rm->nmembers > 0;
    if (!rr->sub.ready || rr->closing || want == room_will_be_subscribed(rm))
        return;
    char channel[KEY_MAX];
    room_key(channel, rm->id, "");
    const char *argv[] = { want ? "SUBSCRIBE" : "UNSUBSCRIBE", channel };
    if (redisAsyncCommandArgv(rr->sub.ac, on_channel_reply, rr, 2, argv, NULL) != REDIS_OK) {
        /* Only a context on its way out refuses; the reconnect subscribes afresh. */
        return;
    }
    rm->subs_inflight++;
    rm->last_sent_subscribe = want;
}

static void resubscribe_rooms(rooms_redis *rr)
{
    for (int i = 0; i < ROOM_BUCKETS; i++)
        for (room *rm = rr->buckets[i]; rm; rm = rm->next)
            room_sync_subscription(rr, rm);
}

static void subscription_answered(rooms_redis *rr, const char *room_id, bool subscribed)
{
    room *rm = room_find(rr, room_id);
    if (!rm || rm->subs_inflight == 0 || --rm->subs_inflight > 0)
        return;
    rm->subscribed = subscribed;
    room_sync_subscription(rr, rm);
    op *ready = NULL;
    if (room_confirmed(rm) || rm->nmembers == 0)
        ready = room_take_waiting(rm);
    room_release_if_unused(rr, rm);
    answer_list(ready);
}

/* The subscriber connection went away, and with it every subscription. */
static void subscriptions_lost(rooms_redis *rr)
{
    for (int i = 0; i < ROOM_BUCKETS; i++) {
        room **p = &rr->buckets[i];
        while (*p) {
            room *rm = *p;
            rm->subs_inflight = 0;
            rm->subscribed = false;
            defer_list(rr, room_take_waiting(rm));
            if (rm->nmembers == 0) {
                *p = rm->next;
                free(rm);
            } else {
                p = &rm->next;
            }
        }
    }
}

static bool room_of_channel(const redisReply *ch, char *id, size_t size)
{
    size_t prefix = strlen(CHANNEL_PREFIX);
    if (ch->type != REDIS_REPLY_STRING || ch->len <= prefix + 1 ||
        memcmp(ch->str, CHANNEL_PREFIX, prefix) != 0 || ch->str[ch->len - 1] != '}')
        return false;
    size_t n = ch->len - prefix - 1;
    if (n >= size)
        return false;
    memcpy(id, ch->str + prefix, n);
    id[n] = '\0';
    return true;
}

/* Every answer on a subscribed channel: (un)subscribe confirmations and messages. A NULL
 * reply means the context is going away; link_gone deals with that. */
static void on_channel_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    rooms_redis *rr = privdata;
    const redisReply *r = reply;
    char room_id[ROOM_ID_MAX + 1];
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        !room_of_channel(r->element[1], room_id, sizeof room_id))
        return;
    const char *kind = r->element[0]->str;
    const redisReply *payload = r->element[2];
    if (strcmp(kind, "message") == 0) {
        if (payload->type == REDIS_REPLY_STRING && rr->base.deliver && !rr->closing)
            rr->base.deliver(rr->base.deliver_ctx, room_id, payload->str, payload->len);
    } else if (strcmp(kind, "subscribe") == 0) {
        subscription_answered(rr, room_id, true);
    } else if (strcmp(kind, "unsubscribe") == 0) {
        subscription_answered(rr, room_id, false);
    }
}

/* ---------------------------------------------------------------- connections */

/* The 0.14 adapter ignores poll errors (status < 0): a refused connect or a reset
 * connection would leave the context hanging for ever. These hooks replace its own so
 * that hiredis meets the error on its next read or write and gives up the context. */
static void on_poll(uv_poll_t *h, int status, int events)
{
    redisLibuvEvents *p = h->data;
    if (status < 0)
        events = p->events;
    if (p->context && (events & UV_READABLE))
        redisAsyncHandleRead(p->context);
    if (p->context && (events & UV_WRITABLE))
        redisAsyncHandleWrite(p->context);
}

static void poll_update(redisLibuvEvents *p)
{
    if (p->events)
        uv_poll_start(&p->handle, p->events, on_poll);
    else
        uv_poll_stop(&p->handle);
}

static void poll_add_read(void *privdata)
{
    redisLibuvEvents *p = privdata;
    p->events |= UV_READABLE;
    poll_update(p);
}

static void poll_del_read(void *privdata)
{
    redisLibuvEvents *p = privdata;
    p->events &= ~UV_READABLE;
    poll_update(p);
}

static void poll_add_write(void *privdata)
{
    redisLibuvEvents *p = privdata;
    p->events |= UV_WRITABLE;
    poll_update(p);
}

static void poll_del_write(void *privdata)
{
    redisLibuvEvents *p = privdata;
    p->events &= ~UV_WRITABLE;
    poll_update(p);
}

/* hiredis calls this once per context, after the NULL replies of a dying context and
 * before freeing it: past this point no callback of that context runs. */
static void poll_cleanup(void *privdata)
{
    redisLibuvEvents *p = privdata;
    redisAsyncContext *ac = p->context;
    redisLibuvCleanup(privdata);
    if (ac)
        link_gone(ac->data, ac);
}

static int link_attach(redis_link *l, redisAsyncContext *ac)
{
    if (redisLibuvAttach(ac, l->rr->loop) != REDIS_OK) {
        /* A failed attach leaves the adapter's hooks set without their state. */
        memset(&ac->ev, 0, sizeof ac->ev);
        return -1;
    }
    ac->ev.addRead = poll_add_read;
    ac->ev.delRead = poll_del_read;
    ac->ev.addWrite = poll_add_write;
    ac->ev.delWrite = poll_del_write;
    ac->ev.cleanup = poll_cleanup;
    ac->data = l;
    l->ac = ac;
    l->rr->contexts++;
    redisEnableKeepAlive(&ac->c);
    return 0;
}

static void note_outage(rooms_redis *rr, const redis_link *l, bool was_ready, const char *why)
{
    if (rr->outage || rr->closing)
        return;
    rr->outage = true;
    if (was_ready)
        log_warn("redis: lost the %s connection to %s:%d (%s); reconnecting", l->name, rr->host,
                 rr->port, why);
    else
        log_warn("redis: cannot connect to %s:%d (%s); retrying", rr->host, rr->port, why);
}

static void on_link_timer(uv_timer_t *t);

static void link_retry_later(redis_link *l)
{
    uv_timer_start(&l->timer, on_link_timer, l->backoff_ms, 0);
    l->backoff_ms *= 2;
    if (l->backoff_ms > BACKOFF_MAX_MS)
        l->backoff_ms = BACKOFF_MAX_MS;
}

static void on_link_timer(uv_timer_t *t)
{
    redis_link *l = t->data;
    if (l->ac) {
        /* hiredis 0.14 has no connect timeout: give up on a silent server ourselves. */
        snprintf(l->why, sizeof l->why, "no answer within %d ms", HANDSHAKE_TIMEOUT_MS);
        redisAsyncFree(l->ac);
        return;
    }
    link_connect(l);
}

static void link_ready(redis_link *l)
{
    rooms_redis *rr = l->rr;
    uv_timer_stop(&l->timer);
    l->ready = true;
    l->backoff_ms = BACKOFF_MIN_MS;
    if (rr->closing)
        return;
    if (l == &rr->cmd) {
        send_pending_leaves(rr);
        refresh_members(rr);
    } else {
        resubscribe_rooms(rr);
    }
    if (rr->cmd.ready && rr->sub.ready && (rr->outage || !rr->connected_once)) {
        log_info("redis: %s %s:%d", rr->connected_once ? "reconnected to" : "connected to",
                 rr->host, rr->port);
        rr->outage = false;
        rr->connected_once = true;
    }
}

static void handshake_fail(redis_link *l, redisAsyncContext *ac, const char *why)
{
    if (l->handshake_failed)
        return;
    l->handshake_failed = true;
    copy_str(l->why, sizeof l->why, why);
    redisAsyncDisconnect(ac);
}

static void on_handshake_step(redisAsyncContext *ac, void *reply, void *privdata)
{
    const redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR)
        handshake_fail(privdata, ac, r->str);
}

static void on_handshake_done(redisAsyncContext *ac, void *reply, void *privdata)
{
    redis_link *l = privdata;
    const redisReply *r = reply;
    if (!r || l->handshake_failed)
        return;
    if (r->type == REDIS_REPLY_ERROR)
        handshake_fail(l, ac, r->str);
    else
        link_ready(l);
}

/* hiredis notices the connection only once something is written, so the handshake
 * always ends with a PING; the link is ready when it answers. */
static int link_send_handshake(redis_link *l)
{
    rooms_redis *rr = l->rr;
    redisAsyncContext *ac = l->ac;
    if (rr->password) {
        const char *argv[] = { "AUTH", rr->user ? rr->user : rr->password, rr->password };
        int argc = rr->user ? 3 : 2;
        if (redisAsyncCommandArgv(ac, on_handshake_step, l, argc, argv, NULL) != REDIS_OK)
            return -1;
    }
    if (l == &rr->cmd && rr->db != 0 &&
        redisAsyncCommand(ac, on_handshake_step, l, "SELECT %d", rr->db) != REDIS_OK)
        return -1;
    return redisAsyncCommand(ac, on_handshake_done, l, "PING") == REDIS_OK ? 0 : -1;
}

static void link_connect(redis_link *l)
{
    rooms_redis *rr = l->rr;
    l->handshake_failed = false;
    l->why[0] = '\0';
    redisAsyncContext *ac = redisAsyncConnect(rr->host, rr->port);
    if (!ac || ac->err || link_attach(l, ac) != 0) {
        char why[128];
        copy_str(why, sizeof why,
                 !ac ? "out of memory" : ac->err ? ac->errstr : "cannot watch the socket");
        if (ac)
            redisAsyncFree(ac);
        note_outage(rr, l, false, why);
        link_retry_later(l);
        return;
    }
    if (link_send_handshake(l) != 0) {
        snprintf(l->why, sizeof l->why, "cannot send the handshake");
        redisAsyncFree(ac);
        return;
    }
    uv_timer_start(&l->timer, on_link_timer, HANDSHAKE_TIMEOUT_MS, 0);
}

static void close_handle(rooms_redis *rr, uv_handle_t *h);

static void finish_close_if_done(rooms_redis *rr)
{
    if (rr->closing && rr->torn_down && rr->contexts == 0 &&
        !uv_is_closing((uv_handle_t *)&rr->closer))
        close_handle(rr, (uv_handle_t *)&rr->closer);
}

static void link_gone(redis_link *l, redisAsyncContext *ac)
{
    rooms_redis *rr = l->rr;
    if (l->ac != ac)
        return;
    bool was_ready = l->ready;
    l->ac = NULL;
    l->ready = false;
    rr->contexts--;
    if (rr->closing) {
        finish_close_if_done(rr);
        return;
    }
    const char *why = l->why[0] ? l->why : ac->err && ac->errstr ? ac->errstr : "connection closed";
    note_outage(rr, l, was_ready, why);
    link_retry_later(l);
    if (l == &rr->sub)
        subscriptions_lost(rr);
}

/* ---------------------------------------------------------------- handles and close */

static void rr_free(rooms_redis *rr)
{
    free(rr->host);
    free(rr->user);
    free(rr->password);
    free(rr);
}

static void on_handle_closed(uv_handle_t *h)
{
    rooms_redis *rr = h->data;
    if (--rr->open_handles == 0)
        rr_free(rr);
}

static void close_handle(rooms_redis *rr, uv_handle_t *h)
{
    h->data = rr;
    uv_close(h, on_handle_closed);
}

static void link_shutdown(redis_link *l)
{
    if (!l->ac)
        return;
    if (l->ready)
        redisAsyncDisconnect(l->ac); /* lets the replies in flight (leaves) arrive */
    else
        redisAsyncFree(l->ac);
}

/* Runs from a timer, never inside a hiredis callback, so contexts can be freed here. */
static void teardown(rooms_redis *rr)
{
    rr->torn_down = true;
    op *pending = rr->deferred_head;
    rr->deferred_head = rr->deferred_tail = NULL;
    op *waiting = free_local_table(rr);
    close_handle(rr, (uv_handle_t *)&rr->answer);
    close_handle(rr, (uv_handle_t *)&rr->heartbeat);
    close_handle(rr, (uv_handle_t *)&rr->cmd.timer);
    close_handle(rr, (uv_handle_t *)&rr->sub.timer);
    link_shutdown(&rr->cmd);
    link_shutdown(&rr->sub);
    answer_list(pending);
    answer_list(waiting);
}

static void on_closer(uv_timer_t *t)
{
    rooms_redis *rr = t->data;
    if (!rr->torn_down) {
        teardown(rr);
    } else {
        /* A graceful disconnect did not finish in time. */
        if (rr->cmd.ac)
            redisAsyncFree(rr->cmd.ac);
        if (rr->sub.ac)
            redisAsyncFree(rr->sub.ac);
    }
    if (rr->contexts > 0)
        uv_timer_start(&rr->closer, on_closer, CLOSE_GRACE_MS, 0);
    else
        finish_close_if_done(rr);
}

static void on_heartbeat(uv_timer_t *t)
{
    rooms_redis *rr = t->data;
    refresh_members(rr);
    /* A SUBSCRIBE that never got its answer must not hold a join for ever. */
    uint64_t now = uv_now(rr->loop);
    for (int i = 0; i < ROOM_BUCKETS; i++) {
        for (room *rm = rr->buckets[i]; rm; rm = rm->next) {
            op **p = &rm->waiting;
            while (*p) {
                op *o = *p;
                if (now - o->waiting_since < SUBSCRIBE_WAIT_MS) {
                    p = &o->next;
                    continue;
                }
                *p = o->next;
                defer(rr, o);
            }
        }
    }
}

/* ---------------------------------------------------------------- backend */

static void join_finish(rooms_redis *rr, op *o)
{
    room *rm = room_find(rr, o->room_id);
    local_member *lm = rm ? member_find(rm, o->participant_id, o->conn_id) : NULL;
    if (!lm) {
        op_answer(o); /* the connection left meanwhile, or the room was removed */
        return;
    }
    if (o->status != ROOMS_OK) {
        if (o->created) {
            member_remove(rr, rm, o->participant_id, o->conn_id);
            room_changed(rr, rm);
        }
        op_answer(o);
        return;
    }
    lm->accepted = true;
    members_drop_replaced(rr, rm, o->participant_id, o->conn_id);
    room_sync_subscription(rr, rm);
    if (!rr->sub.ready || room_confirmed(rm)) {
        op_answer(o);
        return;
    }
    /* From the answer on, the caller expects the room's envelopes to arrive. */
    o->waiting_since = uv_now(rr->loop);
    room_add_waiting(rm, o);
}

static rooms_status join_status(op *o, const redisReply *r)
{
    if (!r)
        return ROOMS_UNAVAILABLE;
    if (r->type == REDIS_REPLY_ERROR) {
        log_warn("redis: join failed: %s", r->str);
        return ROOMS_UNAVAILABLE;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_STRING) {
        log_warn("redis: join: unexpected answer");
        return ROOMS_UNAVAILABLE;
    }
    if (strcmp(r->element[0]->str, "full") == 0)
        return ROOMS_FULL;
    return parse_members(o, r) == 0 ? ROOMS_OK : ROOMS_UNAVAILABLE;
}

static void on_join_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    op *o = privdata;
    o->status = join_status(o, reply);
    join_finish(o->rr, o);
}

static int send_join(rooms_redis *rr, op *o, const room_member *m, int max_members)
{
    char *entry = member_entry_json(rr, m);
    if (!entry)
        return -1;
    char members_key[KEY_MAX], uploads_key[KEY_MAX], max[24], stale[24], ttl[24];
    room_key(members_key, o->room_id, ":members");
    room_key(uploads_key, o->room_id, ":uploads");
    format_long(max, sizeof max, max_members > 0 ? max_members : 0);
    format_long(stale, sizeof stale, STALE_MS);
    format_long(ttl, sizeof ttl, KEY_TTL_MS);
    const char *argv[] = { "EVAL", JOIN_SCRIPT, "2", members_key, uploads_key,
                           m->id, entry, max, stale, ttl };
    int rc = command(rr, on_join_reply, o, 10, argv, NULL);
    free(entry);
    return rc;
}

static void member_copy(room_member *dst, const room_member *src)
{
    memset(dst, 0, sizeof *dst);
    copy_str(dst->id, sizeof dst->id, src->id);
    copy_str(dst->name, sizeof dst->name, src->name);
    copy_str(dst->role, sizeof dst->role, src->role);
    copy_str(dst->conn_id, sizeof dst->conn_id, src->conn_id);
    dst->joined_at = src->joined_at;
}

static void redis_join(rooms *self, const char *room_id, const room_member *m, int max_members,
                       rooms_join_cb cb, void *ctx)
{
    rooms_redis *rr = self->impl;
    if (rr->closing || !cb)
        return;
    op *o = op_new(rr, ctx);
    if (!o)
        return;
    o->join_cb = cb;
    if (!valid_room_id(room_id) || !m) {
        defer(rr, o);
        return;
    }
    room_member copy;
    member_copy(&copy, m);
    copy_str(o->room_id, sizeof o->room_id, room_id);
    copy_str(o->participant_id, sizeof o->participant_id, copy.id);
    copy_str(o->conn_id, sizeof o->conn_id, copy.conn_id);
    room *rm = room_find(rr, room_id);
    bool known = rm && member_find(rm, copy.id, copy.conn_id);
    if (!known && rr->nlocal >= MAX_LOCAL_MEMBERS) {
        log_warn("redis: this instance already holds %d room members; join refused",
                 MAX_LOCAL_MEMBERS);
        defer(rr, o);
        return;
    }
    if (!copy.id[0] || !copy.conn_id[0] || send_join(rr, o, &copy, max_members) != 0) {
        defer(rr, o);
        return;
    }
    /* Recorded now, not on the answer, so that a leave arriving meanwhile wins. */
    member_add(rr, room_id, &copy, &o->created);
}

static void redis_leave(rooms *self, const char *room_id, const char *participant_id,
                        const char *conn_id)
{
    rooms_redis *rr = self->impl;
    if (rr->closing || !valid_room_id(room_id) || !valid_id(participant_id, MEMBER_ID_SIZE) ||
        !valid_id(conn_id, ROOM_CONN_ID_MAX))
        return;
    room *rm = room_find(rr, room_id);
    if (rm && member_remove(rr, rm, participant_id, conn_id))
        room_changed(rr, rm);
    if (send_leave(rr, room_id, participant_id, conn_id) != 0)
        remember_leave(rr, room_id, participant_id, conn_id);
}

static void redis_publish(rooms *self, const char *room_id, const char *envelope, size_t len)
{
    rooms_redis *rr = self->impl;
    if (rr->closing || !valid_room_id(room_id) || !envelope)
        return;
    if (len > MAX_ENVELOPE) {
        log_warn("redis: dropped an envelope of %zu bytes (limit %d)", len, MAX_ENVELOPE);
        return;
    }
    char channel[KEY_MAX];
    room_key(channel, room_id, "");
    const char *argv[] = { "PUBLISH", channel, envelope };
    const size_t argvlen[] = { 7, strlen(channel), len };
    bool published = command(rr, on_reply_logged, "PUBLISH", 3, argv, argvlen) == 0;
    room *rm = room_find(rr, room_id);
    /* Our subscription brings the envelope back; without it, hand it over ourselves so
     * the room's members here keep talking through an outage. Nothing is queued. */
    if (rm && rm->nmembers > 0 && (!published || !rr->sub.ready || !room_confirmed(rm)) &&
        rr->base.deliver)
        rr->base.deliver(rr->base.deliver_ctx, room_id, envelope, len);
}

static void redis_set_upload_status(rooms *self, const char *room_id, const char *participant_id,
                                    const char *status_json)
{
    rooms_redis *rr = self->impl;
    if (rr->closing || !valid_room_id(room_id) || !valid_id(participant_id, MEMBER_ID_SIZE) ||
        !status_json || strnlen(status_json, MAX_ENVELOPE + 1) > MAX_ENVELOPE)
        return;
    char key[KEY_MAX], ttl[24];
    room_key(key, room_id, ":uploads");
    format_long(ttl, sizeof ttl, KEY_TTL_MS);
    const char *hset[] = { "HSET", key, participant_id, status_json };
    const char *expire[] = { "PEXPIRE", key, ttl };
    if (command(rr, on_reply_logged, "HSET uploads", 4, hset, NULL) == 0)
        command(rr, on_reply_logged, "PEXPIRE uploads", 3, expire, NULL);
    else
        log_debug("redis: upload status of %s not stored: Redis is unavailable", participant_id);
}

/* {participantId: status} from HGETALL's field/value pairs; statuses that are not JSON
 * are left out. */
static char *uploads_json(const redisReply *r)
{
    json_t *all = json_object();
    if (!all)
        return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *field = r->element[i], *value = r->element[i + 1];
        if (field->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING)
            continue;
        json_t *v = json_loadb(value->str, value->len, JSON_DECODE_ANY, NULL);
        if (v)
            json_object_set_new(all, field->str, v);
    }
    char *text = json_dumps(all, JSON_COMPACT);
    json_decref(all);
    return text;
}

static void on_uploads_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    op *o = privdata;
    const redisReply *r = reply;
    char *text = NULL;
    if (r && r->type == REDIS_REPLY_ARRAY)
        text = uploads_json(r);
    else if (r && r->type == REDIS_REPLY_ERROR)
        log_warn("redis: HGETALL uploads failed: %s", r->str);
    o->uploads_cb(text, o->ctx);
    free(text);
    free(o);
}

/* Sends cmd on room_id's key <suffix> (and field, when not NULL) for o; o is answered empty,
 * on the next loop turn, for a bad room id or while Redis is away. */
static void read_room_key(rooms_redis *rr, op *o, const char *room_id, const char *cmd, const char *suffix,
                          const char *field, redisCallbackFn *on_reply)
{
    if (!valid_room_id(room_id)) {
        defer(rr, o);
        return;
    }
    char key[KEY_MAX];
    room_key(key, room_id, suffix);
    const char *argv[] = { cmd, key, field };
    if (command(rr, on_reply, o, field ? 3 : 2, argv, NULL) != 0)
        defer(rr, o);
}

static void redis_get_upload_status(rooms *self, const char *room_id, rooms_uploads_cb cb,
                                    void *ctx)
{
    rooms_redis *rr = self->impl;
    if (rr->closing || !cb)
        return;
    op *o = op_new(rr, ctx);
    if (!o)
        return;
    o->uploads_cb = cb;
    read_room_key(rr, o, room_id, "HGETALL", ":uploads", NULL, on_uploads_reply);
}

static void on_member_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    op *o = privdata;
    const redisReply *r = reply;
    o->is_member = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    op_answer(o);
}

static void redis_is_member(rooms *self, const char *room_id, const char *participant_id, rooms_member_cb cb,
                            void *ctx)
{
    rooms_redis *rr = self->impl;
    if (rr->closing || !cb)
        return;
    op *o = op_new(rr, ctx);
    if (!o)
        return;
    o->member_cb = cb;
    read_room_key(rr, o, room_id, "HEXISTS", ":members", participant_id, on_member_reply);
}

static void redis_remove_room(rooms *self, const char *room_id)
{
    rooms_redis *rr = self->impl;
    if (rr->closing || !valid_room_id(room_id))
        return;
    room *rm = room_find(rr, room_id);
    if (rm) {
        while (rm->members)
            member_unlink(rr, rm, &rm->members);
        room_changed(rr, rm);
    }
    char members_key[KEY_MAX], uploads_key[KEY_MAX];
    room_key(members_key, room_id, ":members");
    room_key(uploads_key, room_id, ":uploads");
    const char *argv[] = { "DEL", members_key, uploads_key };
    command(rr, on_reply_logged, "DEL room", 3, argv, NULL);
}

static bool redis_is_ready(rooms *self)
{
    rooms_redis *rr = self->impl;
    return !rr->closing && rr->cmd.ready;
}

static void redis_close(rooms *self)
{
    rooms_redis *rr = self->impl;
    if (rr->closing)
        return;
    rr->closing = true;
    uv_timer_stop(&rr->heartbeat);
    uv_timer_stop(&rr->cmd.timer);
    uv_timer_stop(&rr->sub.timer);
    /* The caller may be inside one of our callbacks, itself inside hiredis: free the
     * contexts from a timer instead. */
    uv_timer_start(&rr->closer, on_closer, 0, 0);
}

static const rooms_backend REDIS_BACKEND = {
    .name = "redis",
    .join = redis_join,
    .leave = redis_leave,
    .publish = redis_publish,
    .set_upload_status = redis_set_upload_status,
    .get_upload_status = redis_get_upload_status,
    .remove_room = redis_remove_room,
    .is_member = redis_is_member,
    .is_ready = redis_is_ready,
    .close = redis_close,
};

/* ---------------------------------------------------------------- URL */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes [s, s + n) into a new string; NULL when malformed or out of memory. */
static char *url_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        int hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
        if (lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        *o++ = (char)(hi * 16 + lo);
        i += 2;
    }
    *o = '\0';
    return out;
}

/* Digits only, in [min, max]; -1 otherwise. */
static long parse_number(const char *s, size_t n, long min, long max)
{
    if (n == 0 || n > 9)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= min && v <= max ? v : -1;
}

static bool valid_host(const char *s, size_t n, bool bracketed)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_' || (bracketed && (c == ':' || c == '%'));
        if (!ok)
            return false;
    }
    return true;
}

/* userinfo is "[user]:password"; a password is required when userinfo is there. */
static int parse_userinfo(rooms_redis *rr, const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    if (!colon || colon + 1 == s + n)
        return -1;
    size_t user_len = (size_t)(colon - s);
    if (user_len > 0 && !(rr->user = url_decode(s, user_len)))
        return -1;
    rr->password = url_decode(colon + 1, n - user_len - 1);
    return rr->password && rr->password[0] ? 0 : -1;
}

/* host[:port] or [v6]:port */
static int parse_hostport(rooms_redis *rr, const char *s, size_t n)
{
    const char *host = s, *end = s + n, *port = NULL;
    size_t host_len;
    bool bracketed = n > 0 && s[0] == '[';
    if (bracketed) {
        const char *close = memchr(s, ']', n);
        if (!close)
            return -1;
        host = s + 1;
        host_len = (size_t)(close - host);
        if (close + 1 < end) {
            if (close[1] != ':')
                return -1;
            port = close + 2;
        }
    } else {
        const char *colon = memchr(s, ':', n);
        host_len = colon ? (size_t)(colon - s) : n;
        port = colon ? colon + 1 : NULL;
    }
    if (!valid_host(host, host_len, bracketed))
        return -1;
    long p = port ? parse_number(port, (size_t)(end - port), 1, 65535) : REDIS_DEFAULT_PORT;
    if (p < 0)
        return -1;
    rr->port = (int)p;
    rr->host = strndup(host, host_len);
    return rr->host ? 0 : -1;
}

/* redis://[[user]:password@]host[:port][/db]. The last '@' ends the password, so a
 * password may hold '/' or '@' as they are. */
static int parse_url(rooms_redis *rr, const char *url)
{
    static const char scheme[] = "redis://";
    if (!url || strncasecmp(url, scheme, sizeof scheme - 1) != 0)
        return -1;
    const char *rest = url + sizeof scheme - 1;
    const char *at = strrchr(rest, '@');
    if (at && parse_userinfo(rr, rest, (size_t)(at - rest)) != 0)
        return -1;
    const char *hostport = at ? at + 1 : rest;
    const char *slash = strchr(hostport, '/');
    size_t hostport_len = slash ? (size_t)(slash - hostport) : strlen(hostport);
    if (parse_hostport(rr, hostport, hostport_len) != 0)
        return -1;
    rr->db = 0;
    if (slash && slash[1]) {
        long db = parse_number(slash + 1, strlen(slash + 1), 0, REDIS_MAX_DB);
        if (db < 0)
            return -1;
        rr->db = (int)db;
    }
    return 0;
}

/* ---------------------------------------------------------------- open */

static void link_init(rooms_redis *rr, redis_link *l, const char *name)
{
    l->rr = rr;
    l->name = name;
    l->backoff_ms = BACKOFF_MIN_MS;
    uv_timer_init(rr->loop, &l->timer);
    l->timer.data = l;
    rr->open_handles++;
}

rooms *rooms_redis_new(uv_loop_t *loop, const char *url, const char *instance_id, char *err,
                       size_t err_size)
{
    rooms_redis *rr = calloc(1, sizeof *rr);
    if (!rr) {
        set_err(err, err_size, "redis: out of memory");
        return NULL;
    }
    /* The message names the expected form only: the URL may hold a password. */
    if (parse_url(rr, url) != 0) {
        rr_free(rr);
        set_err(err, err_size, "REDIS_URL: expected redis://[:password@]host[:port][/db]");
        return NULL;
    }
    rr->base = (rooms){ .backend = &REDIS_BACKEND, .impl = rr };
    rr->loop = loop;
    if (instance_id && instance_id[0])
        copy_str(rr->instance_id, sizeof rr->instance_id, instance_id);
    else
        snprintf(rr->instance_id, sizeof rr->instance_id, "pid-%ld", (long)getpid());

    uv_idle_init(loop, &rr->answer);
    rr->answer.data = rr;
    uv_timer_init(loop, &rr->heartbeat);
    rr->heartbeat.data = rr;
    uv_timer_init(loop, &rr->closer);
    rr->closer.data = rr;
    rr->open_handles = 3;
    link_init(rr, &rr->cmd, "command");
    link_init(rr, &rr->sub, "subscriber");

    uv_timer_start(&rr->heartbeat, on_heartbeat, HEARTBEAT_MS, HEARTBEAT_MS);
    link_connect(&rr->cmd);
    link_connect(&rr->sub);
    return &rr->base;
}
