/* /api/uploads: how a browser's chunks reach object storage exactly once.
 *
 *   presign  -> a URL for this participant's own key only, while its session's take is
 *               recording or finishing (a 'pending' chunk row remembers size and hash)
 *   (the browser PUTs the bytes straight to storage)
 *   confirm  -> the server checks the stored object's size and SHA-256: 'stored'
 *   status   -> which chunks the server holds, so a client resumes with the rest
 *   complete -> the participant's last chunk; when everyone is complete, a render job */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "log.h"
#include "storage/storage.h"
#include "util/crypto.h"
#include "util/json.h"

#define MAX_CHUNK_INDEX 100000

typedef struct upload_ctx upload_ctx;
typedef void (*upload_step)(upload_ctx *u);

struct upload_ctx {
    http_request *req;
    jwt_claims claims;
    char room_id[37];
    char participant_id[37];
    char take_id[37];
    char take_status[16];
    int64_t take_started_at;
    int64_t take_stopped_at;
    long long chunk_index;
    long long size;
    long long chunk_count;
    long long media_start_ms;
    char sha256[65];
    char content_type[200];
    char key[STORAGE_KEY_MAX];
    upload_step next; /* what to do once caller and take are known */
    bool host_route;  /* another user's session is "not found", as on the recordings routes */
};

static upload_ctx *upload_ctx_new(http_request *req)
{
    upload_ctx *u = calloc(1, sizeof *u);
    if (u)
        u->req = req;
    else
        api_respond_internal(req, "allocating");
    return u;
}

static void upload_finish(upload_ctx *u) { free(u); }

static app *app_of(upload_ctx *u) { return api_app(u->req); }

static bool take_accepts_uploads(const upload_ctx *u)
{
    return strcmp(u->take_status, "recording") == 0 || strcmp(u->take_status, "stopped") == 0;
}

/* ---- who is asking, and which take ------------------------------------------------------- */

static void take_found(db_result *res, void *arg)
{
    upload_ctx *u = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(u->req, res, "finding the take");
        upload_finish(u);
        return;
    }
    if (res->nrows == 0) {
        http_respond_error(u->req, 409, "not_recording", "this session has not recorded anything yet");
        upload_finish(u);
        return;
    }
    snprintf(u->take_id, sizeof u->take_id, "%s", db_value(res, 0, 0));
    snprintf(u->take_status, sizeof u->take_status, "%s", db_value(res, 0, 1));
    u->take_started_at = db_value_int(res, 0, 2, 0);
    u->take_stopped_at = db_value_int(res, 0, 3, 0);
    u->next(u);
}

static void participant_found(db_result *res, void *arg)
{
    upload_ctx *u = arg;
    if (res->status != DB_OK || res->nrows != 1) {
        if (res->status != DB_OK)
            api_respond_db_error(u->req, res, "finding the participant");
        else if (u->host_route)
            http_respond_error(u->req, 404, "not_found", "no such recording");
        else
            http_respond_error(u->req, 403, "forbidden", "you are not a participant of this session");
        upload_finish(u);
        return;
    }
    snprintf(u->participant_id, sizeof u->participant_id, "%s", db_value(res, 0, 0));
    db_param params[] = { DB_TEXT(u->room_id) };
    db_query(app_of(u)->db,
             "SELECT id, status, started_at, stopped_at FROM takes WHERE recording_id = $1 "
             "ORDER BY started_at DESC LIMIT 1",
             params, 1, take_found, u);
}

/* Finds the caller's participant id in roomId (host by access token, guest by
 * participant token), then the session's latest take, then runs u->next. */
static void resolve_caller(upload_ctx *u)
{
    bool guest = u->claims.kind == JWT_KIND_PARTICIPANT;
    if (guest && strcmp(u->claims.room_id, u->room_id) != 0) {
        http_respond_error(u->req, 403, "forbidden", "your invite is for another session");
        upload_finish(u);
        return;
    }
    db_param params[] = { DB_TEXT(u->room_id), DB_TEXT(u->claims.subject) };
    db_query(app_of(u)->db,
             guest ? "SELECT id FROM participants WHERE recording_id = $1 AND id = $2 AND removed_at IS NULL"
                   : "SELECT p.id FROM participants p JOIN recordings r ON r.id = p.recording_id "
                     "WHERE r.id = $1 AND r.host_user_id = $2 AND p.role = 'host'",
             params, 2, participant_found, u);
}

/* The start of every upload route: a token, and the body's roomId (a UUID). */
static upload_ctx *start(http_request *req, json_t **body_out)
{
    upload_ctx *u = upload_ctx_new(req);
    if (!u)
        return NULL;
    json_t *body = NULL;
    if (!api_authenticate_any(req, &u->claims) || (body_out && !(body = api_read_body(req))) ||
        (body && !api_string_field(req, body, "roomId", 36, 36, u->room_id, sizeof u->room_id))) {
        json_decref(body);
        free(u);
        return NULL;
    }
    if (body && !crypto_is_uuid(u->room_id)) {
        http_respond_field_error(req, "roomId", "roomId: must be a session id (a UUID)");
        json_decref(body);
        free(u);
        return NULL;
    }
    if (body_out)
        *body_out = body;
    return u;
}

static bool int_field(upload_ctx *u, json_t *body, const char *name, bool required, long long min, long long max,
                      long long *out)
{
    json_field_error err;
    if (json_get_int_field(body, name, required, min, max, out, &err))
        return true;
    http_respond_field_error(u->req, err.field, err.message);
    return false;
}

/* ---- presign ------------------------------------------------------------------------------ */

/* "video/webm;codecs=vp9,opus" -> "webm". NULL for types a recorder does not make. */
static const char *extension_for(const char *content_type)
{
    static const struct {
        const char *type, *ext;
    } TYPES[] = { { "video/webm", "webm" }, { "audio/webm", "webm" }, { "video/x-matroska", "mkv" },
                  { "video/mp4", "mp4" },   { "audio/mp4", "mp4" } };
    size_t base = strcspn(content_type, ";");
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (strlen(TYPES[i].type) == base && strncasecmp(content_type, TYPES[i].type, base) == 0)
            return TYPES[i].ext;
    return NULL;
}

/* Only what a MediaRecorder MIME type holds, so it is safe in a header and a signature. */
static bool content_type_is_clean(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("/;=,.+- ", *s))
            return false;
    return true;
}

static bool is_sha256_hex(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f'))
            return false;
    return true;
}

static void respond_presigned(upload_ctx *u)
{
    storage *st = app_of(u)->storage;
    storage_presigned p;
    if (st->backend->presign_put(st, u->key, u->content_type, u->sha256, u->size, (int)app_of(u)->cfg->upload_url_ttl_s,
                                 &p) < 0) {
        api_respond_internal(u->req, "presigning an upload");
        upload_finish(u);
        return;
    }
    json_t *headers = json_object();
    for (int i = 0; i < p.nheaders; i++)
        json_object_set_new(headers, p.header_names[i], json_string(p.header_values[i]));
    http_respond_json(u->req, 200,
                      json_pack("{s:b, s:s, s:s, s:o, s:I, s:s, s:s, s:I}", "stored", 0, "url", p.url, "method",
                                p.method, "headers", headers, "expiresAt", (json_int_t)p.expires_at * 1000, "key",
                                u->key, "takeId", u->take_id, "chunkIndex", (json_int_t)u->chunk_index));
    upload_finish(u);
}

static void pending_saved(db_result *res, void *arg)
{
    upload_ctx *u = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(u->req, res, "recording a pending chunk");
        upload_finish(u);
        return;
    }
    respond_presigned(u);
}

static void existing_checked(db_result *res, void *arg)
{
    upload_ctx *u = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(u->req, res, "checking a chunk");
        upload_finish(u);
        return;
    }
    if (res->nrows == 1 && strcmp(db_value(res, 0, 0), "stored") == 0) {
        bool same = strcmp(db_value(res, 0, 1), u->sha256) == 0 && db_value_int(res, 0, 2, -1) == u->size;
        if (same)
            http_respond_json(u->req, 200, json_pack("{s:b, s:s, s:I}", "stored", 1, "takeId", u->take_id,
                                                     "chunkIndex", (json_int_t)u->chunk_index));
        else
            http_respond_error(u->req, 409, "conflict", "a different chunk is already stored under this index");
        upload_finish(u);
        return;
    }
    int64_t now = api_now_ms();
    db_param params[] = { DB_TEXT(u->take_id), DB_TEXT(u->participant_id), DB_INT(u->chunk_index), DB_INT(u->size),
                          DB_TEXT(u->sha256), DB_TEXT(u->content_type), DB_INT(u->media_start_ms),
                          DB_TEXT(u->key), DB_INT(now) };
    db_query(app_of(u)->db,
             "INSERT INTO chunks (take_id, participant_id, chunk_index, size_bytes, sha256, mime_type, media_start_ms, "
             "object_key, created_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending') "
             "ON CONFLICT (take_id, participant_id, chunk_index) DO UPDATE SET size_bytes = $4, sha256 = $5, "
             "mime_type = $6, media_start_ms = $7, object_key = $8 WHERE chunks.status = 'pending'",
             params, 9, pending_saved, u);
}

static void presign_for_take(upload_ctx *u)
{
    if (!take_accepts_uploads(u)) {
        http_respond_error(u->req, 409, "not_recording", "this take is finished; uploads are closed");
        upload_finish(u);
        return;
    }
    snprintf(u->key, sizeof u->key, "recordings/%s/%s/%s/%lld.%s", u->room_id, u->participant_id, u->take_id,
             u->chunk_index, extension_for(u->content_type));
    db_param params[] = { DB_TEXT(u->take_id), DB_TEXT(u->participant_id), DB_INT(u->chunk_index) };
    db_query(app_of(u)->db,
             "SELECT status, sha256, size_bytes FROM chunks WHERE take_id = $1 AND participant_id = $2 "
             "AND chunk_index = $3",
             params, 3, existing_checked, u);
}

static bool read_chunk_fields(upload_ctx *u, json_t *body)
{
    http_request *req = u->req;
    const config *cfg = app_of(u)->cfg;
    if (!int_field(u, body, "chunkIndex", true, 0, MAX_CHUNK_INDEX, &u->chunk_index) ||
        !int_field(u, body, "size", true, 1, cfg->max_chunk_bytes, &u->size) ||
        !int_field(u, body, "mediaStartMs", false, 0, 1LL << 50, &u->media_start_ms) ||
        !api_string_field(req, body, "sha256", 64, 64, u->sha256, sizeof u->sha256) ||
        !api_string_field(req, body, "contentType", 3, sizeof u->content_type - 1, u->content_type,
                          sizeof u->content_type))
        return false;
    if (!is_sha256_hex(u->sha256)) {
        http_respond_field_error(req, "sha256", "sha256: must be 64 lowercase hex digits");
        return false;
    }
    if (!content_type_is_clean(u->content_type) || !extension_for(u->content_type)) {
        http_respond_error(req, 415, "unsupported_media_type",
                           "contentType must be video/webm, video/x-matroska or video/mp4 (codecs allowed)");
        return false;
    }
    return true;
}

void uploads_presign(http_request *req)
{
    json_t *body = NULL;
    upload_ctx *u = start(req, &body);
    if (!u)
        return;
    bool ok = read_chunk_fields(u, body);
    json_decref(body);
    if (!ok) {
        upload_finish(u);
        return;
    }
    u->next = presign_for_take;
    resolve_caller(u);
}

/* ---- confirm -------------------------------------------------------------------------------- */

static void chunk_marked_stored(db_result *res, void *arg)
{
    upload_ctx *u = arg;
    if (res->status != DB_OK)
        api_respond_db_error(u->req, res, "storing a chunk");
    else
        http_respond_json(u->req, 200, json_pack("{s:b, s:s, s:I, s:I}", "stored", 1, "takeId", u->take_id,
                                                 "chunkIndex", (json_int_t)u->chunk_index, "size",
                                                 (json_int_t)u->size));
    upload_finish(u);
}

static void object_checked(storage_status status, const storage_object *object, void *arg)
{
    upload_ctx *u = arg;
    if (status == STORAGE_NOT_FOUND) {
        http_respond_error(u->req, 404, "not_uploaded", "the chunk is not in storage; upload it first");
    } else if (status != STORAGE_OK) {
        log_error("confirm: storage could not read %s", u->key);
        http_respond_error(u->req, 503, "unavailable", "storage is unavailable; try again");
    } else if (object->size != u->size || strcmp(object->sha256, u->sha256) != 0) {
        log_warn("confirm: %s does not match its presigned size and hash", u->key);
        http_respond_error(u->req, 409, "checksum_mismatch", "the stored chunk is not the one that was announced");
    } else {
        db_param params[] = { DB_INT(u->media_start_ms), DB_INT(api_now_ms()), DB_TEXT(u->take_id),
                              DB_TEXT(u->participant_id), DB_INT(u->chunk_index) };
        db_query(app_of(u)->db,
                 "UPDATE chunks SET status = 'stored', media_start_ms = $1, confirmed_at = $2 "
                 "WHERE take_id = $3 AND participant_id = $4 AND chunk_index = $5",
                 params, 5, chunk_marked_stored, u);
        return;
    }
    upload_finish(u);
}

static void chunk_row_found(db_result *res, void *arg)
{
    upload_ctx *u = arg;
    if (res->status != DB_OK || res->nrows != 1) {
        if (res->status != DB_OK)
            api_respond_db_error(u->req, res, "finding a chunk");
        else
            http_respond_error(u->req, 404, "not_found", "no upload was started for this chunk");
        upload_finish(u);
        return;
    }
    u->size = db_value_int(res, 0, 2, 0);
    snprintf(u->sha256, sizeof u->sha256, "%s", db_value(res, 0, 1));
    snprintf(u->key, sizeof u->key, "%s", db_value(res, 0, 3));
    if (strcmp(db_value(res, 0, 0), "stored") == 0) { /* confirmed before: nothing to do */
        chunk_marked_stored(&(db_result){ .status = DB_OK }, u);
        return;
    }
    storage *st = app_of(u)->storage;
    st->backend->head(st, u->key, true, object_checked, u);
}

static void confirm_for_take(upload_ctx *u)
{
    db_param params[] = { DB_TEXT(u->take_id), DB_TEXT(u->participant_id), DB_INT(u->chunk_index) };
    db_query(app_of(u)->db,
             "SELECT status, sha256, size_bytes, object_key FROM chunks WHERE take_id = $1 AND participant_id = $2 "
             "AND chunk_index = $3",
             params, 3, chunk_row_found, u);
}

void uploads_confirm(http_request *req)
{
    json_t *body = NULL;
    upload_ctx *u = start(req, &body);
    if (!u)
        return;
    bool ok = int_field(u, body, "chunkIndex", true, 0, MAX_CHUNK_INDEX, &u->chunk_index) &&
              int_field(u, body, "mediaStartMs", true, 0, 1LL << 50, &u->media_start_ms);
    json_decref(body);
    if (!ok) {
        upload_finish(u);
        return;
    }
    u->next = confirm_for_take;
    resolve_caller(u);
}

/* ---- status ---------------------------------------------------------------------------------- */

static void status_loaded(db_result *res, void *arg)
{
    upload_ctx *u = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(u->req, res, "listing chunks");
        upload_finish(u);
        return;
    }
    json_t *stored = json_array(), *pending = json_array();
    for (int i = 0; i < res->nrows; i++)
        json_array_append_new(strcmp(db_value(res, i, 1), "stored") == 0 ? stored : pending,
                              json_integer(db_value_int(res, i, 0, 0)));
    http_respond_json(u->req, 200,
                      json_pack("{s:s, s:s, s:s, s:o, s:o}", "roomId", u->room_id, "takeId", u->take_id,
                                "takeStatus", u->take_status, "chunks", stored, "pending", pending));
    upload_finish(u);
}

static void status_for_take(upload_ctx *u)
{
    db_param params[] = { DB_TEXT(u->take_id), DB_TEXT(u->participant_id) };
    db_query(app_of(u)->db,
             "SELECT chunk_index, status FROM chunks WHERE take_id = $1 AND participant_id = $2 ORDER BY chunk_index",
             params, 2, status_loaded, u);
}

void uploads_status(http_request *req)
{
    upload_ctx *u = start(req, NULL);
    if (!u)
        return;
    char room[64] = "";
    const char *q = strstr(req->query, "roomId=");
    if (q)
        snprintf(room, sizeof room, "%.*s", (int)strcspn(q + 7, "&"), q + 7);
    if (!crypto_is_uuid(room)) {
        http_respond_field_error(req, "roomId", "roomId: add ?roomId=<session id>");
        upload_finish(u);
        return;
    }
    memcpy(u->room_id, room, 36);
    u->next = status_for_take;
    resolve_caller(u);
}

/* ---- complete: a participant's last chunk; the take's render when everyone is done ------------ */

#define TAKE_PROGRESS_SQL                                                                              \
    "SELECT p.pid, tp.chunk_count, (SELECT COUNT(*) FROM chunks c WHERE c.take_id = $1 "               \
    "AND c.participant_id = p.pid AND c.status = 'stored' AND c.chunk_index < COALESCE(tp.chunk_count, 0)), " \
    "(SELECT COALESCE(MAX(c.chunk_index) + 1, 0) FROM chunks c WHERE c.take_id = $1 AND c.participant_id = p.pid " \
    "AND c.status = 'stored') "                                                                        \
    "FROM (SELECT participant_id AS pid FROM chunks WHERE take_id = $1 UNION "                        \
    "SELECT participant_id FROM take_participants WHERE take_id = $1) p "                             \
    "LEFT JOIN take_participants tp ON tp.take_id = $1 AND tp.participant_id = p.pid"

static void render_queued(db_result *res, void *arg)
{
    upload_ctx *u = arg;
    if (res->status != DB_OK)
        api_respond_db_error(u->req, res, "queueing a render");
    else
        http_respond_json(u->req, 200, json_pack("{s:s, s:b, s:b, s:[], s:s}", "takeId", u->take_id, "complete", 1,
                                                 "takeComplete", 1, "missing", "renderJobId", u->key));
    upload_finish(u);
}

/* Marks the take complete (once, whoever gets here first) and queues its render job. */
static void take_completed(db_result *res, void *arg)
{
    upload_ctx *u = arg;
    if (res->status != DB_OK || res->nrows == 0) {
        if (res->status != DB_OK)
            api_respond_db_error(u->req, res, "completing a take");
        else /* another request completed it a moment ago */
            http_respond_json(u->req, 200, json_pack("{s:s, s:b, s:b, s:[]}", "takeId", u->take_id, "complete", 1,
                                                     "takeComplete", 1, "missing"));
        upload_finish(u);
        return;
    }
    int64_t now = api_now_ms();
    crypto_uuid_v4(u->key); /* the job id, answered to the caller */
    log_info("take %s of %s complete: render job %s queued", u->take_id, u->room_id, u->key);
    db_param status_params[] = { DB_INT(now), DB_TEXT(u->room_id) };
    db_query(app_of(u)->db, "UPDATE recordings SET status = 'queued', updated_at = $1 WHERE id = $2", status_params,
             2, NULL, NULL);
    db_param params[] = { DB_TEXT(u->key), DB_TEXT(u->room_id), DB_TEXT(u->take_id), DB_INT(now) };
    db_query(app_of(u)->db,
             "INSERT INTO render_jobs (id, recording_id, take_id, status, layout, resolution, created_at, updated_at) "
             "VALUES ($1, $2, $3, 'queued', 'grid', '720p', $4, $4)",
             params, 4, render_queued, u);
}

static void complete_take(upload_ctx *u, const char *missing_json)
{
    db_param params[] = { DB_INT(api_now_ms()), DB_TEXT(u->take_id), missing_json ? DB_TEXT(missing_json) : DB_NULL };
    db_query(app_of(u)->db,
             "UPDATE takes SET status = 'complete', completed_at = $1, missing_chunks = $3 "
             "WHERE id = $2 AND status = 'stopped' RETURNING id",
             params, 3, take_completed, u);
}

/* This participant's missing indexes below its declared count. */
static json_t *own_missing(const upload_ctx *u, const db_result *stored)
{
    json_t *missing = json_array();
    int row = 0;
    for (long long i = 0; i < u->chunk_count && json_array_size(missing) < 1000; i++) {
        while (row < stored->nrows && db_value_int(stored, row, 0, 0) < i)
            row++;
        if (row >= stored->nrows || db_value_int(stored, row, 0, 0) != i)
            json_array_append_new(missing, json_integer(i));
    }
    return missing;
}

typedef struct {
    upload_ctx *u;
    json_t *missing;
} complete_ctx;

static void progress_loaded(db_result *res, void *arg)
{
    complete_ctx *cc = arg;
    upload_ctx *u = cc->u;
    json_t *missing = cc->missing;
    free(cc);
    if (res->status != DB_OK) {
        api_respond_db_error(u->req, res, "checking the take");
        json_decref(missing);
        upload_finish(u);
        return;
    }
    bool everyone = res->nrows > 0;
    for (int i = 0; i < res->nrows; i++)
        everyone = everyone && db_value(res, i, 1) && db_value_int(res, i, 2, -1) == db_value_int(res, i, 1, -2);
    if (everyone && json_array_size(missing) == 0) {
        json_decref(missing);
        complete_take(u, NULL);
        return;
    }
    http_respond_json(u->req, 200, json_pack("{s:s, s:b, s:b, s:o}", "takeId", u->take_id, "complete",
                                             json_array_size(missing) == 0, "takeComplete", 0, "missing", missing));
    upload_finish(u);
}

static void own_chunks_loaded(db_result *res, void *arg)
{
    upload_ctx *u = arg;
    complete_ctx *cc = res->status == DB_OK ? calloc(1, sizeof *cc) : NULL;
    if (!cc) {
        api_respond_db_error(u->req, res, "listing chunks");
        upload_finish(u);
        return;
    }
    cc->u = u;
    cc->missing = own_missing(u, res);
    db_param params[] = { DB_TEXT(u->take_id) };
    db_query(app_of(u)->db, TAKE_PROGRESS_SQL, params, 1, progress_loaded, cc);
}

static void declaration_saved(db_result *res, void *arg)
{
    upload_ctx *u = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(u->req, res, "saving a completion");
        upload_finish(u);
        return;
    }
    db_param params[] = { DB_TEXT(u->take_id), DB_TEXT(u->participant_id), DB_INT(u->chunk_count) };
    db_query(app_of(u)->db,
             "SELECT chunk_index FROM chunks WHERE take_id = $1 AND participant_id = $2 AND status = 'stored' "
             "AND chunk_index < $3 ORDER BY chunk_index",
             params, 3, own_chunks_loaded, u);
}

static void complete_for_take(upload_ctx *u)
{
    if (strcmp(u->take_status, "recording") == 0) {
        http_respond_error(u->req, 409, "still_recording", "the take is still recording; complete after the stop");
        upload_finish(u);
        return;
    }
    if (strcmp(u->take_status, "stopped") != 0) {
        http_respond_json(u->req, 200, json_pack("{s:s, s:b, s:b, s:[]}", "takeId", u->take_id, "complete", 1,
                                                 "takeComplete", 1, "missing"));
        upload_finish(u);
        return;
    }
    db_param params[] = { DB_TEXT(u->take_id), DB_TEXT(u->participant_id), DB_INT(u->chunk_count),
                          DB_INT(api_now_ms()) };
    db_query(app_of(u)->db,
             "INSERT INTO take_participants (take_id, participant_id, chunk_count, completed_at) VALUES ($1, $2, $3, $4) "
             "ON CONFLICT (take_id, participant_id) DO UPDATE SET chunk_count = $3, completed_at = $4",
             params, 4, declaration_saved, u);
}

void uploads_complete(http_request *req)
{
    json_t *body = NULL;
    upload_ctx *u = start(req, &body);
    if (!u)
        return;
    bool ok = int_field(u, body, "chunkCount", true, 0, MAX_CHUNK_INDEX + 1, &u->chunk_count);
    json_decref(body);
    if (!ok) {
        upload_finish(u);
        return;
    }
    u->next = complete_for_take;
    resolve_caller(u);
}

/* ---- finalize: the host renders without those who never finished ------------------------------- */

/* {"participantId": {"declared": n|null, "stored": n}} for everyone not complete. */
static json_t *incomplete_participants(const db_result *res)
{
    json_t *missing = json_object();
    for (int i = 0; i < res->nrows; i++) {
        bool declared = db_value(res, i, 1) != NULL;
        if (declared && db_value_int(res, i, 2, -1) == db_value_int(res, i, 1, -2))
            continue;
        json_object_set_new(missing, db_value(res, i, 0),
                            json_pack("{s:o, s:I}", "declared",
                                      declared ? json_integer(db_value_int(res, i, 1, 0)) : json_null(), "stored",
                                      (json_int_t)(declared ? db_value_int(res, i, 2, 0) : db_value_int(res, i, 3, 0))));
    }
    return missing;
}

static void finalize_progress_loaded(db_result *res, void *arg)
{
    upload_ctx *u = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(u->req, res, "checking the take");
        upload_finish(u);
        return;
    }
    json_t *missing = incomplete_participants(res);
    char *text = json_dumps(missing, JSON_COMPACT);
    json_decref(missing);
    log_info("take %s finalised by the host; incomplete: %s", u->take_id, text ? text : "?");
    complete_take(u, text && strcmp(text, "{}") != 0 ? text : NULL);
    free(text);
}

static void finalize_for_take(upload_ctx *u)
{
    int64_t now = api_now_ms();
    if (strcmp(u->take_status, "stopped") != 0) {
        http_respond_error(u->req, 409, strcmp(u->take_status, "recording") == 0 ? "still_recording" : "already_complete",
                           "only a stopped take that is not complete yet can be finalised");
        upload_finish(u);
        return;
    }
    if (now < u->take_stopped_at + app_of(u)->cfg->upload_grace_s * 1000) {
        char wait[24];
        snprintf(wait, sizeof wait, "%lld", (long long)((u->take_stopped_at + app_of(u)->cfg->upload_grace_s * 1000 - now) / 1000 + 1));
        http_add_header(u->req, "retry-after", wait);
        http_respond_error(u->req, 409, "grace_period", "participants may still be uploading; try after Retry-After");
        upload_finish(u);
        return;
    }
    db_param params[] = { DB_TEXT(u->take_id) };
    db_query(app_of(u)->db, TAKE_PROGRESS_SQL, params, 1, finalize_progress_loaded, u);
}

void recordings_finalize(http_request *req)
{
    upload_ctx *u = upload_ctx_new(req);
    if (!u)
        return;
    if (!api_authenticate(req, JWT_KIND_ACCESS, &u->claims) || req->nparams != 1 || !crypto_is_uuid(req->params[0])) {
        if (u->claims.kind == JWT_KIND_ACCESS)
            http_respond_error(req, 404, "not_found", "no such recording");
        upload_finish(u);
        return;
    }
    memcpy(u->room_id, req->params[0], 36);
    u->host_route = true;
    u->next = finalize_for_take;
    resolve_caller(u);
}
