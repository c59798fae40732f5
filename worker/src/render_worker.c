#include "render_worker.h"

#include <ftw.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "log.h"
#include "render_take.h"
#include "store/render_jobs.h"

#define MAX_TRACKS 16

typedef struct {
    char participant_id[40];
    char name[128];
    chunk_ref *chunks;
    int64_t *starts;
    int count, capacity;
} track_input;

struct render_worker {
    render_worker_options o;
    char worker_id[96];
    char work_dir[512];
    uv_timer_t poll_timer;
    uv_timer_t lease_timer;
    uv_work_t work;
    bool stopping;
    int busy; /* steps in flight: claim, load, render, uploads, report */

    /* The job being rendered. */
    render_job job;
    int width, height; /* the job's resolution */
    int64_t take_start_ms, take_stop_ms;
    track_input tracks[MAX_TRACKS];
    int ntracks;
    char out_dir[600];
    char error[256];
    int result;
    atomic_int progress;
    atomic_bool cancel;
    int upload_next;
    int timers_closed;
};

static int64_t now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- the job's inputs --------------------------------------------------------------------- */

static void tracks_free(render_worker *w)
{
    for (int i = 0; i < w->ntracks; i++) {
        for (int c = 0; c < w->tracks[i].count; c++)
            free((char *)w->tracks[i].chunks[c].key);
        free(w->tracks[i].chunks);
        free(w->tracks[i].starts);
    }
    memset(w->tracks, 0, sizeof w->tracks);
    w->ntracks = 0;
}

static track_input *track_for(render_worker *w, const char *participant_id, const char *name)
{
    if (w->ntracks && strcmp(w->tracks[w->ntracks - 1].participant_id, participant_id) == 0)
        return &w->tracks[w->ntracks - 1];
    if (w->ntracks == MAX_TRACKS)
        return NULL;
    track_input *t = &w->tracks[w->ntracks++];
    snprintf(t->participant_id, sizeof t->participant_id, "%s", participant_id);
    snprintf(t->name, sizeof t->name, "%s", name);
    return t;
}

static bool add_chunk(track_input *t, const char *key, int64_t size, int64_t start_ms)
{
    if (t->count == t->capacity) {
        int grown = t->capacity ? t->capacity * 2 : 32;
        chunk_ref *chunks = realloc(t->chunks, sizeof *chunks * (size_t)grown);
        if (chunks)
            t->chunks = chunks;
        int64_t *starts = realloc(t->starts, sizeof *starts * (size_t)grown);
        if (starts)
            t->starts = starts;
        if (!chunks || !starts)
            return false;
        t->capacity = grown;
    }
    t->chunks[t->count] = (chunk_ref){ .key = strdup(key), .size = size };
    t->starts[t->count] = start_ms;
    t->count++;
    return true;
}

/* ---- reporting the end ------------------------------------------------------------------------- */

static void schedule_poll(render_worker *w, int64_t delay_ms);

static void reported(bool ok, void *arg)
{
    render_worker *w = arg;
    (void)ok;
    w->busy--;
    schedule_poll(w, 0); /* another job may be waiting */
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void end_job(render_worker *w, bool ok)
{
    uv_timer_stop(&w->lease_timer);
    nftw(w->out_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    tracks_free(w);
    if (ok) {
        log_info("render worker %s: job %s done", w->worker_id, w->job.id);
        render_jobs_finish(w->o.db, w->job.id, w->worker_id, now_ms(), reported, w);
    } else {
        bool permanent = w->result == -2; /* nothing renderable: retrying will not help */
        render_jobs_fail(w->o.db, w->job.id, w->worker_id, w->error, permanent, w->o.max_attempts, now_ms(),
                         reported, w);
    }
}

/* ---- uploading the results ------------------------------------------------------------------------ */

static void upload_next(render_worker *w);

static void uploaded(storage_status status, void *arg)
{
    render_worker *w = arg;
    if (status != STORAGE_OK) {
        snprintf(w->error, sizeof w->error, "could not store the rendered files");
        end_job(w, false);
        return;
    }
    upload_next(w);
}

/* Output i: 0 is final.mp4, then each participant's .wav and .mp4. */
static void upload_next(render_worker *w)
{
    int i = w->upload_next++;
    if (i > 2 * w->ntracks) {
        end_job(w, true);
        return;
    }
    char path[800], key[STORAGE_KEY_MAX];
    const char *type = "video/mp4";
    if (i == 0) {
        snprintf(path, sizeof path, "%s/final.mp4", w->out_dir);
        snprintf(key, sizeof key, "processed/%s/final.mp4", w->job.recording_id);
    } else {
        const char *pid = w->tracks[(i - 1) / 2].participant_id;
        const char *ext = (i - 1) % 2 == 0 ? "wav" : "mp4";
        snprintf(path, sizeof path, "%s/%s.%s", w->out_dir, pid, ext);
        snprintf(key, sizeof key, "processed/%s/tracks/%s.%s", w->job.recording_id, pid, ext);
        if ((i - 1) % 2 == 0)
            type = "audio/wav";
    }
    w->o.storage->backend->put_file(w->o.storage, key, path, type, uploaded, w);
}

/* ---- rendering, on a pool thread ------------------------------------------------------------------- */

static bool on_progress(int percent, const char *stage, void *arg)
{
    render_worker *w = arg;
    (void)stage;
    atomic_store(&w->progress, percent);
    return !atomic_load(&w->cancel);
}

static void render_on_pool(uv_work_t *work)
{
    render_worker *w = work->data;
    render_track tracks[MAX_TRACKS];
    for (int i = 0; i < w->ntracks; i++)
        tracks[i] = (render_track){ .chunks = w->tracks[i].chunks, .chunk_start_ms = w->tracks[i].starts,
                                    .chunk_count = w->tracks[i].count };
    for (int i = 0; i < w->ntracks; i++) {
        snprintf(tracks[i].participant_id, sizeof tracks[i].participant_id, "%s", w->tracks[i].participant_id);
        snprintf(tracks[i].name, sizeof tracks[i].name, "%s", w->tracks[i].name);
    }
    render_request req = { .storage = w->o.storage, .tracks = tracks, .track_count = w->ntracks,
                           .take_start_ms = w->take_start_ms, .take_stop_ms = w->take_stop_ms,
                           .layout = w->job.layout, .width = w->width, .height = w->height, .out_dir = w->out_dir };
    w->result = render_take(&req, on_progress, w, w->error, sizeof w->error);
}

static void render_done(uv_work_t *work, int status)
{
    render_worker *w = work->data;
    if (status != 0 || w->result != 0) {
        if (status != 0)
            snprintf(w->error, sizeof w->error, "the render was cancelled");
        end_job(w, false);
        return;
    }
    w->upload_next = 0;
    upload_next(w);
}

/* Every quarter lease: the lease renewed and the progress written, or the render stopped. */
static void on_lease_timer(uv_timer_t *t);

static void lease_renewed(bool ok, void *arg)
{
    render_worker *w = arg;
    w->busy--;
    if (!ok)
        atomic_store(&w->cancel, true); /* another worker has the job now */
}

static void on_lease_timer(uv_timer_t *t)
{
    render_worker *w = t->data;
    w->busy++;
    render_jobs_progress(w->o.db, w->job.id, w->worker_id, atomic_load(&w->progress), "rendering", now_ms(), NULL,
                         NULL);
    render_jobs_renew(w->o.db, w->job.id, w->worker_id, now_ms(), w->o.lease_ms, lease_renewed, w);
}

/* The job's resolution as a frame size; a name this worker does not know renders at 720p. */
static void frame_size(render_worker *w)
{
    if (render_jobs_resolution_size(w->job.resolution, &w->width, &w->height))
        return;
    log_warn("render worker %s: job %s asks for resolution \"%s\"; rendering 720p", w->worker_id, w->job.id,
             w->job.resolution);
    render_jobs_resolution_size("720p", &w->width, &w->height);
}

static void start_render(render_worker *w)
{
    frame_size(w);
    snprintf(w->out_dir, sizeof w->out_dir, "%s/%s", w->work_dir, w->job.id);
    mkdir(w->work_dir, 0750);
    mkdir(w->out_dir, 0750);
    atomic_store(&w->progress, 0);
    atomic_store(&w->cancel, w->stopping);
    uv_timer_start(&w->lease_timer, on_lease_timer, (uint64_t)w->o.lease_ms / 4, (uint64_t)w->o.lease_ms / 4);
    w->work.data = w;
    if (uv_queue_work(w->o.loop, &w->work, render_on_pool, render_done) != 0) {
        snprintf(w->error, sizeof w->error, "could not start the render thread");
        end_job(w, false);
    }
}

/* ---- loading the take --------------------------------------------------------------------------- */

static void chunks_loaded(db_result *res, void *arg)
{
    render_worker *w = arg;
    for (int i = 0; res->status == DB_OK && i < res->nrows; i++) {
        track_input *t = track_for(w, db_value(res, i, 0), db_value(res, i, 1));
        if (!t || !add_chunk(t, db_value(res, i, 2), db_value_int(res, i, 3, 0), db_value_int(res, i, 4, 0)))
            break;
    }
    if (res->status != DB_OK || w->ntracks == 0) {
        w->result = res->status == DB_OK ? -2 : -1;
        snprintf(w->error, sizeof w->error, "%s",
                 res->status == DB_OK ? "the take has no stored chunks to render" : "could not load the chunks");
        end_job(w, false);
        return;
    }
    start_render(w);
}

static void take_loaded(db_result *res, void *arg)
{
    render_worker *w = arg;
    if (res->status != DB_OK || res->nrows != 1) {
        w->result = res->status == DB_OK ? -2 : -1;
        snprintf(w->error, sizeof w->error, "could not load the take");
        end_job(w, false);
        return;
    }
    w->take_start_ms = db_value_int(res, 0, 0, 0);
    w->take_stop_ms = db_value_int(res, 0, 1, 0);
    db_param params[] = { DB_TEXT(w->job.take_id) };
    db_query(w->o.db,
             "SELECT c.participant_id, p.name, c.object_key, c.size_bytes, c.media_start_ms FROM chunks c "
             "JOIN participants p ON p.id = c.participant_id WHERE c.take_id = $1 AND c.status = 'stored' "
             "ORDER BY c.participant_id, c.chunk_index",
             params, 1, chunks_loaded, w);
}

/* ---- finding work --------------------------------------------------------------------------------- */

static void on_claim(jobs_claim_status status, const render_job *job, void *arg)
{
    render_worker *w = arg;
    if (status != JOBS_CLAIMED) {
        w->busy--;
        schedule_poll(w, w->o.poll_ms);
        return;
    }
    w->job = *job;
    w->error[0] = '\0';
    w->result = 0;
    db_param params[] = { DB_TEXT(job->take_id) };
    db_query(w->o.db, "SELECT started_at, stopped_at FROM takes WHERE id = $1", params, 1, take_loaded, w);
}

static void on_poll(uv_timer_t *t)
{
    render_worker *w = t->data;
    if (w->stopping || w->busy)
        return;
    w->busy++;
    render_jobs_claim(w->o.db, w->worker_id, now_ms(), w->o.lease_ms, w->o.max_attempts, on_claim, w);
}

static void schedule_poll(render_worker *w, int64_t delay_ms)
{
    if (!w->stopping)
        uv_timer_start(&w->poll_timer, on_poll, (uint64_t)delay_ms, 0);
}

/* ---- life cycle ------------------------------------------------------------------------------------ */

render_worker *render_worker_start(const render_worker_options *opts)
{
    render_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->o = *opts;
    snprintf(w->worker_id, sizeof w->worker_id, "%s", opts->worker_id);
    snprintf(w->work_dir, sizeof w->work_dir, "%s", opts->work_dir);
    w->o.worker_id = w->worker_id;
    w->o.work_dir = w->work_dir;
    uv_timer_init(opts->loop, &w->poll_timer);
    uv_timer_init(opts->loop, &w->lease_timer);
    w->poll_timer.data = w->lease_timer.data = w;
    av_log_set_level(AV_LOG_WARNING); /* libx264's banner and statistics are not our log's business */
    schedule_poll(w, 0);
    log_info("render worker %s started", w->worker_id);
    return w;
}

void render_worker_stop(render_worker *w)
{
    if (!w || w->stopping)
        return;
    w->stopping = true;
    atomic_store(&w->cancel, true);
    uv_timer_stop(&w->poll_timer);
    log_info("render worker %s stopping", w->worker_id);
}

bool render_worker_busy(const render_worker *w) { return w && w->busy > 0; }

static void timer_closed(uv_handle_t *h)
{
    render_worker *w = h->data;
    if (++w->timers_closed == 2) /* libuv runs close callbacks in no promised order */
        free(w);
}

void render_worker_free(render_worker *w)
{
    if (!w)
        return;
    uv_timer_stop(&w->lease_timer);
    uv_close((uv_handle_t *)&w->poll_timer, timer_closed);
    uv_close((uv_handle_t *)&w->lease_timer, timer_closed);
}
