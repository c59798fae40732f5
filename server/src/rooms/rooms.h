/* Rooms and pub/sub: who is connected to which session, and messages between the
 * connections of a room, across every server instance.
 *
 * One interface, two implementations: in-process (the embedded default: one server
 * instance) and Redis (REDIS_URL: member sets in Redis hashes, messages over pub/sub).
 * Durable room state (takes, chat) lives in the database, not here: a Redis restart
 * loses nothing that matters, and each instance re-registers its own connections.
 *
 * All calls and callbacks happen on the loop thread. The backend never parses the
 * messages it carries: an "envelope" is opaque text the signalling layer reads. */
#ifndef ZC_ROOMS_H
#define ZC_ROOMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define ROOM_ID_LEN 36
#define ROOM_CONN_ID_MAX 40

typedef struct {
    char id[40];                  /* participant id */
    char name[128];
    char role[8];                 /* "host" or "guest" */
    char conn_id[ROOM_CONN_ID_MAX]; /* the connection holding this membership */
    int64_t joined_at;            /* epoch ms */
} room_member;

typedef enum { ROOMS_OK = 0, ROOMS_FULL, ROOMS_UNAVAILABLE } rooms_status;

/* members: everyone in the room after the join, the joiner included, oldest first. */
typedef void (*rooms_join_cb)(rooms_status status, const room_member *members, int count, void *ctx);
/* uploads: a JSON object {participantId: status} as text ("{}" when none, NULL on failure). */
typedef void (*rooms_uploads_cb)(const char *uploads_json, void *ctx);
/* Whether a participant is in the room right now (on any instance). */
typedef void (*rooms_member_cb)(bool is_member, void *ctx);
/* Called for every envelope published to a room that has members connected to this
 * instance, including envelopes this instance published. */
typedef void (*rooms_deliver_fn)(void *ctx, const char *room_id, const char *envelope, size_t len);

typedef struct rooms rooms;

typedef struct rooms_backend {
    const char *name;
    /* Adds m to room_id, replacing any entry with the same participant id (a reconnect).
     * Refused with ROOMS_FULL when the room already holds max_members others. From now
     * on this instance receives the room's envelopes. cb always runs, later. */
    void (*join)(rooms *self, const char *room_id, const room_member *m, int max_members,
                 rooms_join_cb cb, void *ctx);
    /* The connection conn_id has gone. Removes participant_id from the room only if its
     * entry still belongs to conn_id (a replaced connection leaves the new one alone).
     * Returns nothing: the caller publishes peer-left itself when it should. */
    void (*leave)(rooms *self, const char *room_id, const char *participant_id, const char *conn_id);
    /* Sends envelope to every instance with members in room_id (this one included). */
    void (*publish)(rooms *self, const char *room_id, const char *envelope, size_t len);
    /* Upload progress per participant, kept while the room lives. */
    void (*set_upload_status)(rooms *self, const char *room_id, const char *participant_id,
                              const char *status_json);
    void (*get_upload_status)(rooms *self, const char *room_id, rooms_uploads_cb cb, void *ctx);
    /* The session was deleted: forget its members and state. */
    void (*remove_room)(rooms *self, const char *room_id);
    /* Asks the back end itself, for when this instance has not heard of a participant yet
     * (a peer that joined elsewhere a moment ago). cb always runs, later. */
    void (*is_member)(rooms *self, const char *room_id, const char *participant_id, rooms_member_cb cb, void *ctx);
    bool (*is_ready)(rooms *self);
    /* Closes connections and handles; frees once they are closed (keep running the loop). */
    void (*close)(rooms *self);
} rooms_backend;

struct rooms {
    const rooms_backend *backend;
    rooms_deliver_fn deliver;
    void *deliver_ctx;
    void *impl;
};

rooms *rooms_local_new(uv_loop_t *loop);
/* url: redis://[:password@]host[:port][/db]. Connects asynchronously; NULL with err only
 * when the URL is malformed. */
rooms *rooms_redis_new(uv_loop_t *loop, const char *url, const char *instance_id, char *err, size_t err_size);

static inline void rooms_set_delivery(rooms *r, rooms_deliver_fn fn, void *ctx)
{
    r->deliver = fn;
    r->deliver_ctx = ctx;
}

#endif
