/* Messages to a room. An envelope carries one message and who in the room gets it; it
 * goes through the rooms back end, so connections on every server instance receive it.
 *
 *   {"msg": {...},              the message itself
 *    "to": "<participantId>",   only this participant
 *    "role": "host",            only participants with this role
 *    "except": "<participantId>",
 *    "joined": "<id>" | "left": "<id>",             presence, for the member lists
 *    "replace": {"participantId", "connId"},          close the participant's other connections
 *    "kick": {"participantId", "code"},               send msg to them, then close
 *    "closeRoom": <code>}                              send msg to everyone, then close */
#ifndef ZC_ENVELOPE_H
#define ZC_ENVELOPE_H

#include <jansson.h>
#include <stddef.h>

typedef struct rtc rtc;

/* Publishes env (stolen) to room_id. */
void envelope_publish(rtc *r, const char *room_id, json_t *env);
/* Shorthands: msg (stolen) to everyone but except (NULL: everyone), or to one participant. */
void envelope_broadcast(rtc *r, const char *room_id, json_t *msg, const char *except);
void envelope_send_to(rtc *r, const char *room_id, const char *participant_id, json_t *msg);

/* The rooms back end's delivery callback: hands an envelope to this instance's connections. */
void envelope_deliver(void *ctx, const char *room_id, const char *text, size_t len);

#endif
