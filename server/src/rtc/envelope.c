#include "rtc/envelope.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rtc/rtc_internal.h"

void envelope_publish(rtc *r, const char *room_id, json_t *env)
{
    char *text = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    if (!text)
        return;
    rooms *rm = r->app->rooms;
    rm->backend->publish(rm, room_id, text, strlen(text));
    free(text);
}

void envelope_broadcast(rtc *r, const char *room_id, json_t *msg, const char *except)
{
    json_t *env = json_pack("{s:o}", "msg", msg);
    if (except)
        json_object_set_new(env, "except", json_string(except));
    envelope_publish(r, room_id, env);
}

void envelope_send_to(rtc *r, const char *room_id, const char *participant_id, json_t *msg)
{
    envelope_publish(r, room_id, json_pack("{s:o, s:s}", "msg", msg, "to", participant_id));
}

static bool wants(const ws_conn *c, json_t *env)
{
    const char *to = json_string_value(json_object_get(env, "to"));
    const char *role = json_string_value(json_object_get(env, "role"));
    const char *except = json_string_value(json_object_get(env, "except"));
    return c->state == CONN_JOINED && (!to || strcmp(to, c->participant_id) == 0) &&
           (!role || strcmp(role, c->role) == 0) && (!except || strcmp(except, c->participant_id) != 0);
}

static void apply_presence(room_entry *room, json_t *env)
{
    const char *joined = json_string_value(json_object_get(env, "joined"));
    const char *left = json_string_value(json_object_get(env, "left"));
    if (joined)
        room_add_member(room, joined);
    if (left)
        room_remove_member(room, left);
}

/* A newer connection of the participant exists: every other one is closed. */
static void apply_replace(room_entry *room, json_t *replace)
{
    const char *pid = json_string_value(json_object_get(replace, "participantId"));
    const char *conn_id = json_string_value(json_object_get(replace, "connId"));
    if (!pid || !conn_id)
        return;
    for (ws_conn *c = room->conns; c; c = c->room_next)
        if (strcmp(c->participant_id, pid) == 0 && strcmp(c->id, conn_id) != 0 && ws_conn_is_open(c)) {
            c->replaced = true;
            ws_conn_fail(c, "replaced", "you joined again from another connection", 4409);
        }
}

static void deliver_to_room(room_entry *room, json_t *env, const char *text, size_t len)
{
    json_t *kick = json_object_get(env, "kick");
    const char *kicked = json_string_value(json_object_get(kick, "participantId"));
    int kick_code = (int)json_integer_value(json_object_get(kick, "code"));
    int close_room = (int)json_integer_value(json_object_get(env, "closeRoom"));
    for (ws_conn *c = room->conns, *next; c; c = next) {
        next = c->room_next;
        if (kicked && strcmp(kicked, c->participant_id) == 0) {
            ws_conn_send_text(c, text, len);
            ws_conn_close(c, kick_code ? kick_code : 4403, "removed");
        } else if (close_room) {
            ws_conn_send_text(c, text, len);
            ws_conn_close(c, close_room, "session deleted");
        } else if (!kicked && wants(c, env)) {
            ws_conn_send_text(c, text, len);
        }
    }
}

void envelope_deliver(void *ctx, const char *room_id, const char *text, size_t len)
{
    rtc *r = ctx;
    room_entry *room = registry_find(r->registry, room_id);
    if (!room)
        return;
    json_t *env = json_loadb(text, len, 0, NULL);
    if (!json_is_object(env)) {
        log_warn("rooms: dropped a malformed envelope for room %s", room_id);
        json_decref(env);
        return;
    }
    apply_presence(room, env);
    json_t *replace = json_object_get(env, "replace");
    if (replace)
        apply_replace(room, replace);
    json_t *msg = json_object_get(env, "msg");
    char *msg_text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    if (msg_text)
        deliver_to_room(room, env, msg_text, strlen(msg_text));
    free(msg_text);
    json_decref(env);
}
