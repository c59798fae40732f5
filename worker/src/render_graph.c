/* The filter graphs, one per pass, written as libavfilter's graph text and parsed.
 *
 * Analysis (pass 1), audio only:
 *   abuffer -> aresample=48000 (async=1, first_pts=0: a late start padded with silence, an
 *   early one trimmed, a missing chunk filled) -> stereo float -> apad+atrim to the take
 *   -> asplit: one copy to the track's level sink, one to amix (normalize=0) -> ebur128
 *   (integrated loudness, true peak) -> sink
 *
 * Render (pass 2):
 *   video: buffer -> fps=30 -> split, one branch per tile size the layout gives the track
 *          (two for the speaker layout: stage and strip) and one for its own file; each
 *          branch scaled to fit (contain: pad, cover: crop) and overlaid on a background
 *          colour source that lasts exactly the take. An overlay chain rather than xstack:
 *          an overlay shows the background until a late track's first frame and again
 *          after its last (eof_action=pass), and repeats the last frame through a gap.
 *          In the speaker layout the overlays move (commands queued at each change of
 *          speaker; a tile not in use moves out of the frame). A track without video is a
 *          card with the participant's name. -> trim to the take -> yuv420p -> sink
 *   audio: as in pass 1 up to asplit, whose copies go to amix and to the track's WAV and
 *          MP4 sinks -> amix (normalize=0) -> volume (the gain pass 1 measured, a linear
 *          two-pass normalisation) -> alimiter (true-peak ceiling, no clipping) -> sink */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavfilter/buffersink.h>
#include <libavutil/channel_layout.h>
#include <libavutil/pixdesc.h>

#include "log.h"
#include "render_internal.h"

#define GRAPH_INITIAL (16 * 1024)
#define CARD_COLOR "0x2b2d42"
#define OWN_FILE_HEIGHT_MAX 1080
/* alimiter limits sample peaks; the peaks between samples and the AAC encoder's ringing
 * rise above them (measured on full-scale clicks the limiter holds 30 dB down: up to 2 dB;
 * on speech: well under 1 dB), so the ceiling is 2.5 dB under the true-peak target. Speech
 * normalised to -16 LUFS rarely reaches it; where it does, the true peak wins over loudness. */
#define LIMITER_CEILING_DB (TARGET_TRUE_PEAK_DB - 2.5)

typedef struct {
    char *s;
    size_t len, cap;
    bool failed;
} sbuf;

static void add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(sbuf *b, const char *fmt, ...)
{
    for (; !b->failed;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
        } else if (b->s && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        } else {
            size_t cap = b->cap ? b->cap : GRAPH_INITIAL;
            while (cap - b->len <= (size_t)n)
                cap *= 2;
            char *s = realloc(b->s, cap);
            if (!s)
                b->failed = true;
            else
                b->s = s, b->cap = cap;
        }
    }
}

static AVFilterContext *find_filter(AVFilterGraph *g, const char *instance)
{
    size_t n = strlen(instance);
    for (unsigned i = 0; i < g->nb_filters; i++) {
        const char *name = g->filters[i]->name;
        size_t len = name ? strlen(name) : 0;
        if (len > n && name[len - n - 1] == '@' && strcmp(name + len - n, instance) == 0)
            return g->filters[i];
    }
    return NULL;
}

static AVFilterContext *find_filter_f(AVFilterGraph *g, const char *fmt, int i)
{
    char name[32];
    snprintf(name, sizeof name, fmt, i);
    return find_filter(g, name);
}

static double duration_s(const render *r) { return (double)r->duration_ms / 1000.0; }
static int64_t take_samples(const render *r) { return r->duration_ms * SAMPLE_RATE / 1000; }

/* ---- audio --------------------------------------------------------------------------------- */

/* Track i's audio on the timeline as stereo float, split into outputs labelled
 * [<label>i] for each label. */
static void add_track_audio(render *r, sbuf *b, int i, const char *const *labels, int label_count)
{
    track *t = &r->tracks[i];
    if (t->aidx >= 0) {
        AVChannelLayout cl = { 0 };
        char layout[64];
        av_channel_layout_default(&cl, t->adec->ch_layout.nb_channels);
        if (t->adec->ch_layout.order == AV_CHANNEL_ORDER_NATIVE)
            av_channel_layout_copy(&cl, &t->adec->ch_layout);
        if (av_channel_layout_describe(&cl, layout, sizeof layout) < 0)
            snprintf(layout, sizeof layout, "stereo");
        av_channel_layout_uninit(&cl);
        add(b,
            "abuffer@a%d=time_base=1/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s,"
            "aresample=%d:async=1:min_hard_comp=0.010:first_pts=0,",
            i, t->declared_rate, t->declared_rate, av_get_sample_fmt_name(t->adec->sample_fmt), layout,
            SAMPLE_RATE);
    } else {
        add(b, "anullsrc=r=%d:cl=stereo,", SAMPLE_RATE);
    }
    add(b, "aformat=sample_fmts=fltp:sample_rates=%d:channel_layouts=stereo,apad,atrim=end_sample=%" PRId64 ",",
        SAMPLE_RATE, take_samples(r));
    if (label_count == 1) {
        add(b, "anull[%s%d];", labels[0], i);
        return;
    }
    add(b, "asplit=%d", label_count);
    for (int k = 0; k < label_count; k++)
        add(b, "[%s%d]", labels[k], i);
    add(b, ";");
}

static void add_mix_inputs(render *r, sbuf *b)
{
    for (int i = 0; i < r->n; i++)
        add(b, "[mix%d]", i);
    add(b, "amix=inputs=%d:duration=longest:normalize=0,", r->n);
}

static void add_analysis_graph(render *r, sbuf *b)
{
    static const char *const labels[] = { "mix", "lvl" };
    for (int i = 0; i < r->n; i++) {
        add_track_audio(r, b, i, labels, 2);
        add(b, "[lvl%d]abuffersink@l%d;", i, i);
    }
    add_mix_inputs(r, b);
    add(b, "ebur128=peak=true:metadata=1,abuffersink@measure");
}

static void add_render_audio(render *r, sbuf *b)
{
    static const char *const labels[] = { "mix", "wav", "pa" };
    for (int i = 0; i < r->n; i++) {
        add_track_audio(r, b, i, labels, r->req->final_only ? 1 : 3);
        if (!r->req->final_only)
            add(b,
                "[wav%d]aformat=sample_fmts=s16:sample_rates=%d:channel_layouts=stereo,abuffersink@w%d;"
                "[pa%d]abuffersink@pa%d;",
                i, SAMPLE_RATE, i, i, i);
    }
    add_mix_inputs(r, b);
    add(b,
        "volume=volume=%.2fdB:precision=float,alimiter=limit=%.4f:level=0:latency=1,"
        "aresample=%d,aformat=sample_fmts=fltp:sample_rates=%d:channel_layouts=stereo,"
        "apad=whole_len=%" PRId64 ",atrim=end_sample=%" PRId64 ",abuffersink@aout",
        r->gain_db, pow(10.0, LIMITER_CEILING_DB / 20.0), SAMPLE_RATE, SAMPLE_RATE, take_samples(r),
        take_samples(r));
}

/* ---- video --------------------------------------------------------------------------------- */

/* The sizes track i takes in the layout over the take: at most two (stage and strip). */
typedef struct {
    layout_rect size[2];
    int count;
} tile_sizes;

static bool same_size(layout_rect a, layout_rect b) { return a.w == b.w && a.h == b.h; }

/* The layout's places while speaker s speaks, into places (r->n entries). */
static int place(render *r, int speaker, layout_rect *places)
{
    return layout_place(r->layout, r->n, speaker, r->width, r->height, places);
}

static int collect_sizes(render *r, tile_sizes *sizes)
{
    layout_rect *places = calloc((size_t)r->n, sizeof *places);
    if (!places)
        return render_fail(r, AVERROR(ENOMEM), "layout");
    int states = r->speakers ? r->n + 1 : 1; /* speaker -1 .. n-1 */
    for (int s = -1; s < states - 1; s++) {
        if (place(r, s, places) < 0) {
            free(places);
            return render_fail(r, 0, "layout %s: cannot place %d participants", layout_name(r->layout), r->n);
        }
        for (int i = 0; i < r->n; i++) {
            tile_sizes *ts = &sizes[i];
            if (places[i].w <= 0 || places[i].h <= 0)
                continue;
            bool known = false;
            for (int k = 0; k < ts->count; k++)
                known = known || same_size(ts->size[k], places[i]);
            if (!known && ts->count < 2)
                ts->size[ts->count++] = places[i];
        }
    }
    free(places);
    return 0;
}

/* Fits the stream labelled in into w x h, labelled out. Area averaging: a tile is mostly a
 * camera picture made smaller, where it is as sharp as bicubic and costs the render's thread
 * about a quarter less (measured: 2.7-3.2 s against 2.1-2.2 s of a 20 s take of two). */
static void add_fit(render *r, sbuf *b, const char *in, int w, int h, const char *out)
{
    if (layout_fit_mode(r->layout) == LAYOUT_FIT_COVER)
        add(b, "[%s]scale=%d:%d:force_original_aspect_ratio=increase:flags=area,crop=%d:%d,setsar=1[%s];", in, w, h, w, h, out);
    else
        add(b,
            "[%s]scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2:flags=area,"
            "pad=%d:%d:(ow-iw)/2:(oh-ih)/2:black,setsar=1[%s];",
            in, w, h, w, h, out);
}

/* A card with the participant's name (from a file: no escaping of user text), w x h. */
static void add_card(render *r, sbuf *b, int i, int w, int h, const char *out)
{
    const char *card_text = r->tracks[i].card_text;
    add(b, "color=c=%s:s=%dx%d:r=%d:d=%.3f", CARD_COLOR, w, h, FPS, duration_s(r));
    if (card_text[0])
        add(b,
            ",drawtext=textfile=%s:expansion=none:fontcolor=white:fontsize=%d:"
            "x=(w-text_w)/2:y=(h-text_h)/2",
            card_text, h / 8 > 12 ? h / 8 : 12);
    add(b, ",setsar=1[%s];", out);
}

/* Track i's video split into its tiles [t<i>_<k>] and its own file's copy [own<i>]. */
static void add_track_video(render *r, sbuf *b, int i, const tile_sizes *ts)
{
    track *t = &r->tracks[i];
    bool own = !r->req->final_only;
    int outputs = ts->count + (own ? 1 : 0);
    char in[32], out[32];
    if (outputs == 0)
        return;
    if (t->vidx < 0) {
        for (int k = 0; k < ts->count; k++) {
            snprintf(out, sizeof out, "t%d_%d", i, k);
            add_card(r, b, i, ts->size[k].w, ts->size[k].h, out);
        }
        return; /* its own file's card is made by add_own_video */
    }
    AVRational sar = t->vdec->sample_aspect_ratio;
    if (sar.num <= 0 || sar.den <= 0)
        sar = (AVRational){ 1, 1 };
    add(b, "buffer@v%d=video_size=%dx%d:pix_fmt=%s:time_base=1/%d:pixel_aspect=%d/%d,fps=%d,split=%d", i,
        t->vdec->width, t->vdec->height, av_get_pix_fmt_name(t->vdec->pix_fmt), AV_TIME_BASE, sar.num, sar.den, FPS,
        outputs);
    for (int k = 0; k < ts->count; k++)
        add(b, "[v%d_%d]", i, k);
    if (own)
        add(b, "[own%d]", i);
    add(b, ";");
    for (int k = 0; k < ts->count; k++) {
        snprintf(in, sizeof in, "v%d_%d", i, k);
        snprintf(out, sizeof out, "t%d_%d", i, k);
        add_fit(r, b, in, ts->size[k].w, ts->size[k].h, out);
    }
}

/* The size of a participant's own file: its picture's, no larger than the render's. */
static void own_size(const render *r, const track *t, int *w, int *h)
{
    *w = r->width;
    *h = r->height;
    if (t->vidx < 0 || t->vdec->height <= 0 || t->vdec->height >= r->height || t->vdec->height > OWN_FILE_HEIGHT_MAX)
        return;
    *h = t->vdec->height & ~1;
    *w = (int)((int64_t)t->vdec->width * *h / t->vdec->height) & ~1;
}

static void add_own_video(render *r, sbuf *b, int i)
{
    track *t = &r->tracks[i];
    int w, h;
    char label[32];
    own_size(r, t, &w, &h);
    snprintf(label, sizeof label, "ownpic%d", i);
    if (t->vidx < 0) {
        add_card(r, b, i, w, h, label);
    } else {
        char in[32];
        snprintf(in, sizeof in, "own%d", i);
        add_fit(r, b, in, w, h, label);
    }
    add(b,
        "color=c=black:s=%dx%d:r=%d:d=%.3f[ownbg%d];[ownbg%d][%s]overlay=eof_action=pass,"
        "trim=end_frame=%" PRId64 ",format=yuv420p,buffersink@pv%d;",
        w, h, FPS, duration_s(r), i, i, label, r->total_frames, i);
}

/* Where tile k of track i is while speaker s speaks: its place, or out of the frame. */
static layout_rect tile_position(render *r, const layout_rect *places, int i, const tile_sizes *ts, int k)
{
    if (places[i].w > 0 && same_size(places[i], ts->size[k]))
        return places[i];
    return (layout_rect){ .x = r->width, .y = r->height, .w = ts->size[k].w, .h = ts->size[k].h };
}

static void add_overlays(render *r, sbuf *b, const tile_sizes *sizes, const layout_rect *first_places)
{
    add(b, "color=c=%s:s=%dx%d:r=%d:d=%.3f[base0];", layout_background(r->layout), r->width, r->height, FPS,
        duration_s(r));
    int base = 0;
    for (int i = 0; i < r->n; i++) {
        for (int k = 0; k < sizes[i].count; k++) {
            layout_rect at = tile_position(r, first_places, i, &sizes[i], k);
            add(b, "[base%d][t%d_%d]overlay@o%d_%d=x=%d:y=%d:eof_action=pass[base%d];", base, i, k, i, k, at.x, at.y,
                base + 1);
            base++;
        }
    }
    add(b, "[base%d]trim=end_frame=%" PRId64 ",format=yuv420p,buffersink@vout;", base, r->total_frames);
}

static void add_render_graph(render *r, sbuf *b, const tile_sizes *sizes, const layout_rect *first_places)
{
    for (int i = 0; i < r->n; i++)
        add_track_video(r, b, i, &sizes[i]);
    add_overlays(r, b, sizes, first_places);
    if (!r->req->final_only)
        for (int i = 0; i < r->n; i++)
            add_own_video(r, b, i);
    add_render_audio(r, b);
}

/* ---- the speaker's moves ------------------------------------------------------------------- */

static int queue_move(render *r, int i, int k, layout_rect at, double when_s)
{
    char target[32], value[16];
    snprintf(target, sizeof target, "overlay@o%d_%d", i, k);
    const char *axis[2] = { "x", "y" };
    int coord[2] = { at.x, at.y };
    for (int a = 0; a < 2; a++) {
        snprintf(value, sizeof value, "%d", coord[a]);
        int ret = avfilter_graph_queue_command(r->graph, target, axis[a], value, 0, when_s);
        if (ret < 0)
            return render_fail(r, ret, "layout: moving %s", target);
    }
    return 0;
}

/* Every change of speaker after the first becomes overlay moves at its time. */
static int queue_speaker_moves(render *r, const tile_sizes *sizes)
{
    layout_rect *places = calloc((size_t)r->n, sizeof *places);
    if (!places)
        return render_fail(r, AVERROR(ENOMEM), "layout");
    int ret = 0;
    for (int s = 1; s < r->speaker_count && ret == 0; s++) {
        const speaker_segment *seg = &r->speakers[s];
        if (place(r, seg->speaker, places) < 0)
            break;
        for (int i = 0; i < r->n && ret == 0; i++)
            for (int k = 0; k < sizes[i].count && ret == 0; k++)
                ret = queue_move(r, i, k, tile_position(r, places, i, &sizes[i], k), (double)seg->start_ms / 1000.0);
    }
    free(places);
    return ret;
}

/* ---- parse, check, find ---------------------------------------------------------------------- */

static int parse(render *r, const char *text)
{
    log_debug("render: graph %s", text);
    r->graph = avfilter_graph_alloc();
    if (!r->graph)
        return render_fail(r, AVERROR(ENOMEM), "filter graph");
    r->graph->nb_threads = 1;
    AVFilterInOut *ins = NULL, *outs = NULL;
    int ret = avfilter_graph_parse2(r->graph, text, &ins, &outs);
    bool dangling = ins || outs;
    avfilter_inout_free(&ins);
    avfilter_inout_free(&outs);
    if (ret < 0)
        return render_fail(r, ret, "filter graph");
    if (dangling)
        return render_fail(r, 0, "filter graph: unconnected pads");
    return 0;
}

static int find_endpoints(render *r)
{
    for (int i = 0; i < r->n; i++) {
        track *t = &r->tracks[i];
        t->vsrc = t->vidx >= 0 ? find_filter_f(r->graph, "v%d", i) : NULL;
        t->asrc = t->aidx >= 0 ? find_filter_f(r->graph, "a%d", i) : NULL;
        if ((t->vidx >= 0 && !t->vsrc) || (t->aidx >= 0 && !t->asrc))
            return render_fail(r, 0, "filter graph: a source is missing");
        t->vdone = !t->vsrc;
        t->adone = !t->asrc;
        if (r->pass == PASS_ANALYSIS) {
            t->level_sink = find_filter_f(r->graph, "l%d", i);
            if (!t->level_sink)
                return render_fail(r, 0, "filter graph: a sink is missing");
        } else if (!r->req->final_only) {
            t->wav.audio.sink = find_filter_f(r->graph, "w%d", i);
            t->mp4.audio.sink = find_filter_f(r->graph, "pa%d", i);
            t->mp4.video.sink = find_filter_f(r->graph, "pv%d", i);
            if (!t->wav.audio.sink || !t->mp4.audio.sink || !t->mp4.video.sink)
                return render_fail(r, 0, "filter graph: a sink is missing");
        }
    }
    if (r->pass == PASS_ANALYSIS) {
        if (!(r->measure_sink = find_filter(r->graph, "measure")))
            return render_fail(r, 0, "filter graph: a sink is missing");
        return 0;
    }
    r->final.video.sink = find_filter(r->graph, "vout");
    r->final.audio.sink = find_filter(r->graph, "aout");
    if (!r->final.video.sink || !r->final.audio.sink)
        return render_fail(r, 0, "filter graph: a sink is missing");
    return 0;
}

static int build_render_text(render *r, sbuf *b, tile_sizes *sizes)
{
    layout_rect *first = calloc((size_t)r->n, sizeof *first);
    if (!first)
        return render_fail(r, AVERROR(ENOMEM), "layout");
    int first_speaker = r->speakers && r->speaker_count > 0 ? r->speakers[0].speaker : -1;
    int ret = collect_sizes(r, sizes);
    if (ret == 0 && place(r, first_speaker, first) < 0)
        ret = render_fail(r, 0, "layout %s: cannot place %d participants", layout_name(r->layout), r->n);
    if (ret == 0)
        add_render_graph(r, b, sizes, first);
    free(first);
    return ret;
}

int render_graph_build(render *r)
{
    sbuf b = { 0 };
    tile_sizes *sizes = NULL;
    int ret = 0;
    if (r->pass == PASS_ANALYSIS) {
        add_analysis_graph(r, &b);
    } else if (!(sizes = calloc((size_t)r->n, sizeof *sizes))) {
        ret = render_fail(r, AVERROR(ENOMEM), "filter graph");
    } else {
        ret = build_render_text(r, &b, sizes);
    }
    if (ret == 0 && b.failed)
        ret = render_fail(r, AVERROR(ENOMEM), "filter graph");
    if (ret == 0)
        ret = parse(r, b.s);
    free(b.s);
    if (ret == 0)
        ret = find_endpoints(r);
    if (ret == 0 && (ret = avfilter_graph_config(r->graph, NULL)) < 0)
        ret = render_fail(r, ret, "filter graph config");
    if (ret == 0 && r->pass == PASS_RENDER && r->speakers)
        ret = queue_speaker_moves(r, sizes);
    free(sizes);
    return ret < 0 ? -1 : 0;
}

void render_graph_free(render *r)
{
    avfilter_graph_free(&r->graph);
    for (int i = 0; i < r->n; i++) {
        track *t = &r->tracks[i];
        t->vsrc = t->asrc = t->level_sink = NULL;
        t->wav.audio.sink = t->mp4.audio.sink = t->mp4.video.sink = NULL;
    }
    r->measure_sink = NULL;
    r->final.video.sink = r->final.audio.sink = NULL;
}
