/* Real-time rooms: the WebSocket endpoint /ws (subprotocol zencast.v1) where the
 * participants of a session find each other, signal their WebRTC calls, keep their
 * clocks in step and follow the host's controls. See docs/protocol.md.
 *
 * Pieces: ws_protocol.c (lws glue: handshake, frames, writes), ws_conn.c (one
 * connection: send queue, limits, closing), room_registry.c (local connections and the
 * member list of each room), envelope.c (messages to a room, through the rooms back end),
 * join.c, signalling.c and host_controls.c (the messages), ice.c (STUN/TURN). */
#ifndef ZC_RTC_H
#define ZC_RTC_H

#include <libwebsockets.h>

#include "app.h"

typedef struct rtc rtc;

rtc *rtc_new(app *a);
/* The lws protocol served on /ws. */
const struct lws_protocols *rtc_protocol(void);
/* Closes every connection (code 1001) and stops the timers. */
void rtc_stop(rtc *r);
void rtc_free(rtc *r);
/* True while lws still holds WebSocket connections of ours. */
bool rtc_has_connections(const rtc *r);

/* A recording was deleted: everyone connected to it is told and closed. */
void rtc_close_room(rtc *r, const char *room_id);

#endif
