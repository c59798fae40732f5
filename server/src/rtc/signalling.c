/* Every message after join: clock sync, the WebRTC relay, chat, upload progress, and
 * the dispatch to the host's controls. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rtc/envelope.h"
#include "rtc/rtc_internal.h"
#include "util/crypto.h"
#include "util/json.h"

#define CHAT_MAX_BYTES 2000
#define UPLOAD_COUNT_MAX 100000

static void handle_ping(ws_conn *c, json_t *msg)
{
    int64_t received = (int64_t)rtc_now_ms();
    json_t *client_time = json_object_get(msg, "clientTime");
    if (!json_is_number(client_time)) {
        ws_conn_send_error(c, "invalid_message", "ping needs a numeric clientTime");
        return;
    }
    ws_conn_send_json(c, json_pack("{s:s, s:O, s:I, s:I}", "type", "pong", "clientTime", client_time,
                                   "serverReceiveTime", (json_int_t)received, "serverSendTime",
                                   (json_int_t)rtc_now_ms()));
}

typedef struct {
    ws_conn *conn;
    char to[40];
    json_t *out;
} relay_ctx;

/* The rooms back end has the answer this instance did not have yet. */
static void member_checked(bool is_member, void *arg)
{
    relay_ctx *r = arg;
    ws_conn *c = r->conn;
    if (ws_conn_release(c)) {
        c->relays_checking--;
        room_entry *room = registry_find(c->rtc->registry, c->room_id);
        if (is_member && room) {
            room_add_member(room, r->to);
            envelope_send_to(c->rtc, c->room_id, r->to, json_incref(r->out));
        } else {
            ws_conn_send_error(c, "peer_not_found", "no such participant connected to this session");
        }
    }
    json_decref(r->out);
    free(r);
}

/* offer, answer, candidate: the payload goes as it is to one peer of the same room. A peer
 * this instance has not heard of may have joined elsewhere a moment ago: the rooms back
 * end is asked before the sender is told it is not there. */
static void handle_relay(ws_conn *c, const char *type, json_t *msg)
{
    const char *to = json_string_value(json_object_get(msg, "to"));
    json_t *payload = json_object_get(msg, "payload");
    if (!to || !payload) {
        ws_conn_send_error(c, "invalid_message", "needs \"to\" (a participant id) and \"payload\"");
        return;
    }
    room_entry *room = registry_find(c->rtc->registry, c->room_id);
    if (!room || strcmp(to, c->participant_id) == 0 || strlen(to) >= sizeof((relay_ctx *)0)->to) {
        ws_conn_send_error(c, "peer_not_found", "no such participant connected to this session");
        return;
    }
    json_t *out = json_pack("{s:s, s:s, s:O}", "type", type, "from", c->participant_id, "payload", payload);
    /* While a check is out, later relays queue behind it, so an offer is never overtaken
     * by its own candidates (the back end answers in order). */
    if (room_has_member(room, to) && c->relays_checking == 0) {
        envelope_send_to(c->rtc, c->room_id, to, out);
        return;
    }
    relay_ctx *r = calloc(1, sizeof *r);
    if (!r) {
        json_decref(out);
        ws_conn_send_error(c, "internal_error", "out of memory");
        return;
    }
    r->conn = c;
    snprintf(r->to, sizeof r->to, "%s", to);
    r->out = out;
    ws_conn_hold(c);
    c->relays_checking++;
    rooms *rm = c->rtc->app->rooms;
    rm->backend->is_member(rm, c->room_id, to, member_checked, r);
}

typedef struct {
    ws_conn *conn;
    json_t *message;
} chat_ctx;

static void chat_stored(db_result *res, void *arg)
{
    chat_ctx *chat = arg;
    ws_conn *c = chat->conn;
    if (ws_conn_release(c)) {
        if (res->status != DB_OK)
            ws_conn_send_error(c, "internal_error", "the message could not be kept; send it again");
        else
            envelope_broadcast(c->rtc, c->room_id,
                               json_pack("{s:s, s:O}", "type", "chat", "message", chat->message), NULL);
    }
    json_decref(chat->message);
    free(chat);
}

static void handle_chat(ws_conn *c, json_t *msg)
{
    char text[CHAT_MAX_BYTES + 1], id[37];
    json_field_error err;
    if (!json_get_string_field(msg, "text", true, 1, CHAT_MAX_BYTES, text, sizeof text, &err)) {
        ws_conn_send_error(c, "invalid_message", err.message);
        return;
    }
    chat_ctx *chat = calloc(1, sizeof *chat);
    if (!chat || crypto_uuid_v4(id) < 0) {
        free(chat);
        ws_conn_send_error(c, "internal_error", "out of memory");
        return;
    }
    int64_t now = (int64_t)rtc_now_ms();
    chat->conn = c;
    chat->message = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", id, "from", c->participant_id, "name", c->name,
                              "text", text, "sentAt", (json_int_t)now);
    db_param params[] = { DB_TEXT(id), DB_TEXT(c->room_id), DB_TEXT(c->participant_id), DB_TEXT(c->name),
                          DB_TEXT(text), DB_INT(now) };
    ws_conn_hold(c);
    db_query(c->rtc->app->db,
             "INSERT INTO chat_messages (id, recording_id, participant_id, name, text, sent_at) "
             "VALUES ($1, $2, $3, $4, $5, $6)",
             params, 6, chat_stored, chat);
}

static void handle_upload_status(ws_conn *c, json_t *msg)
{
    long long recorded, uploaded;
    json_field_error err;
    if (!json_get_int_field(msg, "recorded", true, 0, UPLOAD_COUNT_MAX, &recorded, &err) ||
        !json_get_int_field(msg, "uploaded", true, 0, UPLOAD_COUNT_MAX, &uploaded, &err) || uploaded > recorded) {
        ws_conn_send_error(c, "invalid_message", "upload-status needs recorded >= uploaded >= 0 (whole numbers)");
        return;
    }
    int64_t now = (int64_t)rtc_now_ms();
    json_t *status = json_pack("{s:I, s:I, s:I}", "recorded", (json_int_t)recorded, "uploaded",
                               (json_int_t)uploaded, "updatedAt", (json_int_t)now);
    char *text = json_dumps(status, JSON_COMPACT);
    rooms *rm = c->rtc->app->rooms;
    if (text)
        rm->backend->set_upload_status(rm, c->room_id, c->participant_id, text);
    free(text);
    json_object_set_new(status, "type", json_string("upload-status"));
    json_object_set_new(status, "participantId", json_string(c->participant_id));
    envelope_publish(c->rtc, c->room_id, json_pack("{s:o, s:s}", "msg", status, "role", "host"));
}

static void handle_mute(ws_conn *c, json_t *msg)
{
    const char *target = json_string_value(json_object_get(msg, "participantId"));
    room_entry *room = registry_find(c->rtc->registry, c->room_id);
    if (!target) {
        ws_conn_send_error(c, "invalid_message", "mute needs a participantId");
        return;
    }
    if (!room || !room_has_member(room, target)) {
        ws_conn_send_error(c, "peer_not_found", "no such participant connected to this session");
        return;
    }
    envelope_send_to(c->rtc, c->room_id, target,
                     json_pack("{s:s, s:s}", "type", "mute-request", "from", c->participant_id));
}

static bool is_host_control(const char *type)
{
    return strcmp(type, "recording.start") == 0 || strcmp(type, "recording.stop") == 0 ||
           strcmp(type, "mute") == 0 || strcmp(type, "remove") == 0;
}

static void dispatch_joined(ws_conn *c, const char *type, json_t *msg)
{
    if (is_host_control(type) && strcmp(c->role, "host") != 0) {
        ws_conn_send_error(c, "forbidden", "only the host can do that");
        return;
    }
    if (strcmp(type, "ping") == 0)
        handle_ping(c, msg);
    else if (strcmp(type, "offer") == 0 || strcmp(type, "answer") == 0 || strcmp(type, "candidate") == 0)
        handle_relay(c, type, msg);
    else if (strcmp(type, "chat") == 0)
        handle_chat(c, msg);
    else if (strcmp(type, "upload-status") == 0)
        handle_upload_status(c, msg);
    else if (strcmp(type, "recording.start") == 0)
        rtc_handle_recording_start(c);
    else if (strcmp(type, "recording.stop") == 0)
        rtc_handle_recording_stop(c);
    else if (strcmp(type, "mute") == 0)
        handle_mute(c, msg);
    else if (strcmp(type, "remove") == 0)
        rtc_handle_remove(c, msg);
    else if (strcmp(type, "join") == 0)
        ws_conn_send_error(c, "invalid_message", "already joined");
    else
        ws_conn_send_error(c, "unknown_type", "unknown message type");
}

void rtc_handle_message(ws_conn *c, const char *text, size_t len)
{
    json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!json_is_object(msg))
        ws_conn_send_error(c, "invalid_json", "a message must be a JSON object");
    else if (!type)
        ws_conn_send_error(c, "invalid_message", "a message needs a string \"type\"");
    else if (c->state == CONN_JOINED)
        dispatch_joined(c, type, msg);
    else if (c->state == CONN_AWAITING_JOIN && strcmp(type, "join") == 0)
        rtc_handle_join(c, msg);
    else if (c->state == CONN_JOINING)
        ws_conn_send_error(c, "not_joined", "wait for \"joined\" before sending more");
    else
        ws_conn_fail(c, "not_joined", "send \"join\" first", 4401);
    json_decref(msg);
}
