/* render_take: every participant's chunks in; one synced, loudness-normalised final.mp4
 * (H.264 + AAC) and, per participant, <participantId>.mp4 and <participantId>.wav out.
 * The two passes and the graphs are described in render_internal.h and render_graph.c;
 * a clock drifting against the server's in render_clock.c.
 *
 * Limits (left for later):
 * - each pass reads the chunks from storage: the analysis reads the video bytes too (the
 *   demuxer has to walk over them), which doubles the reading from S3. */
#include "render_take.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "render_internal.h"

int render_fail(render *r, int averr, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (r->err && r->err_size) {
        if (averr < 0) {
            char e[AV_ERROR_MAX_STRING_SIZE];
            av_strerror(averr, e, sizeof e);
            snprintf(r->err, r->err_size, "%s: %s", what, e);
        } else {
            snprintf(r->err, r->err_size, "%s", what);
        }
    }
    return -1;
}

bool render_report(render *r, int percent, const char *stage)
{
    if (!r->progress || r->cancelled)
        return !r->cancelled;
    if (!r->progress(percent, stage, r->ctx)) {
        r->cancelled = true;
        render_fail(r, 0, "cancelled");
        return false;
    }
    return true;
}

/* ---- the request ---------------------------------------------------------------------------- */

static bool valid_request(render *r, const render_request *req)
{
    if (!req || !req->storage || !req->out_dir || req->track_count <= 0 || !req->tracks || req->width < 16 ||
        req->height < 16)
        return render_fail(r, 0, "bad render request"), false;
    for (int i = 0; i < req->track_count; i++) { /* it names files in out_dir */
        const char *id = req->tracks[i].participant_id;
        if (!id[0] || id[0] == '.' || strchr(id, '/') || !memchr(id, '\0', sizeof req->tracks[i].participant_id) ||
            strlen(id) > 40)
            return render_fail(r, 0, "bad participant id"), false;
    }
    return true;
}

/* The layout asked for, or the grid when it cannot place this many participants. */
static int choose_layout(render *r)
{
    char err[256];
    const char *name = r->req->layout && r->req->layout[0] ? r->req->layout : "grid";
    r->layout = layout_load(name, err, sizeof err);
    if (r->layout && layout_max_participants(r->layout) >= r->n && (strcmp(name, "side-by-side") != 0 || r->n == 2))
        return 0;
    if (r->layout)
        log_warn("render: the %s layout cannot place %d participants: grid instead", name, r->n);
    else
        log_warn("render: %s: grid instead", err);
    layout_free(r->layout);
    if (!(r->layout = layout_load("grid", err, sizeof err)))
        return render_fail(r, 0, "%s", err);
    if (layout_max_participants(r->layout) < r->n)
        return render_fail(r, 0, "%d participants: more than a layout can place", r->n);
    return 0;
}

/* The take's length: its stop time, or else the longest track's. */
static int find_duration(render *r)
{
    r->duration_ms = r->req->take_stop_ms - r->req->take_start_ms;
    if (r->duration_ms <= 0) {
        r->duration_ms = 0;
        for (int i = 0; i < r->n; i++) {
            int64_t end_ms = render_track_end_ms(r, &r->tracks[i]);
            if (end_ms > r->duration_ms)
                r->duration_ms = end_ms;
        }
        if (r->duration_ms <= 0)
            return render_fail(r, 0, "nothing to render: no track has a known duration");
    }
    r->total_frames = (r->duration_ms * FPS + 999) / 1000; /* as many as the colour source makes */
    r->window_count = (int)((r->duration_ms + SPEAKER_WINDOW_MS - 1) / SPEAKER_WINDOW_MS);
    return 0;
}

/* ---- the passes ----------------------------------------------------------------------------- */

static void open_tracks(render *r, render_pass pass)
{
    r->pass = pass;
    for (int i = 0; i < r->n; i++) {
        track *t = &r->tracks[i];
        render_close_track(t);
        memset(t, 0, sizeof *t);
        t->index = i;
        render_open_track(r, t, &r->req->tracks[i]);
        t->clock_ratio = r->clock_ratios[i];
        t->declared_rate = t->adec ? (int)lrint(t->adec->sample_rate / t->clock_ratio) : 0;
    }
}

static int analyse(render *r)
{
    open_tracks(r, PASS_ANALYSIS);
    if (find_duration(r) < 0)
        return -1;
    r->mix_lufs = r->mix_true_peak_db = -120.0;
    for (int i = 0; i < r->n; i++) {
        track *t = &r->tracks[i];
        if (render_clock_track_init(r, t) < 0)
            return -1;
        if (!(t->levels = malloc((size_t)r->window_count * sizeof *t->levels)))
            return render_fail(r, AVERROR(ENOMEM), "levels");
        for (int w = 0; w < r->window_count; w++)
            t->levels[w] = -100.0f;
    }
    if (render_graph_build(r) < 0 || render_feed_all(r) < 0 || render_analysis_finish(r) < 0)
        return -1;
    render_graph_free(r);
    for (int i = 0; i < r->n; i++)
        r->clock_ratios[i] = render_clock_ratio(r, &r->tracks[i]);
    return 0;
}

/* Characters a path may have to be written into the graph's text as it is. */
static bool plain_path(const char *s)
{
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.-", *s))
            return false;
    return true;
}

/* A card's name goes through a file: no escaping of what a participant typed. */
static void write_card_texts(render *r)
{
    for (int i = 0; i < r->n; i++) {
        track *t = &r->tracks[i];
        const char *name = t->src->name[0] ? t->src->name : "Guest";
        snprintf(t->card_text, sizeof t->card_text, "%s/.card-%d.txt", r->req->out_dir, i);
        FILE *f = plain_path(t->card_text) ? fopen(t->card_text, "w") : NULL;
        if (!f || fputs(name, f) < 0 || fclose(f) != 0) {
            log_warn("render: %s: no name on its card", t->src->participant_id);
            t->card_text[0] = '\0';
        }
    }
}

static void remove_card_texts(render *r)
{
    for (int i = 0; r->tracks && i < r->n; i++)
        if (r->tracks[i].card_text[0])
            remove(r->tracks[i].card_text);
}

/* Without a font the cards cannot be drawn: plain cards rather than no render. */
static int build_render_graph(render *r)
{
    if (render_graph_build(r) == 0)
        return 0;
    bool had_names = false;
    for (int i = 0; i < r->n; i++)
        had_names = had_names || r->tracks[i].card_text[0];
    if (!had_names || r->cancelled)
        return -1;
    log_warn("render: %s; again without names on the cards", r->err ? r->err : "filter graph");
    render_graph_free(r);
    remove_card_texts(r);
    for (int i = 0; i < r->n; i++)
        r->tracks[i].card_text[0] = '\0';
    return render_graph_build(r);
}

static void log_summary(render *r)
{
    int64_t errors = 0, missing = 0;
    for (int i = 0; i < r->n; i++) {
        errors += r->tracks[i].errors;
        missing += r->tracks[i].missing_before + (r->tracks[i].cs ? chunk_stream_missing(r->tracks[i].cs) : 0);
    }
    log_info("render: %d tracks, %s layout, %" PRId64 " ms, %" PRId64 " frames in %d segments, %" PRId64
             " chunks missing, %" PRId64 " decode errors skipped",
             r->n, layout_name(r->layout), r->duration_ms, r->final.video.next_pts, r->final.segments, missing,
             errors);
}

static int render_pass2(render *r)
{
    open_tracks(r, PASS_RENDER);
    write_card_texts(r);
    r->next_progress_frame = FPS;
    if (build_render_graph(r) < 0 || render_outputs_open(r) < 0 || !render_report(r, 5, "encoding"))
        return -1;
    if (render_feed_all(r) < 0 || !render_report(r, 95, "finishing") || render_outputs_finish(r) < 0)
        return -1;
    log_summary(r);
    return 0;
}

/* ---- the whole ------------------------------------------------------------------------------ */

static void release(render *r)
{
    render_outputs_close(r);
    render_graph_free(r);
    remove_card_texts(r);
    if (r->tracks) {
        for (int i = 0; i < r->n; i++)
            render_close_track(&r->tracks[i]);
        free(r->tracks);
    }
    free(r->speakers);
    free(r->clock_ratios);
    render_runs_free(r);
    layout_free(r->layout);
    av_packet_free(&r->pkt);
    av_packet_free(&r->opkt);
    av_frame_free(&r->frame);
    av_frame_free(&r->filt);
}

int render_take(const render_request *req, render_progress_fn progress, void *ctx, char *err, size_t err_size)
{
    render r = { .req = req, .progress = progress, .ctx = ctx, .err = err, .err_size = err_size };
    if (err && err_size)
        err[0] = '\0';
    if (!valid_request(&r, req))
        return -1;

    int result = -1;
    r.n = req->track_count;
    r.width = req->width & ~1; /* yuv420p */
    r.height = req->height & ~1;
    r.tracks = calloc((size_t)r.n, sizeof *r.tracks);
    r.clock_ratios = malloc((size_t)r.n * sizeof *r.clock_ratios);
    for (int i = 0; r.clock_ratios && i < r.n; i++)
        r.clock_ratios[i] = 1.0;
    r.pkt = av_packet_alloc();
    r.opkt = av_packet_alloc();
    r.frame = av_frame_alloc();
    r.filt = av_frame_alloc();
    if (!r.tracks || !r.clock_ratios || !r.pkt || !r.opkt || !r.frame || !r.filt)
        render_fail(&r, AVERROR(ENOMEM), "render");
    else if (choose_layout(&r) == 0 && render_report(&r, 0, "analysing") && render_runs_split(&r) == 0 &&
             analyse(&r) == 0 &&
             render_pass2(&r) == 0 && render_report(&r, 100, "finishing"))
        result = 0;
    release(&r);
    return result;
}
