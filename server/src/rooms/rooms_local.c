/* In-process rooms: a hash table of room ids, for one server instance. */
#include "rooms/rooms.h"

#include <stdlib.h>
#include <string.h>

#define BUCKETS 256

typedef struct room {
    struct room *next;
    char id[40];
    char host_user_id[40];
} room;

typedef struct {
    room *buckets[BUCKETS];
} local_rooms;

static unsigned bucket_of(const char *id)
{
    unsigned h = 5381;
    while (*id)
        h = h * 33 + (unsigned char)*id++;
    return h % BUCKETS;
}

static room **find(local_rooms *lr, const char *id)
{
    room **slot = &lr->buckets[bucket_of(id)];
    while (*slot && strcmp((*slot)->id, id) != 0)
        slot = &(*slot)->next;
    return slot;
}

static int local_create(rooms *self, const char *room_id, const char *host_user_id)
{
    room **slot = find(self->impl, room_id);
    if (*slot)
        return 0;
    room *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    strncpy(r->id, room_id, sizeof r->id - 1);
    strncpy(r->host_user_id, host_user_id, sizeof r->host_user_id - 1);
    *slot = r;
    return 0;
}

static void local_remove(rooms *self, const char *room_id)
{
    room **slot = find(self->impl, room_id);
    room *r = *slot;
    if (r) {
        *slot = r->next;
        free(r);
    }
}

static bool local_exists(rooms *self, const char *room_id)
{
    return *find(self->impl, room_id) != NULL;
}

static void local_free(rooms *self)
{
    local_rooms *lr = self->impl;
    for (int i = 0; i < BUCKETS; i++)
        for (room *r = lr->buckets[i], *next; r; r = next) {
            next = r->next;
            free(r);
        }
    free(lr);
    free(self);
}

static const rooms_backend LOCAL_BACKEND = {
    .name = "in-process",
    .create = local_create,
    .remove = local_remove,
    .exists = local_exists,
    .free = local_free,
};

rooms *rooms_local_new(void)
{
    rooms *r = calloc(1, sizeof *r);
    local_rooms *lr = calloc(1, sizeof *lr);
    if (!r || !lr) {
        free(r);
        free(lr);
        return NULL;
    }
    r->backend = &LOCAL_BACKEND;
    r->impl = lr;
    return r;
}
