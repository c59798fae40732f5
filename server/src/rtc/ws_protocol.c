/* The lws side of /ws: the handshake checks, frames in, frames out, and the timer that
 * pings quiet connections and closes dead ones. */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "log.h"
#include "rtc/envelope.h"
#include "rtc/rtc_internal.h"

#define SWEEP_INTERVAL_MS 500

typedef struct {
    ws_conn *conn;
} ws_session;

/* lws protocols are static tables; the one rtc of the process is reached from here. */
static rtc *current_rtc;

uint64_t rtc_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* ---- the handshake ------------------------------------------------------------------- */

static bool origin_allowed(const config *cfg, const char *origin)
{
    size_t n = strlen(origin);
    for (const char *p = cfg->allowed_origins; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == n && strncmp(p, origin, n) == 0)
            return true;
        p += len;
    }
    return false;
}

/* Non-zero refuses the upgrade: wrong path, or a browser page from another origin. */
static int check_handshake(struct lws *wsi)
{
    char uri[64] = "", origin[256] = "";
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) < (int)sizeof uri)
        lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
    if (strcmp(uri, "/ws") != 0) {
        log_info("ws: refused an upgrade to %s (only /ws)", uri[0] ? uri : "?");
        lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
        return 1;
    }
    int origin_len = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);
    if (origin_len <= 0)
        return 0; /* not a browser: nothing to forge */
    if (origin_len >= (int)sizeof origin || lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0 ||
        !origin_allowed(current_rtc->app->cfg, origin)) {
        log_warn("ws: refused an upgrade from origin %.100s (not in ALLOWED_ORIGINS)", origin);
        lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, NULL);
        return 1;
    }
    return 0;
}

static void on_established(struct lws *wsi, ws_session *session)
{
    ws_conn *c = ws_conn_new(current_rtc, wsi);
    session->conn = c;
    if (!c)
        return;
    char arg[sizeof c->query_token + 8];
    const char *token = lws_get_urlarg_by_name(wsi, "token=", arg, (int)sizeof arg);
    if (token)
        snprintf(c->query_token, sizeof c->query_token, "%s", token);
    log_debug("ws %s: connected", c->id);
}

/* ---- frames in ------------------------------------------------------------------------- */

static void on_receive(ws_conn *c, const void *in, size_t len)
{
    struct lws *wsi = c->wsi;
    long max = c->rtc->app->cfg->ws_max_message_bytes;
    bool last = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    c->last_heard_ms = rtc_now_ms();
    if (lws_is_first_fragment(wsi)) {
        c->rx_len = 0;
        c->rx_discard = false;
        if (lws_frame_is_binary(wsi)) {
            c->rx_discard = true;
            ws_conn_fail(c, "unsupported", "binary frames are not part of zencast.v1", 1003);
        }
    }
    if (c->rx_discard)
        return;
    if (c->rx_len + len > (size_t)max) {
        c->rx_discard = true;
        ws_conn_fail(c, "message_too_large", "the message is over the size limit", 1009);
        return;
    }
    if (!c->rx && !(c->rx = malloc((size_t)max + 1))) {
        ws_conn_kill(c);
        return;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!last)
        return;
    c->rx[c->rx_len] = '\0';
    size_t message_len = c->rx_len;
    c->rx_len = 0;
    if (ws_conn_count_message(c, c->last_heard_ms) == 1)
        rtc_handle_message(c, c->rx, message_len);
}

/* ---- frames out ------------------------------------------------------------------------ */

static int on_writeable(ws_conn *c)
{
    if (c->ping_due && !c->kill) {
        /* lws 4.1 passes a pong to us only when it carries a payload. */
        unsigned char ping[LWS_PRE + 4] = { [LWS_PRE] = 'z', 'c', 'p', 'g' };
        c->ping_due = false;
        if (lws_write(c->wsi, ping + LWS_PRE, 4, LWS_WRITE_PING) < 0)
            return -1;
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    return ws_conn_write_next(c);
}

/* ---- leaving --------------------------------------------------------------------------- */

void rtc_connection_gone(ws_conn *c)
{
    if (!c->joined_at)
        return;
    rtc *r = c->rtc;
    rooms *rm = r->app->rooms;
    registry_remove_conn(r->registry, c);
    if (!rm)
        return;
    rm->backend->leave(rm, c->room_id, c->participant_id, c->id);
    log_info("ws %s: %s %s left room %s%s", c->id, c->role, c->participant_id, c->room_id,
             c->replaced ? " (replaced by a new connection)" : "");
    if (c->replaced)
        return;
    json_t *env = json_pack("{s:{s:s, s:s}, s:s, s:s}", "msg", "type", "peer-left", "participantId",
                            c->participant_id, "left", c->participant_id, "except", c->participant_id);
    envelope_publish(r, c->room_id, env);
}

static void on_closed(ws_session *session)
{
    ws_conn *c = session->conn;
    session->conn = NULL;
    if (!c)
        return;
    rtc_connection_gone(c);
    ws_conn_detach(c);
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    ws_session *session = user;
    ws_conn *c = session ? session->conn : NULL;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return current_rtc && !current_rtc->stopping ? check_handshake(wsi) : 1;
    case LWS_CALLBACK_ESTABLISHED:
        on_established(wsi, session);
        return session->conn ? 0 : -1;
    case LWS_CALLBACK_RECEIVE:
        if (c && c->wsi)
            on_receive(c, in, len);
        return 0;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (c)
            c->last_heard_ms = rtc_now_ms();
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c ? on_writeable(c) : -1;
    case LWS_CALLBACK_CLOSED:
        on_closed(session);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols PROTOCOL = { "zencast.v1", ws_callback, sizeof(ws_session), 0, 0, NULL, 0 };

const struct lws_protocols *rtc_protocol(void) { return &PROTOCOL; }

/* ---- the heartbeat sweep ------------------------------------------------------------------ */

static void check_connection(ws_conn *c, uint64_t now)
{
    const config *cfg = c->rtc->app->cfg;
    uint64_t quiet = now - c->last_heard_ms;
    if (c->state != CONN_JOINED && !c->kill && !c->close_code && now - c->opened_ms > JOIN_TIMEOUT_MS) {
        ws_conn_fail(c, "not_joined", "no join within 10 seconds", 4408);
    } else if (quiet > (uint64_t)cfg->heartbeat_timeout_s * 1000) {
        log_info("ws %s: participant %s silent for %llus: closing", c->id,
                 c->participant_id[0] ? c->participant_id : "-", (unsigned long long)(quiet / 1000));
        ws_conn_kill(c);
    } else if (quiet > (uint64_t)cfg->heartbeat_interval_s * 1000 && !c->ping_due) {
        c->ping_due = true;
        lws_callback_on_writable(c->wsi);
    }
}

static void on_sweep(uv_timer_t *t)
{
    rtc *r = t->data;
    uint64_t now = rtc_now_ms();
    for (ws_conn *c = r->all; c; c = c->all_next)
        if (c->wsi && !c->kill)
            check_connection(c, now);
}

/* ---- life cycle ------------------------------------------------------------------------------ */

rtc *rtc_new(app *a)
{
    rtc *r = calloc(1, sizeof *r);
    if (!r || !(r->registry = registry_new())) {
        free(r);
        return NULL;
    }
    r->app = a;
    uv_timer_init(a->loop, &r->heartbeat_timer);
    r->heartbeat_timer.data = r;
    uv_timer_start(&r->heartbeat_timer, on_sweep, SWEEP_INTERVAL_MS, SWEEP_INTERVAL_MS);
    rooms_set_delivery(a->rooms, envelope_deliver, r);
    current_rtc = r;
    return r;
}

void rtc_stop(rtc *r)
{
    if (!r || r->stopping)
        return;
    r->stopping = true;
    uv_timer_stop(&r->heartbeat_timer);
    uv_close((uv_handle_t *)&r->heartbeat_timer, NULL);
    for (ws_conn *c = r->all; c; c = c->all_next)
        ws_conn_close(c, 1001, "server shutting down");
}

bool rtc_has_connections(const rtc *r) { return r && r->all; }

void rtc_free(rtc *r)
{
    if (!r)
        return;
    if (current_rtc == r)
        current_rtc = NULL;
    registry_free(r->registry);
    free(r);
}

void rtc_close_room(rtc *r, const char *room_id)
{
    envelope_publish(r, room_id,
                     json_pack("{s:{s:s, s:s}, s:i}", "msg", "type", "error", "code", "not_found", "closeRoom", 4404));
}
