/* POST /api/recordings/{roomId}/render: the host renders the session's latest take again,
 * with another layout or resolution. The previous render's files stay where they are, and
 * downloadable, until the worker uploads the new ones over them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "log.h"
#include "storage/storage.h"
#include "store/render_jobs.h"
#include "util/crypto.h"
#include "util/json.h"

#define SETTING_MAX 200
#define EXPIRED_MESSAGE "the take's raw recordings were deleted after the retention period; it cannot be rendered again"

typedef struct {
    http_request *req;
    jwt_claims claims;
    render_job job; /* empty layout or resolution: not chosen yet */
} render_ctx;

/* One line per request: who asked, for which recording, with which settings, and the answer. */
static void log_request(const render_ctx *c, const char *outcome)
{
    log_info("render again: user %s, recording %s, layout %s, resolution %s: %s", c->claims.subject,
             c->job.recording_id[0] ? c->job.recording_id : "(not a UUID)",
             c->job.layout[0] ? c->job.layout : "(unset)", c->job.resolution[0] ? c->job.resolution : "(unset)",
             outcome);
}

/* Answers an error and logs the request with its code; false, for the caller's && chains. */
static bool refuse(render_ctx *c, int status, const char *code, const char *message)
{
    char outcome[64];
    snprintf(outcome, sizeof outcome, "refused, %d %s", status, code);
    log_request(c, outcome);
    http_respond_error(c->req, status, code, message);
    return false;
}

/* ---- the request's settings ----------------------------------------------------------------- */

static bool read_setting(render_ctx *c, json_t *body, const char *name, char *out, size_t out_size)
{
    char value[SETTING_MAX + 1];
    json_field_error err;
    if (!json_get_string_field(body, name, false, 1, SETTING_MAX, value, sizeof value, &err)) {
        http_respond_field_error(c->req, err.field, err.message);
        return false;
    }
    int width, height;
    bool layout = strcmp(name, "layout") == 0;
    size_t len = strlen(value);
    if (len >= out_size ||
        (len && !(layout ? render_jobs_layout_known(value) : render_jobs_resolution_size(value, &width, &height)))) {
        http_respond_field_error(c->req, name, layout ? "layout: must be grid, speaker or side-by-side"
                                                      : "resolution: must be 720p or 1080p");
        return false;
    }
    memcpy(out, value, len + 1);
    return true;
}

/* Both settings are optional, and so is the body. */
static bool read_settings(render_ctx *c)
{
    if (c->req->body_len == 0)
        return true;
    json_t *body = api_read_body(c->req);
    bool ok = body && read_setting(c, body, "layout", c->job.layout, sizeof c->job.layout) &&
              read_setting(c, body, "resolution", c->job.resolution, sizeof c->job.resolution);
    json_decref(body);
    if (!ok)
        log_request(c, "refused, invalid body or settings");
    return ok;
}

/* Settings the host left out are the last render's, or grid at 720p. */
static void default_settings(render_ctx *c, const char *last_layout, const char *last_resolution)
{
    int width, height;
    if (!c->job.layout[0])
        snprintf(c->job.layout, sizeof c->job.layout, "%s",
                 last_layout && render_jobs_layout_known(last_layout) ? last_layout : "grid");
    if (!c->job.resolution[0])
        snprintf(c->job.resolution, sizeof c->job.resolution, "%s",
                 last_resolution && render_jobs_resolution_size(last_resolution, &width, &height) ? last_resolution
                                                                                                 : "720p");
}

/* ---- the session's state -------------------------------------------------------------------- */

/* The caller's recording, its latest take, how many participants have chunks in it, whether
 * any of its raw chunks were deleted, the settings of the recording's latest render, and the
 * take's oldest chunk. */
#define STATE_SQL                                                                                            \
    "SELECT t.id, t.status, "                                                                                \
    "(SELECT COUNT(DISTINCT c.participant_id) FROM chunks c WHERE c.take_id = t.id AND c.status = 'stored'), " \
    "(SELECT COUNT(*) FROM chunks c WHERE c.take_id = t.id AND c.status = 'expired'), "                      \
    "(SELECT j.layout FROM render_jobs j WHERE j.recording_id = r.id ORDER BY j.created_at DESC, j.id DESC LIMIT 1), " \
    "(SELECT j.resolution FROM render_jobs j WHERE j.recording_id = r.id ORDER BY j.created_at DESC, j.id DESC "   \
    "LIMIT 1), "                                                                                             \
    "(SELECT c.object_key FROM chunks c WHERE c.take_id = t.id AND c.status = 'stored' "                   \
    "ORDER BY c.created_at, c.chunk_index LIMIT 1) "                                                         \
    "FROM recordings r LEFT JOIN takes t ON t.id = (SELECT id FROM takes WHERE recording_id = r.id "        \
    "ORDER BY started_at DESC, id DESC LIMIT 1) "                                                            \
    "WHERE r.id = $1 AND r.host_user_id = $2"

/* The latest take is over, every upload is in (or the host finalised) and its chunks still exist. */
static bool take_renderable(render_ctx *c, const db_result *res)
{
    const char *take = db_value(res, 0, 0);
    if (!take)
        return refuse(c, 409, "not_ready", "nothing has been recorded in this session yet");
    if (strcmp(db_value(res, 0, 1), "complete") != 0)
        return refuse(c, 409, "not_ready",
                      "the session is still recording, or its uploads are not complete yet; render after that");
    if (db_value_int(res, 0, 2, 0) == 0)
        return refuse(c, 409, "not_ready", "the take has no uploaded recordings to render");
    if (db_value_int(res, 0, 3, 0) > 0)
        return refuse(c, 409, "sources_expired", EXPIRED_MESSAGE);
    snprintf(c->job.take_id, sizeof c->job.take_id, "%s", take);
    return true;
}

static bool layout_fits(render_ctx *c, long long participants)
{
    if (strcmp(c->job.layout, "side-by-side") != 0 || participants == 2)
        return true;
    char message[128];
    snprintf(message, sizeof message, "side-by-side needs exactly two participants; this take has %lld", participants);
    return refuse(c, 422, "layout_needs_two_participants", message);
}

/* ---- queueing the job --------------------------------------------------------------------------- */

static void job_enqueued(const db_result *failure, bool queued, void *arg)
{
    render_ctx *c = arg;
    if (failure) {
        log_request(c, "failed, database error");
        api_respond_db_error(c->req, failure, "queueing a render");
    } else if (!queued) {
        refuse(c, 409, "render_in_progress", "a render of this recording is queued or running; wait until it ends");
    } else {
        char outcome[64];
        snprintf(outcome, sizeof outcome, "queued job %s", c->job.id);
        log_request(c, outcome);
        http_respond_json(c->req, 202,
                          json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:i, s:n, s:n, s:i, s:I}}", "render", "id", c->job.id,
                                    "takeId", c->job.take_id, "status", "queued", "layout", c->job.layout,
                                    "resolution", c->job.resolution, "progress", 0, "stage", "error", "attempts", 0,
                                    "updatedAt", (json_int_t)api_now_ms()));
    }
    free(c);
}

/* On S3 the bucket's lifecycle rule deletes raw chunks by age, without telling the database:
 * the take's oldest chunk goes first. Rendering without it would replace good files with gaps. */
static void oldest_chunk_checked(storage_status status, const storage_object *object, void *arg)
{
    render_ctx *c = arg;
    (void)object;
    if (status == STORAGE_NOT_FOUND) {
        refuse(c, 409, "sources_expired", EXPIRED_MESSAGE);
    } else if (status != STORAGE_OK) {
        refuse(c, 503, "unavailable", "storage is unavailable; try again");
    } else if (crypto_uuid_v4(c->job.id) < 0) {
        log_request(c, "failed, no job id");
        api_respond_internal(c->req, "making a render job id");
    } else {
        render_jobs_enqueue(api_app(c->req)->db, &c->job, api_now_ms(), job_enqueued, c);
        return;
    }
    free(c);
}

static void state_loaded(db_result *res, void *arg)
{
    render_ctx *c = arg;
    if (res->status != DB_OK) {
        log_request(c, "failed, database error");
        api_respond_db_error(c->req, res, "loading a recording to render");
        free(c);
        return;
    }
    if (res->nrows == 0) { /* someone else's recording is as absent as a missing one */
        refuse(c, 404, "not_found", "no such recording");
        free(c);
        return;
    }
    if (!take_renderable(c, res)) {
        free(c);
        return;
    }
    default_settings(c, db_value(res, 0, 4), db_value(res, 0, 5));
    if (!layout_fits(c, db_value_int(res, 0, 2, 0))) {
        free(c);
        return;
    }
    storage *st = api_app(c->req)->storage;
    st->backend->head(st, db_value(res, 0, 6), false, oldest_chunk_checked, c);
}

void recordings_render(http_request *req)
{
    render_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        api_respond_internal(req, "allocating");
        return;
    }
    c->req = req;
    if (!api_authenticate(req, JWT_KIND_ACCESS, &c->claims)) {
        free(c);
        return;
    }
    if (req->nparams != 1 || !crypto_is_uuid(req->params[0])) {
        refuse(c, 404, "not_found", "no such recording");
        free(c);
        return;
    }
    memcpy(c->job.recording_id, req->params[0], 36);
    if (!read_settings(c)) {
        free(c);
        return;
    }
    db_param params[] = { DB_TEXT(c->job.recording_id), DB_TEXT(c->claims.subject) };
    db_query(api_app(req)->db, STATE_SQL, params, 2, state_loaded, c);
}
