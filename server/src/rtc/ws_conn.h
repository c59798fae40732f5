/* One WebSocket connection: who it is, what waits to be sent, and its limits. */
#ifndef ZC_WS_CONN_H
#define ZC_WS_CONN_H

#include <jansson.h>
#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtc rtc;

typedef enum { CONN_AWAITING_JOIN = 0, CONN_JOINING, CONN_JOINED, CONN_CLOSING } conn_state;

typedef struct out_msg {
    struct out_msg *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then the text */
} out_msg;

typedef struct ws_conn {
    struct lws *wsi;          /* NULL once lws has closed it */
    rtc *rtc;
    char id[37];              /* this connection's id (a reconnect gets a new one) */
    conn_state state;
    uint64_t opened_ms;
    uint64_t last_heard_ms;   /* any frame or pong */
    bool ping_due;
    bool replaced;            /* superseded by a newer connection of the same participant */
    int pending;              /* asynchronous steps still holding this connection */
    int relays_checking;      /* relays waiting for the rooms back end to confirm their peer */

    char query_token[4200];
    char room_id[37];
    char participant_id[37];
    char name[128];
    char role[8];
    int64_t joined_at;

    char *rx;                 /* a message being reassembled from fragments */
    size_t rx_len;
    bool rx_discard;          /* the rest of an oversize or binary message is skipped */

    out_msg *out_head, *out_tail;
    size_t out_bytes;
    int close_code;           /* sent once the queue is flushed; 0 = stay open */
    char close_reason[64];
    bool close_started;
    bool kill;                /* close without waiting for the queue */

    uint64_t window_start_ms; /* message rate, per one-second window */
    int window_count;
    bool rate_error_sent;

    struct ws_conn *room_next; /* the room registry's list */
    struct ws_conn *all_next, *all_prev;
} ws_conn;

ws_conn *ws_conn_new(rtc *r, struct lws *wsi);
/* The connection is gone from lws's side; freed once no asynchronous step holds it. */
void ws_conn_detach(ws_conn *c);
void ws_conn_hold(ws_conn *c);
/* Releases a hold; returns false (and frees c) when c was detached meanwhile. */
bool ws_conn_release(ws_conn *c);
bool ws_conn_is_open(const ws_conn *c);

/* Queues text for sending. A queue over its byte limit disconnects the slow reader. */
void ws_conn_send_text(ws_conn *c, const char *text, size_t len);
/* Serialises and queues msg; steals the reference. */
void ws_conn_send_json(ws_conn *c, json_t *msg);
void ws_conn_send_error(ws_conn *c, const char *code, const char *message);
/* Sends what is queued, then closes with code and reason. */
void ws_conn_close(ws_conn *c, int code, const char *reason);
/* An error message, then the close. */
void ws_conn_fail(ws_conn *c, const char *code, const char *message, int close_code);
/* Closes at once, dropping what is queued (dead or slow peers). */
void ws_conn_kill(ws_conn *c);

/* Called from the lws WRITEABLE callback: writes one frame. Returns -1 to close. */
int ws_conn_write_next(ws_conn *c);
/* Counts one received message against the rate limit. Returns 1 to process it, 0 to drop
 * it, -1 when the connection is being closed for flooding. */
int ws_conn_count_message(ws_conn *c, uint64_t now_ms);

#endif
