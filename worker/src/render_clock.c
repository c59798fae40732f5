/* A participant's clock against the server's. Each chunk carries the server-clock time at
 * which its media starts; the demuxer says which media time the chunk's first packet has.
 * Over a long take a sound card's clock may run some hundred ppm fast or slow, and the
 * media then drifts off the timeline (at 100 ppm, 0.36 s an hour). The straight line
 * through (media time, server time) gives the ratio; pass 2 stretches the track's
 * timestamps by it and resamples its audio to fit (render_graph.c declares the audio's
 * rate as rate / ratio, so aresample's conversion to 48 kHz does the stretching). */
#include <math.h>
#include <stdlib.h>

#include "log.h"
#include "render_internal.h"

#define MIN_POINTS 3
#define MIN_SPAN_US (20 * 1000000LL) /* shorter, the chunk times' jitter outweighs any drift */
#define MAX_DRIFT 0.01               /* 1 %: beyond, the chunk times are wrong, not the clock */
#define MIN_CORRECTION_US 10000      /* less drift than 10 ms over the take is left alone */

int render_clock_track_init(render *r, track *t)
{
    t->last_chunk_seen = -1;
    if (t->src->chunk_count <= 0)
        return 0;
    t->chunk_media_us = malloc((size_t)t->src->chunk_count * sizeof *t->chunk_media_us);
    if (!t->chunk_media_us)
        return render_fail(r, AVERROR(ENOMEM), "clock");
    for (int k = 0; k < t->src->chunk_count; k++)
        t->chunk_media_us[k] = INT64_MIN;
    return 0;
}

void render_clock_note(track *t, const AVPacket *pkt)
{
    if (!t->chunk_media_us || !t->cs || pkt->pos < 0 || pkt->pts == AV_NOPTS_VALUE)
        return;
    int k = t->resync ? mp4_resync_chunk_at(t->resync, pkt->pos) : chunk_stream_chunk_at(t->cs, pkt->pos);
    if (k < 0)
        return;
    k += t->runs->first[t->run]; /* the run's chunk_stream counts from its first chunk */
    if (k <= t->last_chunk_seen)
        return;
    t->last_chunk_seen = k;
    AVStream *st = t->ic->streams[pkt->stream_index];
    t->chunk_media_us[k] = av_rescale_q(pkt->pts, st->time_base, AV_TIME_BASE_Q) - t->t0;
}

/* The run with the most chunks. Each run's media times start again from its own t0, so the
 * points of two runs are not on one line; the drift is the sound card's, the same in every
 * run, so the longest run's fit is applied to all. */
static int longest_run(const track *t)
{
    int best = 0;
    for (int k = 1; k < t->runs->count; k++)
        if (t->runs->first[k + 1] - t->runs->first[k] > t->runs->first[best + 1] - t->runs->first[best])
            best = k;
    return best;
}

/* The least-squares slope of server time over media time, through the longest run's chunks
 * whose both times are known; 1.0 when there are too few or they span too little. */
static double fit(const track *t, int64_t *span_us)
{
    const render_track *src = t->src;
    int run = longest_run(t), first = t->runs->first[run];
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int k = first; k < t->runs->first[run + 1]; k++) {
        int64_t media = t->chunk_media_us[k];
        if (media == INT64_MIN || src->chunk_start_ms[k] <= 0)
            continue;
        double x = (double)media, y = (double)(src->chunk_start_ms[k] - src->chunk_start_ms[first]) * 1000.0;
        sx += x, sy += y, sxx += x * x, sxy += x * y;
        n++;
        lo = media < lo ? media : lo;
        hi = media > hi ? media : hi;
    }
    *span_us = n ? hi - lo : 0;
    double den = n * sxx - sx * sx;
    if (n < MIN_POINTS || *span_us < MIN_SPAN_US || den <= 0)
        return 1.0;
    return (n * sxy - sx * sy) / den;
}

double render_clock_ratio(const render *r, const track *t)
{
    if (!t->chunk_media_us || !t->src->chunk_start_ms || t->src->chunk_start_ms[0] <= 0)
        return 1.0;
    int64_t span_us;
    double ratio = fit(t, &span_us);
    double drift = ratio - 1.0;
    if (fabs(drift) > MAX_DRIFT) {
        log_warn("render: %s: its chunk times disagree with its media by %.1f %%: not corrected",
                 t->src->participant_id, drift * 100);
        return 1.0;
    }
    if (fabs(drift) * (double)(r->duration_ms * 1000) < MIN_CORRECTION_US)
        return 1.0;
    log_info("render: %s: its clock runs %+.0f ppm against the server's (over %.0f s): corrected",
             t->src->participant_id, -drift * 1e6, (double)span_us / 1e6);
    return ratio;
}
