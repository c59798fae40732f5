/* render_take: every participant's chunks in, one synced, loudness-normalised final.mp4
 * (H.264 + AAC) and one <participantId>.wav per participant out.
 *
 * Each track is demuxed from its chunk_stream and decoded once. The decoded frames go into
 * ONE libavfilter graph, with their timestamps already moved onto the take's timeline
 * (microseconds for video, samples for audio, 0 = take start):
 *
 *   video: buffer -> fps=30 -> scale+pad to the tile, overlaid at the tile's place on a
 *          black color source that lasts exactly the take (a track without video: a grey
 *          tile). The overlay chain is the grid: unlike xstack, whose inputs must all have
 *          started before it outputs anything, an overlay shows the background until a late
 *          track's first frame and again after its last (eof_action=pass), which is what the
 *          timeline needs. -> trim to the take -> format=yuv420p -> buffersink
 *   audio: abuffer -> aresample=48000 with async=1 and first_pts=0: the start is padded with
 *          silence (late track) or trimmed (early track), and gaps (a missing chunk) are
 *          filled with silence -> stereo float -> apad+atrim to the take -> asplit: one copy
 *          to the per-participant WAV sink (s16), one to amix (normalize=0) -> alimiter
 *          (no clipping) -> loudnorm -> 48 kHz fltp -> abuffersink (AAC frame size)
 *
 * The timestamps are moved onto the timeline here rather than by setpts/adelay filters:
 * only the code knows each track's offset and media start. The sinks' streams are
 * contiguous by construction, so the encoders get counted timestamps (frame / sample
 * numbers), immune to whatever damaged input did to the filters' ones.
 *
 * Tracks are fed in timeline order (the one furthest behind first). A track that starts
 * late gets a lead-in, black frames and silence every 0.5 s up to its start, fed in step
 * with the others: without it the overlay and amix would hold every frame of the others
 * until its first one (measured: 1.7 GB instead of 0.38 GB for a 30 s late start at 720p).
 * A missing or damaged chunk is a gap: the
 * demuxer resyncs, decode errors are counted and skipped, the video tile freezes on its last
 * frame and the audio is filled with silence until the media resumes.
 *
 * Limits (left for later):
 * - loudnorm is single pass (dynamic mode). On continuous audio it lands within about
 *   0.5 LU of -16 LUFS; on very sparse audio (short sounds in long digital silence) its gain
 *   climbs during the silence and the result is louder (about -12 LUFS for two 0.1 s beeps
 *   in 6 s). A two-pass loudnorm (measure the mix, then linear) would fix that.
 * - the layouts "speaker" and "side-by-side" are drawn as the grid; a track without video is
 *   a plain grey tile (no name card yet).
 * - the per-participant video file (<participantId>.mp4) is not written yet (render_worker
 *   uploads only final.mp4 and the WAVs). Every track gets a WAV, silent if it has no audio.
 * - a frame stamped past the take's end is dropped; 50 in a row end that stream (one bad
 *   timestamp from a garbage chunk must not end a track). */
#include "render_take.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>

#include "log.h"

#define FPS 30
#define SAMPLE_RATE 48000
#define MAX_CONSECUTIVE_ERRORS 1000 /* a demuxer that errors this often without a packet is stuck */
#define GRAPH_MAX (64 * 1024)
#define LEAD_STEP_US 500000   /* a lead-in frame every 0.5 s */
#define LEAD_GUARD_US 50000   /* the lead-in stops this far before the media */
#define PAST_END_RUN 50 /* frames in a row past the take's end that end a stream (1 to 2 s) */

typedef struct {
    const render_track *src;
    chunk_stream *cs;
    AVFormatContext *ic;
    int vidx, aidx;                /* stream indexes, -1 when absent */
    AVCodecContext *vdec, *adec;
    AVFilterContext *vsrc, *asrc;  /* buffer / abuffer; NULL when absent */
    AVFilterContext *wav_sink;
    int64_t t0;                    /* the media's start, AV_TIME_BASE */
    int64_t offset_us;             /* where the media's start is on the take's timeline */
    int64_t position_us;           /* how far it has been fed, on the timeline */
    bool vdone, adone;             /* no more frames go to the source (EOF sent) */
    int vpast_end, apast_end;      /* frames in a row past the end of the take */
    /* A late track's lead-in: black and silence before its media, fed in step with the
     * others so that the overlay and amix need not queue their frames meanwhile. */
    AVFrame *black, *silence;      /* NULL when not needed (or not possible) */
    int64_t lead_us;               /* how far the lead-in has gone */
    bool vstarted, astarted;       /* real frames have been fed */
    bool demux_done;
    int consecutive_errors;
    int64_t errors;                /* decode / demux errors skipped */
    /* its WAV */
    AVFormatContext *wav;
    AVCodecContext *wav_enc;
    bool wav_eof;
    int64_t wav_samples;
} track;

typedef struct {
    const render_request *req;
    render_progress_fn progress;
    void *ctx;
    char *err;
    size_t err_size;

    track *tracks;
    int n;
    int width, height;             /* of final.mp4 */
    int64_t duration_ms;
    int64_t total_frames;

    AVFilterGraph *graph;
    AVFilterContext *vsink, *asink;
    AVFormatContext *oc;
    AVCodecContext *venc, *aenc;
    AVStream *vst, *ast;
    bool vsink_eof, asink_eof;
    bool header_written;

    AVPacket *pkt;
    AVFrame *frame;   /* decoded */
    AVFrame *filt;    /* filtered */
    AVPacket *opkt;   /* encoded */

    int64_t frames_out;
    int64_t samples_out;
    int64_t next_progress_frame;
    bool cancelled;
} render;

static int fail(render *r, int averr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(render *r, int averr, const char *fmt, ...)
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

/* false: cancelled (err set). */
static bool report(render *r, int percent, const char *stage)
{
    if (!r->progress || r->cancelled)
        return !r->cancelled;
    if (!r->progress(percent, stage, r->ctx)) {
        r->cancelled = true;
        fail(r, 0, "cancelled");
        return false;
    }
    return true;
}

/* ---- inputs ------------------------------------------------------------------------------ */

static AVCodecContext *open_decoder(AVStream *st)
{
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec)
        return NULL;
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    if (!dec)
        return NULL;
    if (avcodec_parameters_to_context(dec, st->codecpar) < 0) {
        avcodec_free_context(&dec);
        return NULL;
    }
    dec->pkt_timebase = st->time_base;
    dec->thread_count = 1; /* one track after the other on this thread; x264 gets the cores */
    if (avcodec_open2(dec, codec, NULL) < 0) {
        avcodec_free_context(&dec);
        return NULL;
    }
    return dec;
}

/* A track that cannot be opened is a track without media (grey tile, silence), not a
 * failed render: its chunks may all be missing. */
static void open_track(render *r, track *t, const render_track *src)
{
    t->src = src;
    t->vidx = t->aidx = -1;
    t->t0 = 0;
    int64_t start = src->chunk_count > 0 && src->chunk_start_ms ? src->chunk_start_ms[0] : 0;
    t->offset_us = start > 0 ? (start - r->req->take_start_ms) * 1000 : 0;
    t->position_us = t->offset_us > 0 ? t->offset_us : 0;

    if (src->chunk_count <= 0 || !src->chunks)
        return;
    t->cs = chunk_stream_open(r->req->storage, src->chunks, src->chunk_count);
    AVIOContext *pb = t->cs ? chunk_stream_avio(t->cs) : NULL;
    if (!pb)
        return;
    t->ic = avformat_alloc_context();
    if (!t->ic)
        return;
    t->ic->pb = pb;
    t->ic->flags |= AVFMT_FLAG_CUSTOM_IO;
    int ret = avformat_open_input(&t->ic, NULL, NULL, NULL); /* frees ic on failure */
    if (ret < 0) {
        log_warn("render: %s: cannot open the recording (%d chunks missing)", src->participant_id,
                 (int)chunk_stream_missing(t->cs));
        return;
    }
    if (avformat_find_stream_info(t->ic, NULL) < 0)
        log_warn("render: %s: no stream info", src->participant_id);
    if (t->ic->start_time != AV_NOPTS_VALUE)
        t->t0 = t->ic->start_time;

    int v = av_find_best_stream(t->ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (v >= 0) {
        AVCodecParameters *par = t->ic->streams[v]->codecpar;
        if (par->width > 0 && par->height > 0 && (t->vdec = open_decoder(t->ic->streams[v])) &&
            t->vdec->pix_fmt != AV_PIX_FMT_NONE)
            t->vidx = v;
        else
            avcodec_free_context(&t->vdec);
    }
    int a = av_find_best_stream(t->ic, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (a >= 0) {
        if ((t->adec = open_decoder(t->ic->streams[a])) && t->adec->sample_rate > 0 &&
            t->adec->ch_layout.nb_channels > 0 && t->adec->sample_fmt != AV_SAMPLE_FMT_NONE)
            t->aidx = a;
        else
            avcodec_free_context(&t->adec);
    }
    for (unsigned i = 0; i < t->ic->nb_streams; i++)
        t->ic->streams[i]->discard = ((int)i == t->vidx || (int)i == t->aidx) ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
}

static void close_track(track *t)
{
    av_frame_free(&t->black);
    av_frame_free(&t->silence);
    avcodec_free_context(&t->vdec);
    avcodec_free_context(&t->adec);
    avformat_close_input(&t->ic);
    chunk_stream_close(t->cs);
    t->cs = NULL;
    avcodec_free_context(&t->wav_enc);
    if (t->wav) {
        if (t->wav->pb)
            avio_closep(&t->wav->pb);
        avformat_free_context(t->wav);
        t->wav = NULL;
    }
}

/* ---- the graph --------------------------------------------------------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
    bool overflow;
} sbuf;

static void add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(sbuf *b, const char *fmt, ...)
{
    if (b->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len)
        b->overflow = true;
    else
        b->len += (size_t)n;
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

static int build_graph(render *r)
{
    int n = r->n;
    int cols = 1;
    while (cols * cols < n)
        cols++;
    int rows = n == 2 ? 1 : cols;
    int tw = (r->width / cols) & ~1, th = (r->height / rows) & ~1;
    double dur_s = (double)r->duration_ms / 1000.0;
    int64_t samples = r->duration_ms * SAMPLE_RATE / 1000;

    sbuf b = { .s = malloc(GRAPH_MAX), .cap = GRAPH_MAX };
    if (!b.s)
        return fail(r, AVERROR(ENOMEM), "filter graph");
    b.s[0] = '\0';

    /* video */
    add(&b, "color=c=black:s=%dx%d:r=%d:d=%.3f[base0];", r->width, r->height, FPS, dur_s);
    for (int i = 0; i < n; i++) {
        track *t = &r->tracks[i];
        if (t->vidx >= 0) {
            AVRational sar = t->vdec->sample_aspect_ratio;
            if (sar.num <= 0 || sar.den <= 0)
                sar = (AVRational){ 1, 1 };
            add(&b,
                "buffer@v%d=video_size=%dx%d:pix_fmt=%s:time_base=1/%d:pixel_aspect=%d/%d,"
                "fps=%d,scale=%d:%d:force_original_aspect_ratio=decrease:force_divisible_by=2,"
                "pad=%d:%d:(ow-iw)/2:(oh-ih)/2:black,setsar=1[tile%d];",
                i, t->vdec->width, t->vdec->height, av_get_pix_fmt_name(t->vdec->pix_fmt), AV_TIME_BASE, sar.num,
                sar.den, FPS, tw, th, tw, th, i);
        } else {
            add(&b, "color=c=gray:s=%dx%d:r=%d:d=%.3f[tile%d];", tw, th, FPS, dur_s, i);
        }
        int x = (i % cols) * tw + (r->width - cols * tw) / 2;
        int y = (i / cols) * th + (r->height - rows * th) / 2;
        add(&b, "[base%d][tile%d]overlay=x=%d:y=%d:eof_action=pass[base%d];", i, i, x, y, i + 1);
    }
    add(&b, "[base%d]trim=end_frame=%" PRId64 ",format=yuv420p,buffersink@vout;", n, r->total_frames);

    /* audio */
    for (int i = 0; i < n; i++) {
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
            add(&b,
                "abuffer@a%d=time_base=1/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s,"
                "aresample=%d:async=1:min_hard_comp=0.010:first_pts=0,",
                i, t->adec->sample_rate, t->adec->sample_rate, av_get_sample_fmt_name(t->adec->sample_fmt), layout,
                SAMPLE_RATE);
        } else {
            add(&b, "anullsrc=r=%d:cl=stereo,", SAMPLE_RATE);
        }
        add(&b,
            "aformat=sample_fmts=fltp:sample_rates=%d:channel_layouts=stereo,apad,atrim=end_sample=%" PRId64
            ",asplit[mix%d][wav%d];"
            "[wav%d]aformat=sample_fmts=s16:sample_rates=%d:channel_layouts=stereo,abuffersink@w%d;",
            SAMPLE_RATE, samples, i, i, i, SAMPLE_RATE, i);
    }
    for (int i = 0; i < n; i++)
        add(&b, "[mix%d]", i);
    /* loudnorm is single pass (dynamic mode) for now: a first pass measuring the mix and a
     * linear second pass would be truer on speech with long pauses. Its true-peak limiter
     * and the alimiter before it keep the mix from clipping. */
    add(&b,
        "amix=inputs=%d:duration=longest:normalize=0,alimiter=limit=1:level=0:latency=1,"
        "loudnorm=I=-16:TP=-1:LRA=11,aresample=%d,"
        "aformat=sample_fmts=fltp:sample_rates=%d:channel_layouts=stereo,"
        "apad=whole_len=%" PRId64 ",atrim=end_sample=%" PRId64 ",abuffersink@aout",
        n, SAMPLE_RATE, SAMPLE_RATE, samples, samples);

    if (b.overflow) {
        free(b.s);
        return fail(r, 0, "filter graph: too long");
    }
    log_debug("render: graph %s", b.s);

    r->graph = avfilter_graph_alloc();
    if (!r->graph) {
        free(b.s);
        return fail(r, AVERROR(ENOMEM), "filter graph");
    }
    r->graph->nb_threads = 1;
    AVFilterInOut *ins = NULL, *outs = NULL;
    int ret = avfilter_graph_parse2(r->graph, b.s, &ins, &outs);
    free(b.s);
    bool dangling = ins || outs;
    avfilter_inout_free(&ins);
    avfilter_inout_free(&outs);
    if (ret < 0)
        return fail(r, ret, "filter graph");
    if (dangling)
        return fail(r, 0, "filter graph: unconnected pads");

    char name[16];
    for (int i = 0; i < n; i++) {
        track *t = &r->tracks[i];
        if (t->vidx >= 0) {
            snprintf(name, sizeof name, "v%d", i);
            t->vsrc = find_filter(r->graph, name);
        }
        if (t->aidx >= 0) {
            snprintf(name, sizeof name, "a%d", i);
            t->asrc = find_filter(r->graph, name);
        }
        snprintf(name, sizeof name, "w%d", i);
        t->wav_sink = find_filter(r->graph, name);
        if ((t->vidx >= 0 && !t->vsrc) || (t->aidx >= 0 && !t->asrc) || !t->wav_sink)
            return fail(r, 0, "filter graph: a filter is missing");
        t->vdone = !t->vsrc;
        t->adone = !t->asrc;
    }
    r->vsink = find_filter(r->graph, "vout");
    r->asink = find_filter(r->graph, "aout");
    if (!r->vsink || !r->asink)
        return fail(r, 0, "filter graph: a sink is missing");
    if ((ret = avfilter_graph_config(r->graph, NULL)) < 0)
        return fail(r, ret, "filter graph config");
    return 0;
}

/* ---- outputs ----------------------------------------------------------------------------- */

static int open_outputs(render *r)
{
    const render_request *req = r->req;
    char path[4096];
    int ret;

    snprintf(path, sizeof path, "%s/final.mp4", req->out_dir);
    if ((ret = avformat_alloc_output_context2(&r->oc, NULL, "mp4", path)) < 0)
        return fail(r, ret, "%s", path);

    /* H.264 */
    const AVCodec *vc = avcodec_find_encoder_by_name("libx264");
    if (!vc)
        return fail(r, 0, "no libx264 encoder");
    if (!(r->venc = avcodec_alloc_context3(vc)))
        return fail(r, AVERROR(ENOMEM), "video encoder");
    r->venc->width = av_buffersink_get_w(r->vsink);
    r->venc->height = av_buffersink_get_h(r->vsink);
    r->venc->pix_fmt = AV_PIX_FMT_YUV420P;
    r->venc->sample_aspect_ratio = (AVRational){ 1, 1 };
    r->venc->time_base = (AVRational){ 1, FPS }; /* the frames are counted */
    r->venc->framerate = (AVRational){ FPS, 1 };
    r->venc->gop_size = 2 * FPS;
    r->venc->keyint_min = 2 * FPS;
    if (r->oc->oformat->flags & AVFMT_GLOBALHEADER)
        r->venc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "preset", "veryfast", 0);
    av_dict_set(&opts, "crf", "23", 0);
    av_dict_set(&opts, "x264-params", "scenecut=0", 0); /* a keyframe every 2 s, exactly */
    ret = avcodec_open2(r->venc, vc, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return fail(r, ret, "libx264");

    /* AAC */
    const AVCodec *ac = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!ac)
        return fail(r, 0, "no AAC encoder");
    if (!(r->aenc = avcodec_alloc_context3(ac)))
        return fail(r, AVERROR(ENOMEM), "audio encoder");
    r->aenc->sample_rate = SAMPLE_RATE;
    r->aenc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    av_channel_layout_default(&r->aenc->ch_layout, 2);
    r->aenc->bit_rate = 128000;
    r->aenc->time_base = (AVRational){ 1, SAMPLE_RATE };
    if (r->oc->oformat->flags & AVFMT_GLOBALHEADER)
        r->aenc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((ret = avcodec_open2(r->aenc, ac, NULL)) < 0)
        return fail(r, ret, "AAC encoder");
    av_buffersink_set_frame_size(r->asink, (unsigned)r->aenc->frame_size);

    if (!(r->vst = avformat_new_stream(r->oc, NULL)) || !(r->ast = avformat_new_stream(r->oc, NULL)))
        return fail(r, AVERROR(ENOMEM), "output streams");
    if ((ret = avcodec_parameters_from_context(r->vst->codecpar, r->venc)) < 0 ||
        (ret = avcodec_parameters_from_context(r->ast->codecpar, r->aenc)) < 0)
        return fail(r, ret, "output streams");
    r->vst->time_base = r->venc->time_base;
    r->vst->avg_frame_rate = r->venc->framerate;
    r->ast->time_base = r->aenc->time_base;
    if ((ret = avio_open(&r->oc->pb, path, AVIO_FLAG_WRITE)) < 0)
        return fail(r, ret, "%s", path);
    av_dict_set(&opts, "movflags", "+faststart", 0);
    ret = avformat_write_header(r->oc, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return fail(r, ret, "%s: header", path);
    r->header_written = true;

    /* one WAV per participant */
    const AVCodec *pcm = avcodec_find_encoder(AV_CODEC_ID_PCM_S16LE);
    if (!pcm)
        return fail(r, 0, "no PCM encoder");
    for (int i = 0; i < r->n; i++) {
        track *t = &r->tracks[i];
        snprintf(path, sizeof path, "%s/%s.wav", req->out_dir, t->src->participant_id);
        if ((ret = avformat_alloc_output_context2(&t->wav, NULL, "wav", path)) < 0)
            return fail(r, ret, "%s", path);
        if (!(t->wav_enc = avcodec_alloc_context3(pcm)))
            return fail(r, AVERROR(ENOMEM), "PCM encoder");
        t->wav_enc->sample_rate = SAMPLE_RATE;
        t->wav_enc->sample_fmt = AV_SAMPLE_FMT_S16;
        av_channel_layout_default(&t->wav_enc->ch_layout, 2);
        t->wav_enc->time_base = (AVRational){ 1, SAMPLE_RATE };
        if ((ret = avcodec_open2(t->wav_enc, pcm, NULL)) < 0)
            return fail(r, ret, "PCM encoder");
        AVStream *st = avformat_new_stream(t->wav, NULL);
        if (!st)
            return fail(r, AVERROR(ENOMEM), "%s", path);
        if ((ret = avcodec_parameters_from_context(st->codecpar, t->wav_enc)) < 0)
            return fail(r, ret, "%s", path);
        st->time_base = t->wav_enc->time_base;
        if ((ret = avio_open(&t->wav->pb, path, AVIO_FLAG_WRITE)) < 0)
            return fail(r, ret, "%s", path);
        if ((ret = avformat_write_header(t->wav, NULL)) < 0) {
            avio_closep(&t->wav->pb); /* no trailer for a file without a header */
            return fail(r, ret, "%s: header", path);
        }
    }
    return 0;
}

/* Sends frame (NULL: flush) and writes every packet out. */
static int encode(render *r, AVCodecContext *enc, AVFormatContext *oc, AVStream *st, AVFrame *frame)
{
    int ret = avcodec_send_frame(enc, frame);
    if (ret < 0)
        return fail(r, ret, "encoding");
    for (;;) {
        ret = avcodec_receive_packet(enc, r->opkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return fail(r, ret, "encoding");
        r->opkt->stream_index = st->index;
        av_packet_rescale_ts(r->opkt, enc->time_base, st->time_base);
        ret = av_interleaved_write_frame(oc, r->opkt); /* takes the reference */
        if (ret < 0)
            return fail(r, ret, "writing");
    }
}

/* Everything the sinks have now; at the end (flush) until their EOF. */
static int drain(render *r)
{
    int ret;
    while (!r->vsink_eof) {
        ret = av_buffersink_get_frame(r->vsink, r->filt);
        if (ret == AVERROR(EAGAIN))
            break;
        if (ret == AVERROR_EOF) {
            r->vsink_eof = true;
            break;
        }
        if (ret < 0)
            return fail(r, ret, "video filters");
        /* The sinks' streams are contiguous by construction (the color source, apad and the
         * trims): count them rather than trust timestamps damaged input may have upset. */
        r->filt->pict_type = AV_PICTURE_TYPE_NONE;
        r->filt->pts = r->frames_out;
        ret = encode(r, r->venc, r->oc, r->vst, r->filt);
        av_frame_unref(r->filt);
        if (ret < 0)
            return -1;
        if (++r->frames_out >= r->next_progress_frame) {
            r->next_progress_frame += FPS;
            int pct = (int)(r->frames_out * 95 / (r->total_frames > 0 ? r->total_frames : 1));
            if (!report(r, pct > 95 ? 95 : pct, "encoding"))
                return -1;
        }
    }
    while (!r->asink_eof) {
        ret = av_buffersink_get_frame(r->asink, r->filt);
        if (ret == AVERROR(EAGAIN))
            break;
        if (ret == AVERROR_EOF) {
            r->asink_eof = true;
            break;
        }
        if (ret < 0)
            return fail(r, ret, "audio filters");
        r->filt->pts = r->samples_out;
        r->samples_out += r->filt->nb_samples;
        ret = encode(r, r->aenc, r->oc, r->ast, r->filt);
        av_frame_unref(r->filt);
        if (ret < 0)
            return -1;
    }
    for (int i = 0; i < r->n; i++) {
        track *t = &r->tracks[i];
        while (!t->wav_eof) {
            ret = av_buffersink_get_frame(t->wav_sink, r->filt);
            if (ret == AVERROR(EAGAIN))
                break;
            if (ret == AVERROR_EOF) {
                t->wav_eof = true;
                break;
            }
            if (ret < 0)
                return fail(r, ret, "audio filters");
            r->filt->pts = t->wav_samples;
            t->wav_samples += r->filt->nb_samples;
            ret = encode(r, t->wav_enc, t->wav, t->wav->streams[0], r->filt);
            av_frame_unref(r->filt);
            if (ret < 0)
                return -1;
        }
    }
    return 0;
}

/* ---- feeding ----------------------------------------------------------------------------- */

static void end_source(track *t, bool video)
{
    bool *done = video ? &t->vdone : &t->adone;
    if (*done)
        return;
    *done = true;
    /* Only fails when the source has already ended: nothing to undo. */
    if (av_buffersrc_add_frame_flags(video ? t->vsrc : t->asrc, NULL, 0) < 0)
        log_debug("render: %s: the %s source had ended", t->src->participant_id, video ? "video" : "audio");
}

/* One decoded frame (r->frame) onto the timeline and into its source. */
static int feed_frame(render *r, track *t, bool video)
{
    AVFrame *f = r->frame;
    AVStream *st = t->ic->streams[video ? t->vidx : t->aidx];
    int64_t ts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
    if (ts == AV_NOPTS_VALUE) { /* cannot be placed: a gap */
        t->errors++;
        return 0;
    }
    int64_t us = av_rescale_q(ts, st->time_base, AV_TIME_BASE_Q) - t->t0 + t->offset_us;
    int *past = video ? &t->vpast_end : &t->apast_end;
    if (us >= r->duration_ms * 1000) {
        /* Past the end of the take. One such frame may be a damaged timestamp (a garbage
         * chunk): dropped; a run of them is the end of this stream. */
        if (++*past >= PAST_END_RUN)
            end_source(t, video);
        return 0;
    }
    *past = 0;
    if (us > t->position_us)
        t->position_us = us;
    int ret;
    if (video) {
        t->vstarted = true;
        f->pts = us;
        ret = av_buffersrc_add_frame_flags(t->vsrc, f, 0);
    } else {
        if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) { /* as declared to abuffer */
            int nb = f->ch_layout.nb_channels;
            av_channel_layout_uninit(&f->ch_layout);
            av_channel_layout_default(&f->ch_layout, nb);
        }
        t->astarted = true;
        f->pts = av_rescale(us, f->sample_rate, AV_TIME_BASE);
        ret = av_buffersrc_add_frame_flags(t->asrc, f, 0);
    }
    if (ret == AVERROR_EOF) { /* the graph needs no more of it */
        if (video)
            t->vdone = true;
        else
            t->adone = true;
        return 0;
    }
    if (ret == AVERROR(ENOMEM))
        return fail(r, ret, "filters");
    if (ret < 0) /* e.g. a frame whose format changed: skipped */
        t->errors++;
    return 0;
}

/* Sends pkt (NULL: flush) to the decoder and every frame on. */
static int decode(render *r, track *t, bool video, const AVPacket *pkt)
{
    AVCodecContext *dec = video ? t->vdec : t->adec;
    if (video ? t->vdone : t->adone)
        return 0;
    int ret = avcodec_send_packet(dec, pkt);
    if (ret < 0 && ret != AVERROR(EAGAIN)) {
        t->errors++; /* damaged data: skip the packet */
        if (pkt)
            return 0;
    }
    for (;;) {
        ret = avcodec_receive_frame(dec, r->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            break;
        if (ret < 0) { /* a damaged frame: the next packet's turn brings the rest */
            t->errors++;
            break;
        }
        ret = feed_frame(r, t, video);
        av_frame_unref(r->frame);
        if (ret < 0)
            return -1;
        if (video ? t->vdone : t->adone)
            break;
    }
    if (!pkt)
        end_source(t, video);
    return 0;
}

static int finish_track(render *r, track *t)
{
    t->demux_done = true;
    if (t->vdec && decode(r, t, true, NULL) < 0)
        return -1;
    if (t->adec && decode(r, t, false, NULL) < 0)
        return -1;
    if (t->vsrc)
        end_source(t, true);
    if (t->asrc)
        end_source(t, false);
    return 0;
}

static int step_track(render *r, track *t)
{
    if (!t->ic || (t->vdone && t->adone))
        return finish_track(r, t);
    int ret = av_read_frame(t->ic, r->pkt);
    if (ret < 0) {
        if (ret == AVERROR_EOF || avio_feof(t->ic->pb) || ++t->consecutive_errors > MAX_CONSECUTIVE_ERRORS)
            return finish_track(r, t);
        t->errors++;
        return 0;
    }
    t->consecutive_errors = 0;
    ret = 0;
    if (r->pkt->stream_index == t->vidx)
        ret = decode(r, t, true, r->pkt);
    else if (r->pkt->stream_index == t->aidx)
        ret = decode(r, t, false, r->pkt);
    av_packet_unref(r->pkt);
    return ret;
}

/* The lead-in frames of a track that starts after the take (offset > 0): one black frame
 * and 0.5 s of silence in the decoders' formats, made once, pushed by reference. */
static int make_lead_in(render *r, track *t)
{
    if (t->offset_us <= LEAD_STEP_US)
        return 0;
    if (t->vsrc) {
        if (!(t->black = av_frame_alloc()))
            return fail(r, AVERROR(ENOMEM), "lead-in");
        t->black->width = t->vdec->width;
        t->black->height = t->vdec->height;
        t->black->format = t->vdec->pix_fmt;
        t->black->sample_aspect_ratio = t->vdec->sample_aspect_ratio;
        ptrdiff_t linesize[4];
        int ret = av_frame_get_buffer(t->black, 0);
        if (ret == AVERROR(ENOMEM))
            return fail(r, ret, "lead-in");
        if (ret >= 0) {
            for (int i = 0; i < 4; i++)
                linesize[i] = t->black->linesize[i];
            ret = av_image_fill_black(t->black->data, linesize, t->vdec->pix_fmt, t->vdec->color_range,
                                      t->black->width, t->black->height);
        }
        if (ret < 0) /* a format it cannot blacken: no video lead-in (the graph queues) */
            av_frame_free(&t->black);
    }
    if (t->asrc) {
        if (!(t->silence = av_frame_alloc()))
            return fail(r, AVERROR(ENOMEM), "lead-in");
        t->silence->format = t->adec->sample_fmt;
        t->silence->sample_rate = t->adec->sample_rate;
        t->silence->nb_samples = t->adec->sample_rate / 2; /* LEAD_STEP_US */
        int ret;
        if (t->adec->ch_layout.order == AV_CHANNEL_ORDER_NATIVE)
            ret = av_channel_layout_copy(&t->silence->ch_layout, &t->adec->ch_layout);
        else
            ret = (av_channel_layout_default(&t->silence->ch_layout, t->adec->ch_layout.nb_channels), 0);
        if (ret >= 0)
            ret = av_frame_get_buffer(t->silence, 0);
        if (ret < 0)
            return fail(r, ret, "lead-in");
        av_samples_set_silence(t->silence->extended_data, 0, t->silence->nb_samples,
                               t->silence->ch_layout.nb_channels, t->adec->sample_fmt);
    }
    return 0;
}

/* Feeds t's lead-in up to upto_us of the timeline (never into its media). */
static int lead_in(render *r, track *t, int64_t upto_us)
{
    int64_t limit = t->offset_us - LEAD_GUARD_US;
    while (t->lead_us <= upto_us && t->lead_us + LEAD_STEP_US <= limit) {
        int ret = 0;
        if (t->black && !t->vstarted && !t->vdone) {
            t->black->pts = t->lead_us;
            ret = av_buffersrc_add_frame_flags(t->vsrc, t->black, AV_BUFFERSRC_FLAG_KEEP_REF);
        }
        if (ret >= 0 && t->silence && !t->astarted && !t->adone) {
            t->silence->pts = av_rescale(t->lead_us, t->silence->sample_rate, AV_TIME_BASE);
            ret = av_buffersrc_add_frame_flags(t->asrc, t->silence, AV_BUFFERSRC_FLAG_KEEP_REF);
        }
        if (ret == AVERROR(ENOMEM))
            return fail(r, ret, "lead-in");
        t->lead_us += LEAD_STEP_US;
    }
    return 0;
}

static int run(render *r)
{
    for (int i = 0; i < r->n; i++)
        if (make_lead_in(r, &r->tracks[i]) < 0)
            return -1;

    for (;;) {
        track *next = NULL;
        for (int i = 0; i < r->n; i++) {
            track *t = &r->tracks[i];
            if (!t->demux_done && (!next || t->position_us < next->position_us))
                next = t;
        }
        if (!next)
            break;
        for (int i = 0; i < r->n; i++) {
            track *t = &r->tracks[i];
            if ((t->black || t->silence) && lead_in(r, t, next->position_us) < 0)
                return -1;
        }
        if (step_track(r, next) < 0 || drain(r) < 0)
            return -1;
    }
    if (!report(r, 95, "finishing"))
        return -1;
    /* every source has ended: the graph runs out (the sinks pull through it) */
    for (int idle = 0;;) {
        int64_t before = r->frames_out;
        if (drain(r) < 0)
            return -1;
        bool done = r->vsink_eof && r->asink_eof;
        for (int i = 0; i < r->n; i++)
            done = done && r->tracks[i].wav_eof;
        if (done)
            break;
        int ret = avfilter_graph_request_oldest(r->graph);
        if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
            return fail(r, ret, "filters");
        idle = r->frames_out == before ? idle + 1 : 0;
        if (idle > 10000)
            return fail(r, 0, "filters: the graph does not end");
    }
    if (encode(r, r->venc, r->oc, r->vst, NULL) < 0 || encode(r, r->aenc, r->oc, r->ast, NULL) < 0)
        return -1;
    int ret = av_write_trailer(r->oc);
    r->header_written = false;
    if (ret < 0)
        return fail(r, ret, "final.mp4: trailer");
    for (int i = 0; i < r->n; i++) {
        track *t = &r->tracks[i];
        if (encode(r, t->wav_enc, t->wav, t->wav->streams[0], NULL) < 0)
            return -1;
        if ((ret = av_write_trailer(t->wav)) < 0)
            return fail(r, ret, "%s.wav: trailer", t->src->participant_id);
    }
    return 0;
}

/* Where the track ends on the take's timeline (ms), 0 when unknown: the container's
 * duration, unless only guessed from the bitrate; else (a live WebM from MediaRecorder has
 * none) the last chunk's start plus an average chunk's length. */
static int64_t track_end_ms(const render *r, const track *t)
{
    if (t->ic && t->ic->duration != AV_NOPTS_VALUE && t->ic->duration > 0 &&
        t->ic->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE)
        return (t->offset_us + t->ic->duration) / 1000;
    const render_track *src = t->src;
    if (!t->ic || src->chunk_count < 2 || !src->chunk_start_ms)
        return 0;
    int64_t first = src->chunk_start_ms[0], last = src->chunk_start_ms[src->chunk_count - 1];
    if (first <= 0 || last <= first)
        return 0;
    return last + (last - first) / (src->chunk_count - 1) - r->req->take_start_ms;
}

/* ---- the whole ------------------------------------------------------------------------------ */

int render_take(const render_request *req, render_progress_fn progress, void *ctx, char *err, size_t err_size)
{
    render r = { .req = req, .progress = progress, .ctx = ctx, .err = err, .err_size = err_size };
    if (err && err_size)
        err[0] = '\0';
    if (!req || !req->storage || !req->out_dir || req->track_count <= 0 || !req->tracks || req->width < 16 ||
        req->height < 16)
        return fail(&r, 0, "bad render request");

    for (int i = 0; i < req->track_count; i++) { /* it names files in out_dir */
        const char *id = req->tracks[i].participant_id;
        if (!id[0] || id[0] == '.' || strchr(id, '/') || !memchr(id, '\0', sizeof req->tracks[i].participant_id))
            return fail(&r, 0, "bad participant id");
    }

    int result = -1;
    r.n = req->track_count;
    r.width = req->width & ~1; /* yuv420p */
    r.height = req->height & ~1;
    r.tracks = calloc((size_t)r.n, sizeof *r.tracks);
    r.pkt = av_packet_alloc();
    r.opkt = av_packet_alloc();
    r.frame = av_frame_alloc();
    r.filt = av_frame_alloc();
    if (!r.tracks || !r.pkt || !r.opkt || !r.frame || !r.filt) {
        fail(&r, AVERROR(ENOMEM), "render");
        goto done;
    }
    if (!report(&r, 0, "decoding"))
        goto done;
    for (int i = 0; i < r.n; i++)
        open_track(&r, &r.tracks[i], &req->tracks[i]);

    r.duration_ms = req->take_stop_ms - req->take_start_ms;
    if (r.duration_ms <= 0) { /* the longest track */
        r.duration_ms = 0;
        for (int i = 0; i < r.n; i++) {
            int64_t end_ms = track_end_ms(&r, &r.tracks[i]);
            if (end_ms > r.duration_ms)
                r.duration_ms = end_ms;
        }
        if (r.duration_ms <= 0) {
            fail(&r, 0, "nothing to render: no track has a known duration");
            goto done;
        }
    }
    r.total_frames = (r.duration_ms * FPS + 999) / 1000; /* as many as the color source makes */
    r.next_progress_frame = FPS;

    if (build_graph(&r) < 0 || open_outputs(&r) < 0)
        goto done;
    if (!report(&r, 1, "encoding"))
        goto done;
    if (run(&r) < 0)
        goto done;

    int64_t errors = 0, missing = 0;
    for (int i = 0; i < r.n; i++) {
        errors += r.tracks[i].errors;
        missing += r.tracks[i].cs ? chunk_stream_missing(r.tracks[i].cs) : 0;
    }
    log_info("render: %d tracks, %" PRId64 " ms, %" PRId64 " frames, %" PRId64 " chunks missing, %" PRId64
             " decode errors skipped",
             r.n, r.duration_ms, r.frames_out, missing, errors);
    if (!report(&r, 100, "finishing"))
        goto done;
    result = 0;

done:
    if (r.oc) {
        if (r.header_written)
            av_write_trailer(r.oc); /* closes the file properly even on failure */
        if (r.oc->pb)
            avio_closep(&r.oc->pb);
        avformat_free_context(r.oc);
    }
    avcodec_free_context(&r.venc);
    avcodec_free_context(&r.aenc);
    avfilter_graph_free(&r.graph);
    if (r.tracks) {
        for (int i = 0; i < r.n; i++)
            close_track(&r.tracks[i]);
        free(r.tracks);
    }
    av_packet_free(&r.pkt);
    av_packet_free(&r.opkt);
    av_frame_free(&r.frame);
    av_frame_free(&r.filt);
    return result;
}
