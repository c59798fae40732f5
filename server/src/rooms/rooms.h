/* Rooms and pub/sub: one interface, an in-process implementation (the embedded
 * default) and, with the real-time issue, Redis for many server instances.
 * Today a room records that a session exists and who hosts it. */
#ifndef ZC_ROOMS_H
#define ZC_ROOMS_H

#include <stdbool.h>

typedef struct rooms rooms;

typedef struct rooms_backend {
    const char *name;
    int (*create)(rooms *self, const char *room_id, const char *host_user_id);
    void (*remove)(rooms *self, const char *room_id);
    bool (*exists)(rooms *self, const char *room_id);
    void (*free)(rooms *self);
} rooms_backend;

struct rooms {
    const rooms_backend *backend;
    void *impl;
};

rooms *rooms_local_new(void);

static inline int rooms_create(rooms *r, const char *room_id, const char *host_user_id)
{
    return r->backend->create(r, room_id, host_user_id);
}
static inline void rooms_remove(rooms *r, const char *room_id) { r->backend->remove(r, room_id); }
static inline bool rooms_exists(rooms *r, const char *room_id) { return r->backend->exists(r, room_id); }
static inline void rooms_free(rooms *r)
{
    if (r)
        r->backend->free(r);
}

#endif
