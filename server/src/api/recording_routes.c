/* /api/recordings: a host's sessions (create, list, read, delete, new invite), and
 * /api/rooms/{roomId}/join: a guest joining from an invite link. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "log.h"
#include "rtc/rtc.h"
#include "storage/storage.h"
#include "util/crypto.h"

#define TITLE_MAX 200
#define NAME_MAX_LEN 100
#define INVITE_BYTES 24
#define LIST_LIMIT 200

#define RECORDING_COLUMNS                                                                        \
    "r.id, r.title, r.status, r.created_at, r.updated_at, r.host_user_id, r.invite_token, "     \
    "(SELECT COUNT(*) FROM participants p WHERE p.recording_id = r.id)"

/* What the dashboard shows of each session besides RECORDING_COLUMNS (8 on): the time its
 * stopped takes recorded, the start of a take recording now, and its latest render. */
#define LATEST_RENDER(column) \
    "(SELECT j." column " FROM render_jobs j WHERE j.recording_id = r.id ORDER BY j.created_at DESC, j.id DESC LIMIT 1)"
#define LIST_COLUMNS                                                                                 \
    RECORDING_COLUMNS ", "                                                                           \
    "(SELECT COALESCE(SUM(t.stopped_at - t.started_at), 0) FROM takes t "                           \
    "WHERE t.recording_id = r.id AND t.stopped_at IS NOT NULL), "                                    \
    "(SELECT MAX(t.started_at) FROM takes t WHERE t.recording_id = r.id AND t.stopped_at IS NULL), " \
    LATEST_RENDER("status") ", " LATEST_RENDER("progress") ", " LATEST_RENDER("layout") ", "        \
    LATEST_RENDER("resolution")

typedef struct {
    http_request *req;
    jwt_claims claims;
    char room_id[37];
    char title[TITLE_MAX + 1];
    char name[NAME_MAX_LEN + 1];
    char invite[64];
    char participant_id[37];
    json_t *recording;
} rec_ctx;

static rec_ctx *rec_ctx_new(http_request *req)
{
    rec_ctx *c = calloc(1, sizeof *c);
    if (c)
        c->req = req;
    else
        api_respond_internal(req, "allocating");
    return c;
}

static void rec_ctx_free(rec_ctx *c)
{
    json_decref(c->recording);
    free(c);
}

static void invite_url(const config *cfg, const char *room_id, const char *invite, char *out, size_t size)
{
    snprintf(out, size, "%s/join/%s?invite=%s", cfg->public_url, room_id, invite);
}

/* A recording from a row of RECORDING_COLUMNS. */
static json_t *recording_json(const config *cfg, const db_result *res, int row)
{
    char url[700];
    invite_url(cfg, db_value(res, row, 0), db_value(res, row, 6), url, sizeof url);
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:I}", "roomId", db_value(res, row, 0),
                     "title", db_value(res, row, 1), "status", db_value(res, row, 2), "createdAt",
                     (json_int_t)db_value_int(res, row, 3, 0), "updatedAt",
                     (json_int_t)db_value_int(res, row, 4, 0), "hostUserId", db_value(res, row, 5),
                     "inviteToken", db_value(res, row, 6), "inviteUrl", url, "participantCount",
                     (json_int_t)db_value_int(res, row, 7, 0));
}

static json_t *participants_json(const db_result *res)
{
    json_t *list = json_array();
    for (int i = 0; i < res->nrows; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I}", "id", db_value(res, i, 0), "name",
                                              db_value(res, i, 1), "role", db_value(res, i, 2), "joinedAt",
                                              (json_int_t)db_value_int(res, i, 3, 0)));
    return list;
}

/* Reads {roomId} from the path; anything but a UUID cannot be a room. */
static bool read_room_id(rec_ctx *c)
{
    const char *id = c->req->params[0];
    if (c->req->nparams == 1 && crypto_is_uuid(id)) {
        memcpy(c->room_id, id, 36);
        c->room_id[36] = '\0';
        return true;
    }
    http_respond_error(c->req, 404, "not_found", "no such recording");
    return false;
}

/* A host route's start: a signed-in user, and for routes with {roomId}, a UUID. */
static rec_ctx *host_route_start(http_request *req, bool with_room)
{
    rec_ctx *c = rec_ctx_new(req);
    if (!c)
        return NULL;
    if (!api_authenticate(req, JWT_KIND_ACCESS, &c->claims) || (with_room && !read_room_id(c))) {
        rec_ctx_free(c);
        return NULL;
    }
    return c;
}

/* ---- read one: the recording, then its participants ------------------------------ */

static void respond_recording(rec_ctx *c)
{
    http_respond_json(c->req, c->req->method == HTTP_POST ? 201 : 200, json_pack("{s:O}", "recording", c->recording));
    rec_ctx_free(c);
}

#define DOWNLOAD_URL_TTL_S 3600

static json_t *download_url(app *a, const char *key)
{
    storage_presigned p;
    if (a->storage->backend->presign_get(a->storage, key, DOWNLOAD_URL_TTL_S, &p) < 0)
        return json_null();
    return json_string(p.url);
}

/* Links to the rendered files (presigned: on S3 they point at the bucket). */
static json_t *downloads_json(app *a, const char *room_id, json_t *recording)
{
    char key[STORAGE_KEY_MAX];
    snprintf(key, sizeof key, "processed/%s/final.mp4", room_id);
    json_t *tracks = json_object();
    size_t i;
    json_t *participant;
    json_array_foreach(json_object_get(recording, "participants"), i, participant) {
        const char *pid = json_string_value(json_object_get(participant, "id"));
        char wav_key[STORAGE_KEY_MAX], mp4_key[STORAGE_KEY_MAX];
        snprintf(wav_key, sizeof wav_key, "processed/%s/tracks/%s.wav", room_id, pid);
        snprintf(mp4_key, sizeof mp4_key, "processed/%s/tracks/%s.mp4", room_id, pid);
        json_object_set_new(tracks, pid,
                            json_pack("{s:o, s:o}", "wav", download_url(a, wav_key), "video", download_url(a, mp4_key)));
    }
    return json_pack("{s:o, s:o, s:I}", "final", download_url(a, key), "tracks", tracks, "expiresIn",
                     (json_int_t)DOWNLOAD_URL_TTL_S);
}

static void render_loaded(db_result *res, void *arg)
{
    rec_ctx *c = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(c->req, res, "loading the render");
        rec_ctx_free(c);
        return;
    }
    json_t *render = res->nrows == 0 ? json_null()
        : json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s?, s:s?, s:i, s:I}", "id", db_value(res, 0, 0), "takeId",
                    db_value(res, 0, 1) ? db_value(res, 0, 1) : "", "status", db_value(res, 0, 2), "layout",
                    db_value(res, 0, 3), "resolution", db_value(res, 0, 9), "progress",
                    (json_int_t)db_value_int(res, 0, 4, 0), "stage", db_value(res, 0, 5), "error", db_value(res, 0, 6),
                    "attempts", (int)db_value_int(res, 0, 7, 0), "updatedAt", (json_int_t)db_value_int(res, 0, 8, 0));
    json_object_set_new(c->recording, "render", render);
    /* The files of the last render that finished, also while a new render is on its way. */
    if (res->nrows == 1 && db_value_int(res, 0, 10, 0) > 0)
        json_object_set_new(c->recording, "downloads", downloads_json(api_app(c->req), c->room_id, c->recording));
    respond_recording(c);
}

/* Each take and, per participant, how far its chunks got: what the host watches. */
static json_t *takes_json(const db_result *res)
{
    json_t *takes = json_array(), *take = NULL;
    const char *current = "";
    for (int i = 0; i < res->nrows; i++) {
        if (strcmp(current, db_value(res, i, 0)) != 0) {
            current = db_value(res, i, 0);
            take = json_pack("{s:s, s:s, s:I, s:o, s:o, s:[]}", "takeId", current, "status", db_value(res, i, 1),
                             "startedAt", (json_int_t)db_value_int(res, i, 2, 0), "stoppedAt",
                             db_value(res, i, 3) ? json_integer(db_value_int(res, i, 3, 0)) : json_null(),
                             "missing", db_value(res, i, 4) ? json_loads(db_value(res, i, 4), 0, NULL) : json_null(),
                             "participants");
            json_array_append_new(takes, take);
        }
        if (!db_value(res, i, 5))
            continue; /* a take with no chunk yet */
        json_array_append_new(json_object_get(take, "participants"),
                              json_pack("{s:s, s:I, s:I, s:o, s:b}", "participantId", db_value(res, i, 5),
                                        "chunksStored", (json_int_t)db_value_int(res, i, 6, 0), "chunksPending",
                                        (json_int_t)db_value_int(res, i, 7, 0), "chunkCount",
                                        db_value(res, i, 8) ? json_integer(db_value_int(res, i, 8, 0)) : json_null(),
                                        "completed", db_value(res, i, 8) != NULL));
    }
    return takes;
}

static void takes_loaded(db_result *res, void *arg)
{
    rec_ctx *c = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(c->req, res, "loading takes");
        rec_ctx_free(c);
        return;
    }
    json_object_set_new(c->recording, "takes", takes_json(res));
    db_param params[] = { DB_TEXT(c->room_id) };
    db_query(api_app(c->req)->db,
             "SELECT id, take_id, status, layout, progress, stage, error, attempts, updated_at, resolution, "
             "(SELECT COUNT(*) FROM render_jobs d WHERE d.recording_id = $1 AND d.status = 'done') FROM render_jobs "
             "WHERE recording_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
             params, 1, render_loaded, c);
}

static void get_participants_loaded(db_result *res, void *arg)
{
    rec_ctx *c = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(c->req, res, "loading participants");
        rec_ctx_free(c);
        return;
    }
    json_object_del(c->recording, "participantCount");
    json_object_set_new(c->recording, "participants", participants_json(res));
    if (c->req->method == HTTP_POST) { /* a new session has no takes or renders yet */
        json_object_set_new(c->recording, "takes", json_array());
        json_object_set_new(c->recording, "render", json_null());
        respond_recording(c);
        return;
    }
    db_param params[] = { DB_TEXT(c->room_id) };
    db_query(api_app(c->req)->db,
             "SELECT t.id, t.status, t.started_at, t.stopped_at, t.missing_chunks, p.participant_id, "
             "(SELECT COUNT(*) FROM chunks c WHERE c.take_id = t.id AND c.participant_id = p.participant_id "
             "AND c.status = 'stored'), "
             "(SELECT COUNT(*) FROM chunks c WHERE c.take_id = t.id AND c.participant_id = p.participant_id "
             "AND c.status = 'pending'), tp.chunk_count "
             "FROM takes t LEFT JOIN (SELECT DISTINCT take_id, participant_id FROM chunks) p ON p.take_id = t.id "
             "LEFT JOIN take_participants tp ON tp.take_id = t.id AND tp.participant_id = p.participant_id "
             "WHERE t.recording_id = $1 ORDER BY t.started_at, t.id, p.participant_id",
             params, 1, takes_loaded, c);
}

static void load_participants(rec_ctx *c)
{
    db_param params[] = { DB_TEXT(c->room_id) };
    db_query(api_app(c->req)->db,
             "SELECT id, name, role, joined_at FROM participants WHERE recording_id = $1 "
             "ORDER BY joined_at, id",
             params, 1, get_participants_loaded, c);
}

static void get_recording_loaded(db_result *res, void *arg)
{
    rec_ctx *c = arg;
    if (res->status != DB_OK || res->nrows != 1) {
        if (res->status != DB_OK)
            api_respond_db_error(c->req, res, "loading a recording");
        else
            http_respond_error(c->req, 404, "not_found", "no such recording");
        rec_ctx_free(c);
        return;
    }
    c->recording = recording_json(api_app(c->req)->cfg, res, 0);
    load_participants(c);
}

static void load_recording(rec_ctx *c)
{
    db_param params[] = { DB_TEXT(c->room_id), DB_TEXT(c->claims.subject) };
    db_query(api_app(c->req)->db,
             "SELECT " RECORDING_COLUMNS " FROM recordings r WHERE r.id = $1 AND r.host_user_id = $2",
             params, 2, get_recording_loaded, c);
}

void recordings_get(http_request *req)
{
    rec_ctx *c = host_route_start(req, true);
    if (c)
        load_recording(c);
}

/* ---- create: the recording row, the host as first participant, the room ------------ */

static void create_host_added(db_result *res, void *arg)
{
    rec_ctx *c = arg;
    app *a = api_app(c->req);
    if (res->status != DB_OK) {
        api_respond_db_error(c->req, res, "adding the host");
        db_param params[] = { DB_TEXT(c->room_id) };
        db_query(a->db, "DELETE FROM recordings WHERE id = $1", params, 1, NULL, NULL);
        rec_ctx_free(c);
        return;
    }
    log_info("recording %s created by user %s", c->room_id, c->claims.subject);
    load_recording(c);
}

static void create_inserted(db_result *res, void *arg)
{
    rec_ctx *c = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(c->req, res, "creating a recording");
        rec_ctx_free(c);
        return;
    }
    db_param params[] = { DB_TEXT(c->participant_id), DB_TEXT(c->room_id), DB_TEXT(c->claims.subject),
                          DB_TEXT(c->claims.name[0] ? c->claims.name : "Host"), DB_INT(api_now_ms()) };
    db_query(api_app(c->req)->db,
             "INSERT INTO participants (id, recording_id, user_id, role, name, joined_at) "
             "VALUES ($1, $2, $3, 'host', $4, $5)",
             params, 5, create_host_added, c);
}

void recordings_create(http_request *req)
{
    rec_ctx *c = host_route_start(req, false);
    if (!c)
        return;
    json_t *body = api_read_body(req);
    bool ok = body && api_string_field(req, body, "title", 1, TITLE_MAX, c->title, sizeof c->title);
    json_decref(body);
    if (!ok) {
        rec_ctx_free(c);
        return;
    }
    if (crypto_uuid_v4(c->room_id) < 0 || crypto_uuid_v4(c->participant_id) < 0 ||
        crypto_random_token(INVITE_BYTES, c->invite, sizeof c->invite) < 0) {
        api_respond_internal(req, "making identifiers");
        rec_ctx_free(c);
        return;
    }
    int64_t now = api_now_ms();
    db_param params[] = { DB_TEXT(c->room_id), DB_TEXT(c->claims.subject), DB_TEXT(c->title),
                          DB_TEXT(c->invite), DB_INT(now) };
    db_query(api_app(req)->db,
             "INSERT INTO recordings (id, host_user_id, title, status, invite_token, created_at, updated_at) "
             "VALUES ($1, $2, $3, 'created', $4, $5, $5)",
             params, 5, create_inserted, c);
}

/* ---- list ------------------------------------------------------------------------ */

/* A row of LIST_COLUMNS: the recording, its recorded time and its latest render's summary. */
static json_t *list_item_json(const config *cfg, const db_result *res, int row)
{
    json_t *item = recording_json(cfg, res, row);
    json_object_set_new(item, "recordedMs", json_integer(db_value_int(res, row, 8, 0)));
    json_object_set_new(item, "recordingSince", db_value(res, row, 9) ? json_integer(db_value_int(res, row, 9, 0)) : json_null());
    json_t *render = !db_value(res, row, 10) ? json_null()
        : json_pack("{s:s, s:I, s:s, s:s}", "status", db_value(res, row, 10), "progress",
                    (json_int_t)db_value_int(res, row, 11, 0), "layout", db_value(res, row, 12), "resolution",
                    db_value(res, row, 13));
    json_object_set_new(item, "render", render ? render : json_null());
    return item;
}

static void list_loaded(db_result *res, void *arg)
{
    rec_ctx *c = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(c->req, res, "listing recordings");
    } else {
        json_t *list = json_array();
        for (int i = 0; i < res->nrows; i++)
            json_array_append_new(list, list_item_json(api_app(c->req)->cfg, res, i));
        http_respond_json(c->req, 200, json_pack("{s:o}", "recordings", list));
    }
    rec_ctx_free(c);
}

void recordings_list(http_request *req)
{
    rec_ctx *c = host_route_start(req, false);
    if (!c)
        return;
    db_param params[] = { DB_TEXT(c->claims.subject), DB_INT(LIST_LIMIT) };
    db_query(api_app(req)->db,
             "SELECT " LIST_COLUMNS " FROM recordings r WHERE r.host_user_id = $1 "
             "ORDER BY r.created_at DESC, r.id LIMIT $2",
             params, 2, list_loaded, c);
}

/* ---- delete and new invite ---------------------------------------------------------- */

static void delete_done(db_result *res, void *arg)
{
    rec_ctx *c = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(c->req, res, "deleting a recording");
    } else if (res->affected == 0) {
        http_respond_error(c->req, 404, "not_found", "no such recording");
    } else {
        app *a = api_app(c->req);
        rtc_close_room(a->rtc, c->room_id);
        a->rooms->backend->remove_room(a->rooms, c->room_id);
        log_info("recording %s deleted by user %s", c->room_id, c->claims.subject);
        http_respond_empty(c->req, 204);
    }
    rec_ctx_free(c);
}

void recordings_delete(http_request *req)
{
    rec_ctx *c = host_route_start(req, true);
    if (!c)
        return;
    db_param params[] = { DB_TEXT(c->room_id), DB_TEXT(c->claims.subject) };
    db_query(api_app(req)->db, "DELETE FROM recordings WHERE id = $1 AND host_user_id = $2", params, 2,
             delete_done, c);
}

static void invite_rotated(db_result *res, void *arg)
{
    rec_ctx *c = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(c->req, res, "rotating an invite");
    } else if (res->nrows == 0) {
        http_respond_error(c->req, 404, "not_found", "no such recording");
    } else {
        char url[700];
        invite_url(api_app(c->req)->cfg, c->room_id, c->invite, url, sizeof url);
        http_respond_json(c->req, 200, json_pack("{s:s, s:s}", "inviteToken", c->invite, "inviteUrl", url));
    }
    rec_ctx_free(c);
}

void recordings_rotate_invite(http_request *req)
{
    rec_ctx *c = host_route_start(req, true);
    if (!c)
        return;
    if (crypto_random_token(INVITE_BYTES, c->invite, sizeof c->invite) < 0) {
        api_respond_internal(req, "making an invite");
        rec_ctx_free(c);
        return;
    }
    db_param params[] = { DB_TEXT(c->invite), DB_INT(api_now_ms()), DB_TEXT(c->room_id),
                          DB_TEXT(c->claims.subject) };
    db_query(api_app(req)->db,
             "UPDATE recordings SET invite_token = $1, updated_at = $2 WHERE id = $3 AND host_user_id = $4 "
             "RETURNING id",
             params, 4, invite_rotated, c);
}

/* ---- a guest joins ------------------------------------------------------------------ */

static void join_added(db_result *res, void *arg)
{
    rec_ctx *c = arg;
    app *a = api_app(c->req);
    if (res->status != DB_OK) {
        if (res->status == DB_ERR_CONSTRAINT) /* the recording was deleted meanwhile */
            http_respond_error(c->req, 404, "not_found", "no such recording");
        else
            api_respond_db_error(c->req, res, "adding a guest");
        rec_ctx_free(c);
        return;
    }
    int64_t now = api_now_ms();
    char *token = jwt_sign_claims(a->cfg->jwt_secret, a->cfg->jwt_secret_len, JWT_KIND_PARTICIPANT,
                                  c->participant_id, c->room_id, c->name, now / 1000, a->cfg->participant_ttl_s);
    if (!token) {
        api_respond_internal(c->req, "signing a participant token");
        rec_ctx_free(c);
        return;
    }
    log_info("guest %s joined recording %s", c->participant_id, c->room_id);
    json_t *participant = json_pack("{s:s, s:s, s:s, s:I}", "id", c->participant_id, "name", c->name, "role",
                                    "guest", "joinedAt", (json_int_t)db_value_int(res, 0, 0, now));
    http_respond_json(c->req, 201, json_pack("{s:s, s:o, s:s, s:I}", "roomId", c->room_id, "participant",
                                             participant, "participantToken", token, "expiresIn",
                                             (json_int_t)a->cfg->participant_ttl_s));
    free(token);
    rec_ctx_free(c);
}

static void join_room_found(db_result *res, void *arg)
{
    rec_ctx *c = arg;
    if (res->status != DB_OK || res->nrows != 1) {
        if (res->status != DB_OK)
            api_respond_db_error(c->req, res, "finding a room");
        else
            http_respond_error(c->req, 404, "not_found", "no such recording");
        rec_ctx_free(c);
        return;
    }
    if (!crypto_equal_ct(db_value(res, 0, 0), c->invite)) {
        http_respond_error(c->req, 403, "invalid_invite", "this invite link is not valid any more");
        rec_ctx_free(c);
        return;
    }
    db_param params[] = { DB_TEXT(c->participant_id), DB_TEXT(c->room_id), DB_TEXT(c->name),
                          DB_INT(api_now_ms()) };
    db_query(api_app(c->req)->db,
             "INSERT INTO participants (id, recording_id, role, name, joined_at) "
             "VALUES ($1, $2, 'guest', $3, $4) RETURNING joined_at",
             params, 4, join_added, c);
}

void rooms_join(http_request *req)
{
    rec_ctx *c = rec_ctx_new(req);
    if (!c)
        return;
    json_t *body = NULL;
    bool ok = read_room_id(c) && (body = api_read_body(req)) &&
              api_string_field(req, body, "inviteToken", 1, 60, c->invite, sizeof c->invite) &&
              api_string_field(req, body, "name", 1, NAME_MAX_LEN, c->name, sizeof c->name);
    json_decref(body);
    if (!ok || crypto_uuid_v4(c->participant_id) < 0) {
        if (ok)
            api_respond_internal(req, "making a participant id");
        rec_ctx_free(c);
        return;
    }
    db_param params[] = { DB_TEXT(c->room_id) };
    db_query(api_app(req)->db, "SELECT invite_token FROM recordings WHERE id = $1", params, 1,
             join_room_found, c);
}
