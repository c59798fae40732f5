/* What the pieces of rtc/ share; not for use outside it. */
#ifndef ZC_RTC_INTERNAL_H
#define ZC_RTC_INTERNAL_H

#include <uv.h>

#include "app.h"
#include "rtc/room_registry.h"
#include "rtc/rtc.h"
#include "rtc/ws_conn.h"

#define JOIN_TIMEOUT_MS 10000

struct rtc {
    app *app;
    uv_timer_t heartbeat_timer;
    ws_conn *all;             /* every connection lws still has */
    room_registry *registry;  /* rooms with connections on this instance */
    bool stopping;
};

uint64_t rtc_now_ms(void);

/* join.c */
void rtc_handle_join(ws_conn *c, json_t *msg);
/* signalling.c: one complete text message from a connection. */
void rtc_handle_message(ws_conn *c, const char *text, size_t len);
/* host_controls.c */
void rtc_handle_recording_start(ws_conn *c);
void rtc_handle_recording_stop(ws_conn *c);
void rtc_handle_remove(ws_conn *c, json_t *msg);
/* ice.c: the iceServers array for a participant. */
json_t *rtc_ice_servers(const config *cfg, const char *participant_id, int64_t now_s);
/* ws_protocol.c: a connection left (closed, killed, replaced). */
void rtc_connection_gone(ws_conn *c);

#endif
