/* Pass 2's files: final.mp4 (H.264 + AAC, faststart) and, per participant, <id>.mp4 (its
 * own picture and sound on the take's timeline, for an editor) and <id>.wav (48 kHz).
 *
 * The sinks' streams are contiguous by construction (colour sources, apad and the trims),
 * so the encoders get counted timestamps (frame or sample numbers), immune to whatever
 * damaged input did to the filters' ones. A keyframe every 2 s, exactly: segments of the
 * take can later be rendered apart and joined at those points without re-encoding. */
#include <stdio.h>
#include <string.h>

#include <libavfilter/buffersink.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>

#include "render_internal.h"

#define GOP_FRAMES (2 * FPS)
#define FINAL_CRF "23"
#define OWN_CRF "20" /* an editor's source: a little better than the mix */
#define AAC_BIT_RATE 128000

/* ---- opening -------------------------------------------------------------------------------- */

static int open_file(render *r, out_file *f, const char *format, const char *file_name)
{
    char path[4500];
    snprintf(f->name, sizeof f->name, "%s", file_name);
    snprintf(path, sizeof path, "%s/%s", r->req->out_dir, file_name);
    int ret = avformat_alloc_output_context2(&f->fc, NULL, format, path);
    if (ret < 0)
        return render_fail(r, ret, "%s", path);
    if ((ret = avio_open(&f->fc->pb, path, AVIO_FLAG_WRITE)) < 0)
        return render_fail(r, ret, "%s", path);
    return 0;
}

static int add_stream(render *r, out_file *f, out_stream *s)
{
    if (!(s->st = avformat_new_stream(f->fc, NULL)))
        return render_fail(r, AVERROR(ENOMEM), "%s", f->name);
    int ret = avcodec_parameters_from_context(s->st->codecpar, s->enc);
    if (ret < 0)
        return render_fail(r, ret, "%s", f->name);
    s->st->time_base = s->enc->time_base;
    return 0;
}

static int open_h264(render *r, out_file *f, const char *crf)
{
    out_stream *s = &f->video;
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec)
        return render_fail(r, 0, "no libx264 encoder");
    if (!(s->enc = avcodec_alloc_context3(codec)))
        return render_fail(r, AVERROR(ENOMEM), "video encoder");
    s->enc->width = av_buffersink_get_w(s->sink);
    s->enc->height = av_buffersink_get_h(s->sink);
    s->enc->pix_fmt = AV_PIX_FMT_YUV420P;
    s->enc->sample_aspect_ratio = (AVRational){ 1, 1 };
    s->enc->time_base = (AVRational){ 1, FPS }; /* the frames are counted */
    s->enc->framerate = (AVRational){ FPS, 1 };
    s->enc->gop_size = GOP_FRAMES;
    s->enc->keyint_min = GOP_FRAMES;
    if (f->fc->oformat->flags & AVFMT_GLOBALHEADER)
        s->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "preset", "veryfast", 0);
    av_dict_set(&opts, "crf", crf, 0);
    av_dict_set(&opts, "x264-params", "scenecut=0", 0);
    int ret = avcodec_open2(s->enc, codec, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return render_fail(r, ret, "libx264");
    if (add_stream(r, f, s) < 0)
        return -1;
    s->st->avg_frame_rate = s->enc->framerate;
    return 0;
}

static int open_audio(render *r, out_file *f, enum AVCodecID id, enum AVSampleFormat fmt, int64_t bit_rate)
{
    out_stream *s = &f->audio;
    const AVCodec *codec = avcodec_find_encoder(id);
    if (!codec)
        return render_fail(r, 0, "no %s encoder", avcodec_get_name(id));
    if (!(s->enc = avcodec_alloc_context3(codec)))
        return render_fail(r, AVERROR(ENOMEM), "audio encoder");
    s->enc->sample_rate = SAMPLE_RATE;
    s->enc->sample_fmt = fmt;
    av_channel_layout_default(&s->enc->ch_layout, 2);
    s->enc->bit_rate = bit_rate;
    s->enc->time_base = (AVRational){ 1, SAMPLE_RATE };
    if (f->fc->oformat->flags & AVFMT_GLOBALHEADER)
        s->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int ret = avcodec_open2(s->enc, codec, NULL);
    if (ret < 0)
        return render_fail(r, ret, "%s encoder", avcodec_get_name(id));
    if (s->enc->frame_size > 0)
        av_buffersink_set_frame_size(s->sink, (unsigned)s->enc->frame_size);
    return add_stream(r, f, s);
}

static int write_header(render *r, out_file *f, bool faststart)
{
    AVDictionary *opts = NULL;
    if (faststart)
        av_dict_set(&opts, "movflags", "+faststart", 0);
    int ret = avformat_write_header(f->fc, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return render_fail(r, ret, "%s: header", f->name);
    f->header_written = true;
    return 0;
}

static int open_mp4(render *r, out_file *f, const char *file_name, const char *crf)
{
    if (open_file(r, f, "mp4", file_name) < 0 || open_h264(r, f, crf) < 0 ||
        open_audio(r, f, AV_CODEC_ID_AAC, AV_SAMPLE_FMT_FLTP, AAC_BIT_RATE) < 0)
        return -1;
    return write_header(r, f, true);
}

static int open_wav(render *r, out_file *f, const char *file_name)
{
    if (open_file(r, f, "wav", file_name) < 0 || open_audio(r, f, AV_CODEC_ID_PCM_S16LE, AV_SAMPLE_FMT_S16, 0) < 0)
        return -1;
    return write_header(r, f, false);
}

int render_outputs_open(render *r)
{
    if (open_mp4(r, &r->final, "final.mp4", FINAL_CRF) < 0)
        return -1;
    if (r->req->final_only)
        return 0;
    char name[64];
    for (int i = 0; i < r->n; i++) {
        track *t = &r->tracks[i];
        snprintf(name, sizeof name, "%s.wav", t->src->participant_id);
        if (open_wav(r, &t->wav, name) < 0)
            return -1;
        snprintf(name, sizeof name, "%s.mp4", t->src->participant_id);
        if (open_mp4(r, &t->mp4, name, OWN_CRF) < 0)
            return -1;
    }
    return 0;
}

/* ---- writing -------------------------------------------------------------------------------- */

/* Sends frame (NULL: flush) and writes every packet out. */
static int encode(render *r, out_file *f, out_stream *s, AVFrame *frame)
{
    int ret = avcodec_send_frame(s->enc, frame);
    if (ret < 0)
        return render_fail(r, ret, "%s: encoding", f->name);
    for (;;) {
        ret = avcodec_receive_packet(s->enc, r->opkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return render_fail(r, ret, "%s: encoding", f->name);
        r->opkt->stream_index = s->st->index;
        av_packet_rescale_ts(r->opkt, s->enc->time_base, s->st->time_base);
        ret = av_interleaved_write_frame(f->fc, r->opkt); /* takes the reference */
        if (ret < 0)
            return render_fail(r, ret, "%s: writing", f->name);
    }
}

static int report_frames(render *r)
{
    if (r->final.video.next_pts < r->next_progress_frame)
        return 0;
    r->next_progress_frame += FPS;
    int64_t total = r->total_frames > 0 ? r->total_frames : 1;
    int pct = 5 + (int)(r->final.video.next_pts * 90 / total);
    return render_report(r, pct > 95 ? 95 : pct, "encoding") ? 0 : -1;
}

/* Everything s's sink has now. Frames pulled, or -1. */
static int64_t drain_stream(render *r, out_file *f, out_stream *s, bool video)
{
    int64_t pulled = 0;
    while (s->sink && !s->eof) {
        int ret = av_buffersink_get_frame(s->sink, r->filt);
        if (ret == AVERROR(EAGAIN))
            break;
        if (ret == AVERROR_EOF) {
            s->eof = true;
            break;
        }
        if (ret < 0)
            return render_fail(r, ret, "%s: filters", f->name);
        r->filt->pts = s->next_pts;
        if (video)
            r->filt->pict_type = AV_PICTURE_TYPE_NONE;
        s->next_pts += video ? 1 : r->filt->nb_samples;
        ret = encode(r, f, s, r->filt);
        av_frame_unref(r->filt);
        if (ret < 0 || (f == &r->final && video && report_frames(r) < 0))
            return -1;
        pulled++;
    }
    return pulled;
}

static int64_t drain_file(render *r, out_file *f)
{
    if (!f->fc)
        return 0;
    int64_t v = f->video.enc ? drain_stream(r, f, &f->video, true) : 0;
    int64_t a = v >= 0 ? drain_stream(r, f, &f->audio, false) : -1;
    return v < 0 || a < 0 ? -1 : v + a;
}

int64_t render_outputs_drain(render *r)
{
    int64_t total = drain_file(r, &r->final);
    for (int i = 0; i < r->n && total >= 0 && !r->req->final_only; i++) {
        track *t = &r->tracks[i];
        int64_t w = drain_file(r, &t->wav);
        int64_t m = w >= 0 ? drain_file(r, &t->mp4) : -1;
        total = w < 0 || m < 0 ? -1 : total + w + m;
    }
    return total;
}

static bool file_done(const out_file *f)
{
    return !f->fc || ((!f->video.enc || f->video.eof) && (!f->audio.enc || f->audio.eof));
}

bool render_outputs_done(const render *r)
{
    bool done = file_done(&r->final);
    for (int i = 0; i < r->n; i++)
        done = done && file_done(&r->tracks[i].wav) && file_done(&r->tracks[i].mp4);
    return done;
}

/* ---- finishing ------------------------------------------------------------------------------ */

static int finish_file(render *r, out_file *f)
{
    if (!f->fc)
        return 0;
    if ((f->video.enc && encode(r, f, &f->video, NULL) < 0) || (f->audio.enc && encode(r, f, &f->audio, NULL) < 0))
        return -1;
    int ret = av_write_trailer(f->fc);
    f->header_written = false;
    if (ret < 0)
        return render_fail(r, ret, "%s: trailer", f->name);
    return 0;
}

int render_outputs_finish(render *r)
{
    if (finish_file(r, &r->final) < 0)
        return -1;
    for (int i = 0; i < r->n; i++)
        if (finish_file(r, &r->tracks[i].wav) < 0 || finish_file(r, &r->tracks[i].mp4) < 0)
            return -1;
    return 0;
}

static void close_file(out_file *f)
{
    if (f->fc) {
        if (f->header_written)
            av_write_trailer(f->fc); /* a file closed properly even when the render failed */
        if (f->fc->pb)
            avio_closep(&f->fc->pb);
        avformat_free_context(f->fc);
    }
    avcodec_free_context(&f->video.enc);
    avcodec_free_context(&f->audio.enc);
    memset(f, 0, sizeof *f);
}

void render_outputs_close(render *r)
{
    close_file(&r->final);
    for (int i = 0; r->tracks && i < r->n; i++) {
        close_file(&r->tracks[i].wav);
        close_file(&r->tracks[i].mp4);
    }
}
