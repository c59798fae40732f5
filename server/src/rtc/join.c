/* The first message of a connection: {"type":"join","roomId","token"}. Checks the token
 * and the participant in the database, loads the room's durable state (the take being
 * recorded, the chat), adds the participant to the room, and answers "joined". */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "log.h"
#include "rtc/envelope.h"
#include "rtc/rtc_internal.h"
#include "util/crypto.h"

#define CHAT_HISTORY 200

typedef struct {
    ws_conn *conn;
    char room_id[37];
    jwt_claims claims;
    bool host;
    room_member member;
    json_t *recording; /* {"state","takeId","startAt","stopAt"} */
    json_t *chat;
    json_t *uploads;
} join_ctx;

static void join_ctx_free(join_ctx *j)
{
    json_decref(j->recording);
    json_decref(j->chat);
    json_decref(j->uploads);
    free(j);
}

/* Every asynchronous step ends here first: false when the connection went meanwhile. */
static bool step_alive(join_ctx *j)
{
    if (ws_conn_release(j->conn))
        return true;
    join_ctx_free(j);
    return false;
}

static void join_fail(join_ctx *j, const char *code, const char *message, int close_code)
{
    ws_conn_fail(j->conn, code, message, close_code);
    join_ctx_free(j);
}

/* A database step is back: false (and j finished) when the connection went or the query failed. */
static bool db_step_ok(join_ctx *j, const db_result *res)
{
    if (!step_alive(j))
        return false;
    if (res->status == DB_OK)
        return true;
    join_fail(j, "internal_error", "the database is unavailable; try again", 1011);
    return false;
}

static db *join_db(join_ctx *j) { return j->conn->rtc->app->db; }

/* ---- the last steps: into the room, then "joined" ---------------------------------- */

static json_t *participants_json(const room_member *members, int count)
{
    json_t *list = json_array();
    for (int i = 0; i < count; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I}", "id", members[i].id, "name", members[i].name,
                                              "role", members[i].role, "joinedAt", (json_int_t)members[i].joined_at));
    return list;
}

static void send_joined(join_ctx *j, const room_member *members, int count)
{
    ws_conn *c = j->conn;
    const config *cfg = c->rtc->app->cfg;
    int64_t now = (int64_t)rtc_now_ms();
    json_t *msg = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:O, s:o, s:O, s:O, s:I}", "type", "joined", "roomId",
                            c->room_id, "participantId", c->participant_id, "role", c->role, "name", c->name,
                            "participants", participants_json(members, count), "recording", j->recording,
                            "iceServers", rtc_ice_servers(cfg, c->participant_id, now / 1000), "chat", j->chat,
                            "uploads", j->uploads, "serverTime", (json_int_t)now);
    ws_conn_send_json(c, msg);
}

static void announce(join_ctx *j)
{
    ws_conn *c = j->conn;
    json_t *participant = json_pack("{s:s, s:s, s:s, s:I}", "id", c->participant_id, "name", c->name, "role",
                                    c->role, "joinedAt", (json_int_t)c->joined_at);
    json_t *env = json_pack("{s:{s:s, s:o}, s:s, s:s, s:{s:s, s:s}}", "msg", "type", "peer-joined", "participant",
                            participant, "except", c->participant_id, "joined", c->participant_id, "replace",
                            "participantId", c->participant_id, "connId", c->id);
    envelope_publish(c->rtc, c->room_id, env);
}

static void room_joined(rooms_status status, const room_member *members, int count, void *arg)
{
    join_ctx *j = arg;
    ws_conn *c = j->conn;
    rooms *rm = c->rtc->app->rooms;
    if (!ws_conn_release(c)) { /* gone while joining: take the membership back */
        rm->backend->leave(rm, j->room_id, j->member.id, j->member.conn_id);
        join_ctx_free(j);
        return;
    }
    if (status == ROOMS_FULL) {
        join_fail(j, "room_full", "the session has as many participants as it allows", 4429);
        return;
    }
    if (status != ROOMS_OK) {
        join_fail(j, "internal_error", "the room service is unavailable; try again", 1011);
        return;
    }
    c->state = CONN_JOINED;
    c->joined_at = j->member.joined_at;
    room_entry *room = registry_add_conn(c->rtc->registry, c);
    if (room)
        room_set_members(room, members, count);
    log_info("ws %s: %s %s joined room %s", c->id, c->role, c->participant_id, c->room_id);
    /* Presence goes out first: by the time the joiner reads "joined" and someone answers
     * it, every instance has (almost surely) heard of the newcomer. */
    announce(j);
    send_joined(j, members, count);
    join_ctx_free(j);
}

static void enter_room(join_ctx *j)
{
    ws_conn *c = j->conn;
    room_member *m = &j->member;
    snprintf(m->id, sizeof m->id, "%s", c->participant_id);
    snprintf(m->name, sizeof m->name, "%s", c->name);
    snprintf(m->role, sizeof m->role, "%s", c->role);
    snprintf(m->conn_id, sizeof m->conn_id, "%s", c->id);
    m->joined_at = (int64_t)rtc_now_ms();
    memcpy(j->room_id, c->room_id, sizeof j->room_id);
    rooms *rm = c->rtc->app->rooms;
    ws_conn_hold(c);
    rm->backend->join(rm, c->room_id, m, c->rtc->app->cfg->max_participants, room_joined, j);
}

/* ---- durable state: uploads (hosts), chat, the take being recorded ------------------ */

static void uploads_loaded(const char *uploads, void *arg)
{
    join_ctx *j = arg;
    if (!step_alive(j))
        return;
    j->uploads = uploads ? json_loads(uploads, 0, NULL) : NULL;
    if (!json_is_object(j->uploads)) {
        json_decref(j->uploads);
        j->uploads = json_object();
    }
    enter_room(j);
}

static void chat_loaded(db_result *res, void *arg)
{
    join_ctx *j = arg;
    if (!db_step_ok(j, res))
        return;
    j->chat = json_array();
    for (int i = res->nrows - 1; i >= 0; i--) /* newest first from the query; oldest first here */
        json_array_append_new(j->chat, json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", db_value(res, i, 0), "from",
                                                 db_value(res, i, 1), "name", db_value(res, i, 2), "text",
                                                 db_value(res, i, 3), "sentAt",
                                                 (json_int_t)db_value_int(res, i, 4, 0)));
    if (!j->host) {
        j->uploads = json_object();
        enter_room(j);
        return;
    }
    rooms *rm = j->conn->rtc->app->rooms;
    ws_conn_hold(j->conn);
    rm->backend->get_upload_status(rm, j->conn->room_id, uploads_loaded, j);
}

static void take_loaded(db_result *res, void *arg)
{
    join_ctx *j = arg;
    if (!db_step_ok(j, res))
        return;
    j->recording = res->nrows == 1
        ? json_pack("{s:s, s:s, s:I, s:n}", "state", "recording", "takeId", db_value(res, 0, 0), "startAt",
                    (json_int_t)db_value_int(res, 0, 1, 0), "stopAt")
        : json_pack("{s:s, s:n, s:n, s:n}", "state", "idle", "takeId", "startAt", "stopAt");
    db_param params[] = { DB_TEXT(j->conn->room_id), DB_INT(CHAT_HISTORY) };
    ws_conn_hold(j->conn);
    db_query(join_db(j),
             "SELECT id, participant_id, name, text, sent_at FROM chat_messages WHERE recording_id = $1 "
             "ORDER BY sent_at DESC, id DESC LIMIT $2",
             params, 2, chat_loaded, j);
}

static void load_room_state(join_ctx *j)
{
    db_param params[] = { DB_TEXT(j->conn->room_id) };
    ws_conn_hold(j->conn);
    db_query(join_db(j), "SELECT id, started_at FROM takes WHERE recording_id = $1 AND status = 'recording'",
             params, 1, take_loaded, j);
}

/* ---- who is joining ------------------------------------------------------------------ */

static void identify(ws_conn *c, const char *id, const char *name, const char *role)
{
    snprintf(c->participant_id, sizeof c->participant_id, "%s", id);
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->role, sizeof c->role, "%s", role);
}

static void host_found(db_result *res, void *arg)
{
    join_ctx *j = arg;
    if (!db_step_ok(j, res))
        return;
    if (res->nrows == 0) {
        join_fail(j, "not_found", "no such session", 4404);
        return;
    }
    if (strcmp(db_value(res, 0, 0), j->claims.subject) != 0 || !db_value(res, 0, 1)) {
        join_fail(j, "forbidden", "this session belongs to another host", 4403);
        return;
    }
    identify(j->conn, db_value(res, 0, 1), db_value(res, 0, 2), "host");
    load_room_state(j);
}

static void guest_found(db_result *res, void *arg)
{
    join_ctx *j = arg;
    if (!db_step_ok(j, res))
        return;
    if (res->nrows == 0) {
        join_fail(j, "not_found", "no such session, or it was deleted", 4404);
        return;
    }
    if (db_value(res, 0, 2)) {
        join_fail(j, "forbidden", "the host removed you from this session", 4403);
        return;
    }
    identify(j->conn, db_value(res, 0, 0), db_value(res, 0, 1), "guest");
    load_room_state(j);
}

/* Reads the token: an access token makes a host, a participant token a guest. */
static bool check_token(join_ctx *j, const char *token, const char *room_id)
{
    ws_conn *c = j->conn;
    const config *cfg = c->rtc->app->cfg;
    int64_t now = (int64_t)(rtc_now_ms() / 1000);
    jwt_status st = jwt_verify_token(cfg->jwt_secret, cfg->jwt_secret_len, token, JWT_KIND_ACCESS, now, &j->claims);
    j->host = st == JWT_OK;
    if (st == JWT_ERR_CLAIMS)
        st = jwt_verify_token(cfg->jwt_secret, cfg->jwt_secret_len, token, JWT_KIND_PARTICIPANT, now, &j->claims);
    if (st == JWT_ERR_EXPIRED) {
        join_fail(j, "token_expired", "the token has expired", 4401);
        return false;
    }
    if (st != JWT_OK) {
        join_fail(j, "unauthorized", "the token is not valid", 4401);
        return false;
    }
    const char *room = j->host ? room_id : (room_id ? room_id : j->claims.room_id);
    if (!room || !crypto_is_uuid(room)) {
        join_fail(j, "invalid_message", "join needs a roomId", 4401);
        return false;
    }
    if (!j->host && strcmp(room, j->claims.room_id) != 0) {
        join_fail(j, "forbidden", "this invite is for another session", 4403);
        return false;
    }
    snprintf(c->room_id, sizeof c->room_id, "%.36s", room);
    return true;
}

void rtc_handle_join(ws_conn *c, json_t *msg)
{
    json_t *token_v = json_object_get(msg, "token"), *room_v = json_object_get(msg, "roomId");
    if ((token_v && !json_is_string(token_v)) || (room_v && !json_is_null(room_v) && !json_is_string(room_v))) {
        ws_conn_send_error(c, "invalid_message", "token and roomId must be strings");
        return;
    }
    const char *token = token_v ? json_string_value(token_v) : c->query_token;
    join_ctx *j = calloc(1, sizeof *j);
    if (!j) {
        ws_conn_kill(c);
        return;
    }
    j->conn = c;
    c->state = CONN_JOINING;
    if (!token || !token[0]) {
        join_fail(j, "unauthorized", "join needs a token", 4401);
        return;
    }
    if (!check_token(j, token, json_string_value(room_v)))
        return;
    ws_conn_hold(c);
    if (j->host) {
        db_param params[] = { DB_TEXT(c->room_id) };
        db_query(join_db(j),
                 "SELECT r.host_user_id, p.id, p.name FROM recordings r LEFT JOIN participants p "
                 "ON p.recording_id = r.id AND p.role = 'host' WHERE r.id = $1",
                 params, 1, host_found, j);
    } else {
        db_param params[] = { DB_TEXT(j->claims.subject), DB_TEXT(c->room_id) };
        db_query(join_db(j),
                 "SELECT id, name, removed_at FROM participants WHERE id = $1 AND recording_id = $2 AND role = 'guest'",
                 params, 2, guest_found, j);
    }
}
