#include "rtc/ws_conn.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rtc/rtc_internal.h"
#include "util/crypto.h"

ws_conn *ws_conn_new(rtc *r, struct lws *wsi)
{
    ws_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->wsi = wsi;
    c->rtc = r;
    crypto_uuid_v4(c->id);
    c->opened_ms = c->last_heard_ms = rtc_now_ms();
    c->all_next = r->all;
    if (r->all)
        r->all->all_prev = c;
    r->all = c;
    return c;
}

static void free_queue(ws_conn *c)
{
    for (out_msg *m = c->out_head, *next; m; m = next) {
        next = m->next;
        free(m);
    }
    c->out_head = c->out_tail = NULL;
    c->out_bytes = 0;
}

static void conn_free(ws_conn *c)
{
    free_queue(c);
    free(c->rx);
    free(c);
}

void ws_conn_detach(ws_conn *c)
{
    rtc *r = c->rtc;
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else
        r->all = c->all_next;
    if (c->all_next)
        c->all_next->all_prev = c->all_prev;
    c->wsi = NULL;
    c->state = CONN_CLOSING;
    free_queue(c);
    if (c->pending == 0)
        conn_free(c);
}

void ws_conn_hold(ws_conn *c) { c->pending++; }

bool ws_conn_release(ws_conn *c)
{
    c->pending--;
    if (c->wsi)
        return true;
    if (c->pending == 0)
        conn_free(c);
    return false;
}

bool ws_conn_is_open(const ws_conn *c)
{
    return c->wsi && c->state != CONN_CLOSING && !c->kill;
}

void ws_conn_kill(ws_conn *c)
{
    if (!c->wsi || c->kill)
        return;
    c->kill = true;
    c->state = CONN_CLOSING;
    free_queue(c);
    /* Asynchronous kill: works even when the peer no longer reads (no WRITEABLE comes). */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void ws_conn_send_text(ws_conn *c, const char *text, size_t len)
{
    if (!ws_conn_is_open(c) || c->close_code)
        return;
    if (c->out_bytes + len > (size_t)c->rtc->app->cfg->ws_send_queue_bytes) {
        log_warn("ws %s: participant %s reads too slowly (%zu bytes queued): disconnecting", c->id,
                 c->participant_id[0] ? c->participant_id : "-", c->out_bytes);
        ws_conn_kill(c);
        return;
    }
    out_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m) {
        ws_conn_kill(c);
        return;
    }
    m->next = NULL;
    m->len = len;
    memcpy(m->data + LWS_PRE, text, len);
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    c->out_bytes += len;
    lws_callback_on_writable(c->wsi);
}

void ws_conn_send_json(ws_conn *c, json_t *msg)
{
    char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (text)
        ws_conn_send_text(c, text, strlen(text));
    free(text);
}

void ws_conn_send_error(ws_conn *c, const char *code, const char *message)
{
    ws_conn_send_json(c, json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message", message));
}

void ws_conn_close(ws_conn *c, int code, const char *reason)
{
    if (!ws_conn_is_open(c) || c->close_code)
        return;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
    lws_callback_on_writable(c->wsi);
}

void ws_conn_fail(ws_conn *c, const char *code, const char *message, int close_code)
{
    ws_conn_send_error(c, code, message);
    ws_conn_close(c, close_code, code);
}

/* lws 4.1 on libuv drops the close frame when a callback returns -1 after
 * lws_close_reason() (its libuv close path runs twice and the second run kills the
 * socket). So the close frame is written here, and the peer's answering close ends the
 * connection; a peer that never answers is cut off after a few seconds. */
static int send_close_frame(ws_conn *c)
{
    unsigned char frame[LWS_PRE + 2 + sizeof c->close_reason];
    size_t reason_len = strlen(c->close_reason);
    unsigned char *payload = frame + LWS_PRE;
    payload[0] = (unsigned char)(c->close_code >> 8);
    payload[1] = (unsigned char)(c->close_code & 0xff);
    memcpy(payload + 2, c->close_reason, reason_len);
    c->close_started = true;
    /* 4 is lws's own LWS_WRITE_CLOSE, which its public header leaves out. */
    if (lws_write(c->wsi, payload, 2 + reason_len, (enum lws_write_protocol)4) < 0)
        return -1;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK, 3);
    return 0;
}

int ws_conn_write_next(ws_conn *c)
{
    if (c->kill)
        return -1;
    out_msg *m = c->out_head;
    if (!m) {
        if (!c->close_code || c->close_started)
            return 0;
        return send_close_frame(c);
    }
    if (lws_write(c->wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
        return -1;
    c->out_head = m->next;
    if (!c->out_head)
        c->out_tail = NULL;
    c->out_bytes -= m->len;
    free(m);
    if (c->out_head || c->close_code)
        lws_callback_on_writable(c->wsi);
    return 0;
}

int ws_conn_count_message(ws_conn *c, uint64_t now_ms)
{
    int limit = c->rtc->app->cfg->ws_messages_per_second;
    if (now_ms - c->window_start_ms >= 1000) {
        c->window_start_ms = now_ms;
        c->window_count = 0;
        c->rate_error_sent = false;
    }
    c->window_count++;
    if (c->window_count <= limit)
        return 1;
    if (c->window_count > 3 * limit) {
        log_warn("ws %s: flood of %d messages in a second: closing", c->id, c->window_count);
        ws_conn_fail(c, "rate_limited", "too many messages: closing", 1008);
        return -1;
    }
    if (!c->rate_error_sent) {
        c->rate_error_sent = true;
        ws_conn_send_error(c, "rate_limited", "too many messages per second; some were dropped");
    }
    return 0;
}
