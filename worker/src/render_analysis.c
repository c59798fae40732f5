/* Pass 1's sinks: each track's level every SPEAKER_WINDOW_MS, and the mix's integrated
 * loudness and true peak as ebur128 measures them. From those: the gain that brings the
 * mix to TARGET_LUFS (applied linearly in pass 2, so pauses are not pumped up the way a
 * single-pass dynamic normaliser does) and, for a layout that follows the speaker, who
 * speaks when. */
#include <math.h>
#include <stdlib.h>

#include <libavfilter/buffersink.h>
#include <libavutil/dict.h>

#include "log.h"
#include "render_internal.h"

#define WINDOW_SAMPLES (SAMPLE_RATE / 1000 * SPEAKER_WINDOW_MS)
#define SILENCE_DB (-100.0)
#define GATE_LUFS (-70.0) /* ebur128's absolute gate: below it there is nothing to measure */
#define GAIN_MAX_DB 40.0  /* quieter than -56 LUFS is noise, not a voice: not blown up further */

/* Window w's level from the samples gathered for it. */
static void close_window(track *t, int64_t w, int window_count)
{
    if (t->window_samples > 0 && w < window_count) {
        double mean = t->window_energy / (double)t->window_samples;
        double db = mean > 0 ? 10.0 * log10(mean) : SILENCE_DB;
        t->levels[w] = (float)(db < SILENCE_DB ? SILENCE_DB : db);
    }
    t->window_energy = 0;
    t->window_samples = 0;
}

/* A frame of stereo float (planar) into the track's windows. */
static void measure_levels(render *r, track *t, const AVFrame *f)
{
    const float *left = (const float *)f->extended_data[0];
    const float *right = f->ch_layout.nb_channels > 1 ? (const float *)f->extended_data[1] : left;
    for (int s = 0; s < f->nb_samples; s++) {
        t->window_energy += 0.5 * ((double)left[s] * left[s] + (double)right[s] * right[s]);
        t->window_samples++;
        if (t->window_samples == WINDOW_SAMPLES)
            close_window(t, t->level_samples / WINDOW_SAMPLES, r->window_count);
        t->level_samples++;
    }
}

static void read_measure(render *r, const AVFrame *f)
{
    const AVDictionaryEntry *e = av_dict_get(f->metadata, "lavfi.r128.I", NULL, 0);
    if (e)
        r->mix_lufs = strtod(e->value, NULL);
    e = av_dict_get(f->metadata, "lavfi.r128.true_peak", NULL, 0);
    if (e) {
        double linear = strtod(e->value, NULL); /* linear amplitude, 1.0 = full scale */
        r->mix_true_peak_db = linear > 0 ? 20.0 * log10(linear) : SILENCE_DB;
    }
}

/* Pulls what sink has; *eof set at its end. Frames pulled, or -1. */
static int64_t pull(render *r, AVFilterContext *sink, bool *eof, track *t)
{
    int64_t pulled = 0;
    while (!*eof) {
        int ret = av_buffersink_get_frame(sink, r->filt);
        if (ret == AVERROR(EAGAIN))
            break;
        if (ret == AVERROR_EOF) {
            *eof = true;
            break;
        }
        if (ret < 0)
            return render_fail(r, ret, "audio analysis");
        if (t)
            measure_levels(r, t, r->filt);
        else
            read_measure(r, r->filt);
        av_frame_unref(r->filt);
        pulled++;
    }
    return pulled;
}

int64_t render_analysis_drain(render *r)
{
    int64_t total = 0;
    for (int i = 0; i < r->n; i++) {
        track *t = &r->tracks[i];
        int64_t got = pull(r, t->level_sink, &t->level_eof, t);
        if (got < 0)
            return -1;
        total += got;
    }
    int64_t got = pull(r, r->measure_sink, &r->measure_eof, NULL);
    return got < 0 ? -1 : total + got;
}

bool render_analysis_done(const render *r)
{
    bool done = r->measure_eof;
    for (int i = 0; i < r->n; i++)
        done = done && r->tracks[i].level_eof;
    return done;
}

static double gain_for(double lufs)
{
    if (lufs <= GATE_LUFS)
        return 0.0;
    double gain = TARGET_LUFS - lufs;
    return gain > GAIN_MAX_DB ? GAIN_MAX_DB : gain;
}

static int find_speakers(render *r)
{
    const float **levels = calloc((size_t)r->n, sizeof *levels);
    if (!levels)
        return render_fail(r, AVERROR(ENOMEM), "speakers");
    for (int i = 0; i < r->n; i++)
        levels[i] = r->tracks[i].levels;
    r->speaker_count = speaker_timeline(levels, r->n, r->window_count, &r->speakers);
    free(levels);
    if (r->speaker_count < 0) {
        r->speakers = NULL;
        return render_fail(r, AVERROR(ENOMEM), "speakers");
    }
    log_info("render: %d changes of speaker", r->speaker_count > 0 ? r->speaker_count - 1 : 0);
    return 0;
}

int render_analysis_finish(render *r)
{
    for (int i = 0; i < r->n; i++)
        close_window(&r->tracks[i], r->tracks[i].level_samples / WINDOW_SAMPLES, r->window_count);
    r->gain_db = gain_for(r->mix_lufs);
    log_info("render: the mix measures %.1f LUFS, true peak %.1f dBTP: gain %+.1f dB", r->mix_lufs,
             r->mix_true_peak_db, r->gain_db);
    if (layout_follows_speaker(r->layout) && r->n > 1)
        return find_speakers(r);
    return 0;
}
