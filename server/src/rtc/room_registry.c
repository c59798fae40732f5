#include "rtc/room_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/ws_conn.h"

#define BUCKETS 512

struct room_registry {
    room_entry *buckets[BUCKETS];
};

static unsigned bucket_of(const char *room_id)
{
    unsigned h = 2166136261u;
    while (*room_id)
        h = (h ^ (unsigned char)*room_id++) * 16777619u;
    return h % BUCKETS;
}

room_registry *registry_new(void) { return calloc(1, sizeof(room_registry)); }

static void room_free(room_entry *room)
{
    free(room->members);
    free(room);
}

void registry_free(room_registry *reg)
{
    if (!reg)
        return;
    for (int i = 0; i < BUCKETS; i++)
        for (room_entry *room = reg->buckets[i], *next; room; room = next) {
            next = room->next;
            room_free(room);
        }
    free(reg);
}

room_entry *registry_find(room_registry *reg, const char *room_id)
{
    for (room_entry *room = reg->buckets[bucket_of(room_id)]; room; room = room->next)
        if (strcmp(room->room_id, room_id) == 0)
            return room;
    return NULL;
}

room_entry *registry_add_conn(room_registry *reg, ws_conn *c)
{
    room_entry *room = registry_find(reg, c->room_id);
    if (!room) {
        room = calloc(1, sizeof *room);
        if (!room)
            return NULL;
        memcpy(room->room_id, c->room_id, sizeof room->room_id);
        unsigned b = bucket_of(c->room_id);
        room->next = reg->buckets[b];
        reg->buckets[b] = room;
    }
    c->room_next = room->conns;
    room->conns = c;
    return room;
}

static void unlink_room(room_registry *reg, room_entry *room)
{
    room_entry **slot = &reg->buckets[bucket_of(room->room_id)];
    while (*slot != room)
        slot = &(*slot)->next;
    *slot = room->next;
    room_free(room);
}

void registry_remove_conn(room_registry *reg, ws_conn *c)
{
    room_entry *room = registry_find(reg, c->room_id);
    if (!room)
        return;
    for (ws_conn **slot = &room->conns; *slot; slot = &(*slot)->room_next)
        if (*slot == c) {
            *slot = c->room_next;
            break;
        }
    c->room_next = NULL;
    if (!room->conns)
        unlink_room(reg, room);
}

bool room_has_member(const room_entry *room, const char *participant_id)
{
    for (int i = 0; i < room->nmembers; i++)
        if (strcmp(room->members[i], participant_id) == 0)
            return true;
    return false;
}

void room_add_member(room_entry *room, const char *participant_id)
{
    if (room_has_member(room, participant_id))
        return;
    if (room->nmembers == room->capacity) {
        int grown = room->capacity ? room->capacity * 2 : 8;
        char(*members)[40] = realloc(room->members, sizeof *members * (size_t)grown);
        if (!members)
            return;
        room->members = members;
        room->capacity = grown;
    }
    snprintf(room->members[room->nmembers++], 40, "%s", participant_id);
}

void room_remove_member(room_entry *room, const char *participant_id)
{
    for (int i = 0; i < room->nmembers; i++)
        if (strcmp(room->members[i], participant_id) == 0) {
            memmove(room->members[i], room->members[room->nmembers - 1], 40);
            room->nmembers--;
            return;
        }
}

void room_set_members(room_entry *room, const room_member *members, int count)
{
    room->nmembers = 0;
    for (int i = 0; i < count; i++)
        room_add_member(room, members[i].id);
}
