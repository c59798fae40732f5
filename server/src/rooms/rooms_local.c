/* In-process rooms: member lists in a hash table, messages delivered straight to this
 * instance's connections. For one server instance (the embedded default). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rooms/rooms.h"

#define BUCKETS 256
#define STATUS_MAX 256

typedef struct upload_status {
    struct upload_status *next;
    char participant_id[40];
    char json[STATUS_MAX];
} upload_status;

typedef struct room {
    struct room *next;
    char id[ROOM_ID_LEN + 1];
    room_member *members;
    int count, capacity;
    upload_status *uploads;
} room;

typedef struct {
    uv_loop_t *loop;
    room *buckets[BUCKETS];
} local_rooms;

/* Callbacks never run inside the call that asked for them: a zero timer defers them. */
typedef struct {
    uv_timer_t timer;
    rooms_status status;
    room_member *members;
    int count;
    char *uploads;
    rooms_join_cb join_cb;
    rooms_uploads_cb uploads_cb;
    rooms_member_cb member_cb;
    bool is_member;
    void *ctx;
} deferred;

static unsigned bucket_of(const char *id)
{
    unsigned h = 5381;
    while (*id)
        h = h * 33 + (unsigned char)*id++;
    return h % BUCKETS;
}

static room **find_slot(local_rooms *lr, const char *id)
{
    room **slot = &lr->buckets[bucket_of(id)];
    while (*slot && strcmp((*slot)->id, id) != 0)
        slot = &(*slot)->next;
    return slot;
}

static room *find_or_create(local_rooms *lr, const char *id)
{
    room **slot = find_slot(lr, id);
    if (!*slot && (*slot = calloc(1, sizeof **slot)))
        snprintf((*slot)->id, sizeof (*slot)->id, "%s", id);
    return *slot;
}

static void room_free(room *rm)
{
    for (upload_status *u = rm->uploads, *next; u; u = next) {
        next = u->next;
        free(u);
    }
    free(rm->members);
    free(rm);
}

static void drop_room(local_rooms *lr, const char *id)
{
    room **slot = find_slot(lr, id);
    room *rm = *slot;
    if (rm) {
        *slot = rm->next;
        room_free(rm);
    }
}

/* ---- deferred callbacks ------------------------------------------------------------- */

static void deferred_closed(uv_handle_t *h)
{
    deferred *d = h->data;
    free(d->members);
    free(d->uploads);
    free(d);
}

static void deferred_fire(uv_timer_t *t)
{
    deferred *d = t->data;
    if (d->join_cb)
        d->join_cb(d->status, d->members, d->count, d->ctx);
    else if (d->member_cb)
        d->member_cb(d->is_member, d->ctx);
    else
        d->uploads_cb(d->uploads, d->ctx);
    uv_close((uv_handle_t *)t, deferred_closed);
}

static void defer(local_rooms *lr, deferred *d)
{
    uv_timer_init(lr->loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, deferred_fire, 0, 0);
}

/* ---- members -------------------------------------------------------------------------- */

static int index_of(const room *rm, const char *participant_id)
{
    for (int i = 0; i < rm->count; i++)
        if (strcmp(rm->members[i].id, participant_id) == 0)
            return i;
    return -1;
}

static rooms_status add_member(room *rm, const room_member *m, int max_members)
{
    int at = index_of(rm, m->id);
    if (at >= 0) { /* a reconnect: the new connection takes the place */
        rm->members[at] = *m;
        return ROOMS_OK;
    }
    if (rm->count >= max_members)
        return ROOMS_FULL;
    if (rm->count == rm->capacity) {
        int grown = rm->capacity ? rm->capacity * 2 : 8;
        room_member *members = realloc(rm->members, sizeof *members * (size_t)grown);
        if (!members)
            return ROOMS_UNAVAILABLE;
        rm->members = members;
        rm->capacity = grown;
    }
    rm->members[rm->count++] = *m;
    return ROOMS_OK;
}

static void local_join(rooms *self, const char *room_id, const room_member *m, int max_members,
                       rooms_join_cb cb, void *ctx)
{
    local_rooms *lr = self->impl;
    deferred *d = calloc(1, sizeof *d);
    if (!d)
        abort(); /* nothing to answer with; out of memory for 200 bytes */
    d->join_cb = cb;
    d->ctx = ctx;
    room *rm = find_or_create(lr, room_id);
    d->status = rm ? add_member(rm, m, max_members) : ROOMS_UNAVAILABLE;
    if (d->status == ROOMS_OK && (d->members = malloc(sizeof *d->members * (size_t)rm->count))) {
        memcpy(d->members, rm->members, sizeof *d->members * (size_t)rm->count);
        d->count = rm->count;
    }
    defer(lr, d);
}

static void local_leave(rooms *self, const char *room_id, const char *participant_id, const char *conn_id)
{
    local_rooms *lr = self->impl;
    room *rm = *find_slot(lr, room_id);
    int at = rm ? index_of(rm, participant_id) : -1;
    if (at < 0 || strcmp(rm->members[at].conn_id, conn_id) != 0)
        return;
    memmove(&rm->members[at], &rm->members[at + 1], sizeof *rm->members * (size_t)(rm->count - at - 1));
    if (--rm->count == 0)
        drop_room(lr, room_id);
}

static void local_publish(rooms *self, const char *room_id, const char *envelope, size_t len)
{
    if (self->deliver)
        self->deliver(self->deliver_ctx, room_id, envelope, len);
}

/* ---- upload status ---------------------------------------------------------------------- */

static void local_set_upload_status(rooms *self, const char *room_id, const char *participant_id,
                                    const char *status_json)
{
    room *rm = *find_slot(self->impl, room_id);
    if (!rm || strlen(status_json) >= STATUS_MAX)
        return;
    upload_status *u = rm->uploads;
    while (u && strcmp(u->participant_id, participant_id) != 0)
        u = u->next;
    if (!u && (u = calloc(1, sizeof *u))) {
        snprintf(u->participant_id, sizeof u->participant_id, "%s", participant_id);
        u->next = rm->uploads;
        rm->uploads = u;
    }
    if (u)
        snprintf(u->json, sizeof u->json, "%s", status_json);
}

static char *uploads_json(const room *rm)
{
    size_t size = 3;
    for (const upload_status *u = rm ? rm->uploads : NULL; u; u = u->next)
        size += strlen(u->participant_id) + strlen(u->json) + 4;
    char *out = malloc(size), *p = out;
    if (!out)
        return NULL;
    *p++ = '{';
    for (const upload_status *u = rm ? rm->uploads : NULL; u; u = u->next)
        p += sprintf(p, "%s\"%s\":%s", p == out + 1 ? "" : ",", u->participant_id, u->json);
    strcpy(p, "}");
    return out;
}

static void local_get_upload_status(rooms *self, const char *room_id, rooms_uploads_cb cb, void *ctx)
{
    local_rooms *lr = self->impl;
    deferred *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    d->uploads_cb = cb;
    d->ctx = ctx;
    d->uploads = uploads_json(*find_slot(lr, room_id));
    defer(lr, d);
}

/* ---- the rest ------------------------------------------------------------------------------ */

static void local_remove_room(rooms *self, const char *room_id) { drop_room(self->impl, room_id); }

static void local_is_member(rooms *self, const char *room_id, const char *participant_id, rooms_member_cb cb,
                            void *ctx)
{
    local_rooms *lr = self->impl;
    deferred *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    room *rm = *find_slot(lr, room_id);
    d->member_cb = cb;
    d->ctx = ctx;
    d->is_member = rm && index_of(rm, participant_id) >= 0;
    defer(lr, d);
}

static bool local_is_ready(rooms *self)
{
    (void)self;
    return true;
}

static void local_close(rooms *self)
{
    local_rooms *lr = self->impl;
    for (int i = 0; i < BUCKETS; i++)
        for (room *rm = lr->buckets[i], *next; rm; rm = next) {
            next = rm->next;
            room_free(rm);
        }
    free(lr);
    free(self);
}

static const rooms_backend LOCAL_BACKEND = {
    .name = "in-process",
    .join = local_join,
    .leave = local_leave,
    .publish = local_publish,
    .set_upload_status = local_set_upload_status,
    .get_upload_status = local_get_upload_status,
    .remove_room = local_remove_room,
    .is_member = local_is_member,
    .is_ready = local_is_ready,
    .close = local_close,
};

rooms *rooms_local_new(uv_loop_t *loop)
{
    rooms *r = calloc(1, sizeof *r);
    local_rooms *lr = calloc(1, sizeof *lr);
    if (!r || !lr) {
        free(r);
        free(lr);
        return NULL;
    }
    lr->loop = loop;
    r->backend = &LOCAL_BACKEND;
    r->impl = lr;
    return r;
}
