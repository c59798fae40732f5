/* The tracks: each participant's chunks demuxed from its chunk_stream, decoded once, and
 * fed into the filter graph with their timestamps already moved onto the take's timeline
 * (microseconds for video, samples for audio, 0 = take start). Only the code knows each
 * track's offset and media start, which is why this is not left to setpts/adelay filters.
 *
 * Tracks are fed in timeline order (the one furthest behind first). A track that starts
 * late gets a lead-in, black frames and silence every 0.5 s up to its start, fed in step
 * with the others: without it the overlay and amix would hold every frame of the others
 * until its first one (measured: 1.7 GB instead of 0.38 GB for a 30 s late start at 720p).
 * A missing or damaged chunk is a gap: the demuxer resyncs (Matroska on the next cluster,
 * so the rest of the cluster the gap cut into is lost with it; a fragmented MP4's stream is
 * repaired for it, mp4_resync.c), decode errors are counted and skipped, the video tile
 * freezes on its last frame and the audio is filled with silence (by aresample's async)
 * until the media resumes. A frame stamped past the take's end is dropped; PAST_END_RUN in
 * a row end that stream (one bad timestamp from a garbage chunk must not end a track). */
#include <stdlib.h>
#include <string.h>

#include <libavfilter/buffersrc.h>
#include <libavutil/imgutils.h>
#include <libavutil/samplefmt.h>

#include "log.h"
#include "render_internal.h"

#define MAX_CONSECUTIVE_ERRORS 1000 /* a demuxer that errors this often without a packet is stuck */
#define LEAD_STEP_US 500000   /* a lead-in frame every 0.5 s */
#define LEAD_GUARD_US 50000   /* the lead-in stops this far before the media */
#define PAST_END_RUN 50 /* frames in a row past the take's end that end a stream (1 to 2 s) */
#define STUCK_ROUNDS 10000 /* rounds of running the graph out without a frame: it does not end */

/* A track that cannot be opened is a track without media (grey tile, silence), not a
 * failed render: its chunks may all be missing. */
void render_open_track(render *r, track *t, const render_track *src)
{
    t->src = src;
    render_runs_open_first(r, t);
    t->position_us = t->offset_us > 0 ? t->offset_us : 0;
}

void render_close_track(track *t)
{
    av_frame_free(&t->black);
    av_frame_free(&t->silence);
    render_run_close(t);
    free(t->levels);
    t->levels = NULL;
    free(t->chunk_media_us);
    t->chunk_media_us = NULL;
}

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
    int64_t media_us = av_rescale_q(ts, st->time_base, AV_TIME_BASE_Q) - t->t0;
    int64_t us = (t->clock_ratio == 1.0 ? media_us : llrint((double)media_us * t->clock_ratio)) + t->offset_us;
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
        f->sample_rate = t->declared_rate;
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
        return render_fail(r, ret, "filters");
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
    return 0;
}

/* The decoders' last frames in; the sources stay open for a next run. */
static int flush_decoders(render *r, track *t)
{
    if (t->vdec && t->vidx >= 0 && decode(r, t, true, NULL) < 0)
        return -1;
    if (t->adec && t->aidx >= 0 && decode(r, t, false, NULL) < 0)
        return -1;
    return 0;
}

static int finish_track(render *r, track *t)
{
    t->demux_done = true;
    if (flush_decoders(r, t) < 0)
        return -1;
    if (t->vsrc)
        end_source(t, true);
    if (t->asrc)
        end_source(t, false);
    return 0;
}

/* The run's demuxer has ended: the track goes on with its next run, if any. */
static int end_run(render *r, track *t)
{
    if (t->run + 1 >= t->runs->count)
        return finish_track(r, t);
    if (flush_decoders(r, t) < 0)
        return -1;
    return render_runs_next(r, t) ? 0 : finish_track(r, t);
}

static int step_track(render *r, track *t)
{
    if (!t->ic || (t->vdone && t->adone))
        return finish_track(r, t);
    int ret = av_read_frame(t->ic, r->pkt);
    if (ret < 0) {
        if (ret == AVERROR_EOF || avio_feof(t->ic->pb) || ++t->consecutive_errors > MAX_CONSECUTIVE_ERRORS)
            return end_run(r, t);
        t->errors++;
        return 0;
    }
    t->consecutive_errors = 0;
    if (r->pass == PASS_ANALYSIS)
        render_clock_note(t, r->pkt);
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
            return render_fail(r, AVERROR(ENOMEM), "lead-in");
        t->black->width = t->vdec->width;
        t->black->height = t->vdec->height;
        t->black->format = t->vdec->pix_fmt;
        t->black->sample_aspect_ratio = t->vdec->sample_aspect_ratio;
        ptrdiff_t linesize[4];
        int ret = av_frame_get_buffer(t->black, 0);
        if (ret == AVERROR(ENOMEM))
            return render_fail(r, ret, "lead-in");
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
            return render_fail(r, AVERROR(ENOMEM), "lead-in");
        t->silence->format = t->adec->sample_fmt;
        t->silence->sample_rate = t->declared_rate;
        t->silence->nb_samples = t->adec->sample_rate / 2; /* LEAD_STEP_US */
        int ret;
        if (t->adec->ch_layout.order == AV_CHANNEL_ORDER_NATIVE)
            ret = av_channel_layout_copy(&t->silence->ch_layout, &t->adec->ch_layout);
        else
            ret = (av_channel_layout_default(&t->silence->ch_layout, t->adec->ch_layout.nb_channels), 0);
        if (ret >= 0)
            ret = av_frame_get_buffer(t->silence, 0);
        if (ret < 0)
            return render_fail(r, ret, "lead-in");
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
            return render_fail(r, ret, "lead-in");
        t->lead_us += LEAD_STEP_US;
    }
    return 0;
}

/* Where the track ends on the take's timeline (ms), 0 when unknown: the container's
 * duration, unless only guessed from the bitrate; else (a live WebM from MediaRecorder has
 * none, a fragmented MP4 read straight through tells its first fragments') the last chunk's
 * start plus an average chunk's length. */
int64_t render_track_end_ms(const render *r, const track *t)
{
    if (t->ic && !t->resync && t->runs->count == 1 && t->ic->duration != AV_NOPTS_VALUE && t->ic->duration > 0 &&
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


/* Everything the sinks have now; at the end until their EOF. The frames pulled, or -1. */
static int64_t drain(render *r)
{
    return r->pass == PASS_ANALYSIS ? render_analysis_drain(r) : render_outputs_drain(r);
}

static bool all_sinks_ended(const render *r)
{
    return r->pass == PASS_ANALYSIS ? render_analysis_done(r) : render_outputs_done(r);
}

static track *furthest_behind(render *r)
{
    track *next = NULL;
    for (int i = 0; i < r->n; i++) {
        track *t = &r->tracks[i];
        if (!t->demux_done && (!next || t->position_us < next->position_us))
            next = t;
    }
    return next;
}

/* Every source has ended: the graph runs out (the sinks pull through it). */
static int run_out(render *r)
{
    for (int idle = 0; idle < STUCK_ROUNDS;) {
        int64_t pulled = drain(r);
        if (pulled < 0)
            return -1;
        if (all_sinks_ended(r))
            return 0;
        int ret = avfilter_graph_request_oldest(r->graph);
        if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
            return render_fail(r, ret, "filters");
        idle = pulled ? 0 : idle + 1;
    }
    return render_fail(r, 0, "filters: the graph does not end");
}

int render_feed_all(render *r)
{
    for (int i = 0; i < r->n; i++)
        if (make_lead_in(r, &r->tracks[i]) < 0)
            return -1;
    for (track *next; (next = furthest_behind(r));) {
        for (int i = 0; i < r->n; i++) {
            track *t = &r->tracks[i];
            if ((t->black || t->silence) && lead_in(r, t, next->position_us) < 0)
                return -1;
        }
        if (step_track(r, next) < 0 || drain(r) < 0)
            return -1;
    }
    return run_out(r);
}
