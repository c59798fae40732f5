/* The rooms that have connections on this server instance: for each, its local
 * connections and the ids of everyone in the room (on any instance), as last told by
 * the rooms back end and the presence envelopes since. */
#ifndef ZC_ROOM_REGISTRY_H
#define ZC_ROOM_REGISTRY_H

#include <stdbool.h>

#include "rooms/rooms.h"

typedef struct ws_conn ws_conn;
typedef struct room_registry room_registry;

typedef struct room_entry {
    char room_id[37];
    ws_conn *conns;      /* linked through ws_conn.room_next */
    char (*members)[40]; /* participant ids */
    int nmembers;
    int capacity;
    struct room_entry *next;
} room_entry;

room_registry *registry_new(void);
void registry_free(room_registry *reg);

room_entry *registry_find(room_registry *reg, const char *room_id);
/* Adds c (joined to c->room_id) and returns its room, created on first use. */
room_entry *registry_add_conn(room_registry *reg, ws_conn *c);
/* Removes c; the room goes when its last local connection does. */
void registry_remove_conn(room_registry *reg, ws_conn *c);

void room_set_members(room_entry *room, const room_member *members, int count);
void room_add_member(room_entry *room, const char *participant_id);
void room_remove_member(room_entry *room, const char *participant_id);
bool room_has_member(const room_entry *room, const char *participant_id);

#endif
