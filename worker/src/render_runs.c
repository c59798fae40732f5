/* A participant's runs. When a participant's browser reloads in the middle of a take, the
 * web app starts a new MediaRecorder whose chunks go on with the same indexes: from that
 * chunk on, the bytes are another file, with its own container header and media times
 * starting again near 0. Each such file is a run: demuxed and decoded on its own, placed on
 * the timeline by its first chunk's start, and fed into the same sources as the runs before
 * it (one tile, one WAV, one video file per participant; between runs the tile freezes and
 * the audio is silence, as over a gap).
 *
 * A chunk starts a run when its first bytes are a container header (EBML's magic for
 * WebM/Matroska, an 'ftyp' box for MP4); chunk 0 always does. A chunk that cannot be read
 * cannot be told: it stays in the run before it (a gap there). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "render_internal.h"

#define SNIFF_BYTES 12

static bool is_container_header(const uint8_t *b, size_t n)
{
    static const uint8_t ebml[4] = { 0x1A, 0x45, 0xDF, 0xA3 };
    return (n >= 4 && memcmp(b, ebml, 4) == 0) || (n >= 8 && memcmp(b + 4, "ftyp", 4) == 0);
}

static bool starts_run(storage *s, const chunk_ref *c)
{
    uint8_t b[SNIFF_BYTES];
    size_t got = 0;
    if (s->backend->read_range(s, c->key, 0, b, sizeof b, &got) != STORAGE_OK)
        return false;
    return is_container_header(b, got < sizeof b ? got : sizeof b);
}

static int split_track(render *r, const render_track *src, track_runs *runs)
{
    int n = src->chunk_count > 0 && src->chunks ? src->chunk_count : 0;
    if (!(runs->first = malloc(((size_t)n + 2) * sizeof *runs->first))) /* run 0 and the end, even of no chunks */
        return render_fail(r, AVERROR(ENOMEM), "runs");
    runs->first[0] = 0;
    runs->count = 1;
    for (int k = 1; k < n; k++)
        if (starts_run(r->req->storage, &src->chunks[k]))
            runs->first[runs->count++] = k;
    runs->first[runs->count] = n; /* the end of the last run */
    if (runs->count > 1)
        log_info("render: %s: %d recordings (the browser reloaded)", src->participant_id, runs->count);
    return 0;
}

int render_runs_split(render *r)
{
    if (!(r->runs = calloc((size_t)r->n, sizeof *r->runs)))
        return render_fail(r, AVERROR(ENOMEM), "runs");
    for (int i = 0; i < r->n; i++)
        if (split_track(r, &r->req->tracks[i], &r->runs[i]) < 0)
            return -1;
    return 0;
}

void render_runs_free(render *r)
{
    for (int i = 0; r->runs && i < r->n; i++)
        free(r->runs[i].first);
    free(r->runs);
    r->runs = NULL;
}

/* ---- one run's demuxer and decoders ------------------------------------------------------ */

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
    dec->thread_count = 0; /* frame threads: the decoding of a track runs beside the rest */
    if (avcodec_open2(dec, codec, NULL) < 0) {
        avcodec_free_context(&dec);
        return NULL;
    }
    return dec;
}

static int64_t run_offset_us(const render *r, const track *t, int run)
{
    const render_track *src = t->src;
    int64_t start = src->chunk_count > 0 && src->chunk_start_ms ? src->chunk_start_ms[t->runs->first[run]] : 0;
    return start > 0 ? (start - r->req->take_start_ms) * 1000 : 0;
}

/* Opens run's demuxer and decoders into t (its first chunk's start places it); t->ic stays
 * NULL when it cannot be opened (its header chunk missing: no media from it). */
static void open_run(render *r, track *t, int run)
{
    const render_track *src = t->src;
    int first = t->runs->first[run], count = t->runs->first[run + 1] - first;
    t->run = run;
    t->t0 = 0;
    t->offset_us = run_offset_us(r, t, run);
    t->cs = chunk_stream_open(r->req->storage, src->chunks + first, count);
    if (t->cs && mp4_resync_applies(t->cs)) /* the mov demuxer does not resync by itself */
        t->resync = mp4_resync_open(t->cs);
    AVIOContext *pb = t->resync ? mp4_resync_avio(t->resync) : t->cs ? chunk_stream_avio(t->cs) : NULL;
    if (!pb || !(t->ic = avformat_alloc_context()))
        return;
    t->ic->pb = pb;
    t->ic->flags |= AVFMT_FLAG_CUSTOM_IO;
    AVDictionary *opts = NULL; /* after a gap, the fragments' own times (5.1's default, said) */
    if (t->resync)
        av_dict_set(&opts, "use_tfdt", "1", 0);
    int ret = avformat_open_input(&t->ic, NULL, NULL, &opts); /* frees ic on failure */
    av_dict_free(&opts);
    if (ret < 0) {
        log_warn("render: %s: cannot open the recording from chunk %d (%d chunks missing)", src->participant_id,
                 first, (int)chunk_stream_missing(t->cs));
        return;
    }
    if (avformat_find_stream_info(t->ic, NULL) < 0)
        log_warn("render: %s: no stream info", src->participant_id);
    if (t->ic->start_time != AV_NOPTS_VALUE)
        t->t0 = t->ic->start_time;

    int v = r->pass == PASS_RENDER ? av_find_best_stream(t->ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0) : -1;
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

void render_run_close(track *t)
{
    avcodec_free_context(&t->vdec);
    avcodec_free_context(&t->adec);
    avformat_close_input(&t->ic);
    mp4_resync_close(t->resync);
    t->resync = NULL;
    t->missing_before += t->cs ? chunk_stream_missing(t->cs) : 0;
    chunk_stream_close(t->cs);
    t->cs = NULL;
    t->vidx = t->aidx = -1;
}

/* From run on, the first run that opens; false when none does (the last one stays). */
static bool open_from(render *r, track *t, int run)
{
    for (; run < t->runs->count; run++) {
        render_run_close(t);
        open_run(r, t, run);
        if (t->ic)
            return true;
    }
    return false;
}

/* The track's first run that opens: its decoders are what the graph's sources declare. */
void render_runs_open_first(render *r, track *t)
{
    t->runs = &r->runs[t->index];
    t->vidx = t->aidx = -1;
    open_from(r, t, 0);
    if (t->adec) {
        t->audio_rate = t->adec->sample_rate;
        t->audio_fmt = t->adec->sample_fmt;
        t->audio_channels = t->adec->ch_layout.nb_channels;
    }
}

/* Its audio as the source was declared: abuffer refuses a frame of another rate, format or
 * channel count (and the rate was declared with the clock's correction folded in). */
static bool audio_fits(const track *t)
{
    return t->adec->sample_rate == t->audio_rate && t->adec->sample_fmt == t->audio_fmt &&
           t->adec->ch_layout.nb_channels == t->audio_channels;
}

/* The track's next run after the current one's demuxer ended (its decoders flushed): false
 * when there is none. Only streams whose sources exist are read; video of another size is
 * fine (buffer logs the change, scale follows it). */
bool render_runs_next(render *r, track *t)
{
    if (t->run + 1 >= t->runs->count || !open_from(r, t, t->run + 1))
        return false;
    if (t->vidx >= 0 && (!t->vsrc || t->vdone))
        t->vidx = -1;
    if (t->aidx >= 0 && (!t->asrc || t->adone))
        t->aidx = -1;
    if (t->aidx >= 0 && !audio_fits(t)) {
        log_warn("render: %s: the recording from chunk %d has audio of another format (%d Hz, %d channels): "
                 "skipped", t->src->participant_id, t->runs->first[t->run], t->adec->sample_rate,
                 t->adec->ch_layout.nb_channels);
        t->aidx = -1;
    }
    if (t->vidx < 0) /* never flushed into a source */
        avcodec_free_context(&t->vdec);
    if (t->aidx < 0)
        avcodec_free_context(&t->adec);
    if (t->offset_us > t->position_us)
        t->position_us = t->offset_us;
    t->consecutive_errors = 0;
    return true;
}
