/* The host's controls: start and stop recording, remove a guest. The take being
 * recorded lives in the database, so the state survives reconnects and restarts, and
 * a unique index makes sure only one take records at a time on any instance. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rtc/envelope.h"
#include "rtc/rtc_internal.h"
#include "util/crypto.h"

typedef struct {
    ws_conn *conn;
    rtc *rtc;
    char room_id[37];
    char take_id[37];
    char participant_id[37];
    int64_t start_at;
    int64_t stop_at;
} control_ctx;

static control_ctx *control_new(ws_conn *c)
{
    control_ctx *ctl = calloc(1, sizeof *ctl);
    if (!ctl) {
        ws_conn_send_error(c, "internal_error", "out of memory");
        return NULL;
    }
    ctl->conn = c;
    ctl->rtc = c->rtc;
    memcpy(ctl->room_id, c->room_id, sizeof ctl->room_id);
    ws_conn_hold(c);
    return ctl;
}

/* The result is in: false when the asking connection went meanwhile (the control
 * still takes effect for the room; there is just nobody to answer). */
static bool control_alive(control_ctx *ctl)
{
    return ws_conn_release(ctl->conn);
}

static void set_recording_status(rtc *r, const char *room_id, const char *status)
{
    db_param params[] = { DB_TEXT(status), DB_INT((int64_t)rtc_now_ms()), DB_TEXT(room_id) };
    db_query(r->app->db, "UPDATE recordings SET status = $1, updated_at = $2 WHERE id = $3", params, 3, NULL, NULL);
}

/* ---- start ------------------------------------------------------------------------ */

static void take_started(db_result *res, void *arg)
{
    control_ctx *ctl = arg;
    rtc *r = ctl->rtc;
    bool alive = control_alive(ctl);
    if (res->status == DB_ERR_CONSTRAINT) {
        if (alive)
            ws_conn_send_error(ctl->conn, "already_recording", "the session is already recording");
    } else if (res->status != DB_OK) {
        if (alive)
            ws_conn_send_error(ctl->conn, "internal_error", "the recording could not start; try again");
    } else {
        log_info("room %s: take %s starts at %lld", ctl->room_id, ctl->take_id, (long long)ctl->start_at);
        set_recording_status(r, ctl->room_id, "recording");
        envelope_broadcast(r, ctl->room_id,
                           json_pack("{s:s, s:s, s:I, s:I}", "type", "recording.started", "takeId", ctl->take_id,
                                     "startAt", (json_int_t)ctl->start_at, "serverTime",
                                     (json_int_t)rtc_now_ms()),
                           NULL);
    }
    free(ctl);
}

void rtc_handle_recording_start(ws_conn *c)
{
    control_ctx *ctl = control_new(c);
    if (!ctl)
        return;
    int64_t now = (int64_t)rtc_now_ms();
    crypto_uuid_v4(ctl->take_id);
    /* Everyone starts at one instant a little ahead, so every browser has time to hear it. */
    ctl->start_at = now + c->rtc->app->cfg->recording_countdown_ms;
    db_param params[] = { DB_TEXT(ctl->take_id), DB_TEXT(ctl->room_id), DB_INT(ctl->start_at), DB_INT(now) };
    db_query(c->rtc->app->db,
             "INSERT INTO takes (id, recording_id, status, started_at, created_at) VALUES ($1, $2, 'recording', $3, $4)",
             params, 4, take_started, ctl);
}

/* ---- stop ------------------------------------------------------------------------- */

static void take_stopped(db_result *res, void *arg)
{
    control_ctx *ctl = arg;
    rtc *r = ctl->rtc;
    bool alive = control_alive(ctl);
    if (res->status != DB_OK || res->nrows == 0) {
        if (alive)
            ws_conn_send_error(ctl->conn, res->status != DB_OK ? "internal_error" : "not_recording",
                               res->status != DB_OK ? "the recording could not stop; try again"
                                                    : "the session is not recording");
    } else {
        const char *take_id = db_value(res, 0, 0);
        int64_t stop_at = db_value_int(res, 0, 1, ctl->stop_at);
        log_info("room %s: take %s stopped at %lld", ctl->room_id, take_id, (long long)stop_at);
        set_recording_status(r, ctl->room_id, "recorded");
        envelope_broadcast(r, ctl->room_id,
                           json_pack("{s:s, s:s, s:I, s:I}", "type", "recording.stopped", "takeId", take_id,
                                     "stopAt", (json_int_t)stop_at, "serverTime", (json_int_t)rtc_now_ms()),
                           NULL);
    }
    free(ctl);
}

void rtc_handle_recording_stop(ws_conn *c)
{
    control_ctx *ctl = control_new(c);
    if (!ctl)
        return;
    ctl->stop_at = (int64_t)rtc_now_ms();
    /* A stop during the countdown ends the take where it begins: an empty take, never a negative one. */
    db_param params[] = { DB_INT(ctl->stop_at), DB_TEXT(ctl->room_id) };
    db_query(c->rtc->app->db,
             "UPDATE takes SET status = 'stopped', stopped_at = CASE WHEN started_at > $1 THEN started_at ELSE $1 END "
             "WHERE recording_id = $2 AND status = 'recording' RETURNING id, stopped_at",
             params, 2, take_stopped, ctl);
}

/* ---- remove a guest ----------------------------------------------------------------- */

static void guest_removed(db_result *res, void *arg)
{
    control_ctx *ctl = arg;
    rtc *r = ctl->rtc;
    bool alive = control_alive(ctl);
    if (res->status != DB_OK || res->nrows == 0) {
        if (alive)
            ws_conn_send_error(ctl->conn, res->status != DB_OK ? "internal_error" : "not_found",
                               "no such guest in this session");
    } else {
        log_info("room %s: the host removed guest %s", ctl->room_id, ctl->participant_id);
        envelope_publish(r, ctl->room_id,
                         json_pack("{s:{s:s}, s:{s:s, s:i}}", "msg", "type", "removed", "kick", "participantId",
                                   ctl->participant_id, "code", 4403));
    }
    free(ctl);
}

void rtc_handle_remove(ws_conn *c, json_t *msg)
{
    const char *target = json_string_value(json_object_get(msg, "participantId"));
    if (!target || !crypto_is_uuid(target) || strcmp(target, c->participant_id) == 0) {
        ws_conn_send_error(c, "invalid_message", "remove needs the participantId of a guest");
        return;
    }
    control_ctx *ctl = control_new(c);
    if (!ctl)
        return;
    snprintf(ctl->participant_id, sizeof ctl->participant_id, "%.36s", target);
    db_param params[] = { DB_INT((int64_t)rtc_now_ms()), DB_TEXT(ctl->participant_id), DB_TEXT(ctl->room_id) };
    db_query(c->rtc->app->db,
             "UPDATE participants SET removed_at = $1 WHERE id = $2 AND recording_id = $3 AND role = 'guest' "
             "RETURNING id",
             params, 3, guest_removed, ctl);
}
