/* Pass 2's files: final.mp4 (H.264 + AAC, faststart) and, per participant, <id>.mp4 (its
 * own picture and sound on the take's timeline, for an editor) and <id>.wav (48 kHz).
 *
 * An MP4 is written in parts and joined at the end without re-encoding (render_join.c): its
 * video in segments of SEGMENT_FRAMES, each in a spool file of its own
 * (.<name>.seg-NNNNN.nut), its audio once for the whole take (.<name>.audio.nut). Every
 * segment starts with an IDR frame (closed GOPs of 2 s, no scene cuts), so it decodes on its
 * own and any encoder with the same settings could have made it: that is the shape a render
 * needs to run while the take is still being recorded, or to go on from its last whole
 * segment. Here one encoder makes them all and the files are cut at those keyframes; a
 * new encoder per segment costs about 10 % more CPU (x264's start and flush every 10 s).
 * What is left when the host stops is the last segment, the audio (normalised over the
 * whole take) and the join.
 *
 * The sinks' streams are contiguous by construction (colour sources, apad and the trims),
 * so the encoders get counted timestamps (frame or sample numbers), immune to whatever
 * damaged input did to the filters' ones. In the spooled parts they run SPOOL_LEAD_S ahead:
 * NUT keeps timestamps exactly, but not negative ones, and an encoder's first ones are
 * (B-frames' reordering, AAC's priming). */
#include <stdio.h>
#include <string.h>

#include <libavfilter/buffersink.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>

#include "render_internal.h"

#define GOP_FRAMES (2 * FPS)
_Static_assert(SEGMENT_FRAMES % GOP_FRAMES == 0, "a segment starts with a keyframe");
#define FINAL_CRF "23"
#define OWN_CRF "20" /* an editor's source: a little better than the mix */
#define AAC_BIT_RATE 128000

/* ---- opening -------------------------------------------------------------------------------- */

void render_spool_path(const render *r, const out_file *f, int segment, char *path, size_t size)
{
    if (segment < 0)
        snprintf(path, size, "%s/.%s.audio.nut", r->req->out_dir, f->name);
    else
        snprintf(path, size, "%s/.%s.seg-%05d.nut", r->req->out_dir, f->name, segment);
}

static int open_container(render *r, out_stream *s, const char *format, const char *path)
{
    int ret = avformat_alloc_output_context2(&s->fc, NULL, format, path);
    if (ret < 0)
        return render_fail(r, ret, "%s", path);
    if ((ret = avio_open(&s->fc->pb, path, AVIO_FLAG_WRITE)) < 0)
        return render_fail(r, ret, "%s", path);
    return 0;
}

static int add_stream(render *r, const out_file *f, out_stream *s)
{
    if (!(s->st = avformat_new_stream(s->fc, NULL)))
        return render_fail(r, AVERROR(ENOMEM), "%s", f->name);
    int ret = avcodec_parameters_from_context(s->st->codecpar, s->enc);
    if (ret < 0)
        return render_fail(r, ret, "%s", f->name);
    s->st->time_base = s->enc->time_base;
    return 0;
}

static int write_header(render *r, const out_file *f, out_stream *s)
{
    int ret = avformat_write_header(s->fc, NULL);
    if (ret < 0)
        return render_fail(r, ret, "%s: header", f->name);
    s->header_written = true;
    return 0;
}

static int open_h264(render *r, const out_file *f, out_stream *s)
{
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
    s->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER; /* the same SPS and PPS for every segment */
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "preset", "veryfast", 0);
    av_dict_set(&opts, "crf", f->crf, 0);
    av_dict_set(&opts, "x264-params", "scenecut=0", 0);
    int ret = avcodec_open2(s->enc, codec, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return render_fail(r, ret, "libx264");
    return 0;
}

static int open_audio(render *r, const out_file *f, out_stream *s, enum AVCodecID id, enum AVSampleFormat fmt,
                      int64_t bit_rate)
{
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
    if (s->fc->oformat->flags & AVFMT_GLOBALHEADER)
        s->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int ret = avcodec_open2(s->enc, codec, NULL);
    if (ret < 0)
        return render_fail(r, ret, "%s encoder", avcodec_get_name(id));
    s->initial_padding = s->enc->initial_padding; /* NUT keeps neither: the join needs them */
    s->frame_size = s->enc->frame_size;
    if (s->enc->frame_size > 0)
        av_buffersink_set_frame_size(s->sink, (unsigned)s->enc->frame_size);
    return add_stream(r, f, s);
}

/* Writes the last packets (flush) and the trailer, and frees the container. */
static int close_container(render *r, out_file *f, out_stream *s, bool flush);

/* A new spool file for the video's next segment; the encoder goes on into it. */
static int start_segment(render *r, out_file *f)
{
    char path[4500];
    render_spool_path(r, f, f->segments, path, sizeof path);
    if (open_container(r, &f->video, "nut", path) < 0 || add_stream(r, f, &f->video) < 0)
        return -1;
    f->video.st->avg_frame_rate = f->video.enc->framerate;
    return write_header(r, f, &f->video);
}

/* A keyframe at a segment's start (GOP_FRAMES divides SEGMENT_FRAMES, and every GOP is
 * closed and starts with an IDR frame) begins the next spool file: every packet before it in
 * decoding order belongs to the segments before. */
static int cut_segment(render *r, out_file *f, const AVPacket *pkt)
{
    int64_t frame = pkt->pts - SPOOL_LEAD_S * FPS; /* the encoder's time base counts frames */
    if (!(pkt->flags & AV_PKT_FLAG_KEY) || frame <= 0 || frame % SEGMENT_FRAMES != 0)
        return 0;
    if (close_container(r, f, &f->video, false) < 0)
        return -1;
    f->segments++;
    return start_segment(r, f);
}

static int open_mp4(render *r, out_file *f, const char *file_name, const char *crf)
{
    char path[4500];
    snprintf(f->name, sizeof f->name, "%s", file_name);
    f->crf = crf;
    if (open_h264(r, f, &f->video) < 0 || start_segment(r, f) < 0)
        return -1;
    render_spool_path(r, f, -1, path, sizeof path);
    if (open_container(r, &f->audio, "nut", path) < 0 ||
        open_audio(r, f, &f->audio, AV_CODEC_ID_AAC, AV_SAMPLE_FMT_FLTP, AAC_BIT_RATE) < 0)
        return -1;
    return write_header(r, f, &f->audio);
}

static int open_wav(render *r, out_file *f, const char *file_name)
{
    char path[4500];
    snprintf(f->name, sizeof f->name, "%s", file_name);
    snprintf(path, sizeof path, "%s/%s", r->req->out_dir, file_name);
    if (open_container(r, &f->audio, "wav", path) < 0 ||
        open_audio(r, f, &f->audio, AV_CODEC_ID_PCM_S16LE, AV_SAMPLE_FMT_S16, 0) < 0)
        return -1;
    return write_header(r, f, &f->audio);
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
        if (s == &f->video && f->crf && cut_segment(r, f, r->opkt) < 0) {
            av_packet_unref(r->opkt);
            return -1;
        }
        r->opkt->stream_index = s->st->index;
        av_packet_rescale_ts(r->opkt, s->enc->time_base, s->st->time_base);
        ret = av_interleaved_write_frame(s->fc, r->opkt); /* takes the reference */
        if (ret < 0)
            return render_fail(r, ret, "%s: writing", f->name);
    }
}

static int close_container(render *r, out_file *f, out_stream *s, bool flush)
{
    int ret = 0;
    if (flush && s->enc && s->fc)
        ret = encode(r, f, s, NULL);
    if (s->fc) {
        if (s->header_written) {
            int trailer = av_write_trailer(s->fc); /* a file closed properly even when the render failed */
            if (trailer < 0 && ret == 0)
                ret = render_fail(r, trailer, "%s: trailer", f->name);
        }
        if (s->fc->pb)
            avio_closep(&s->fc->pb);
        avformat_free_context(s->fc);
        s->fc = NULL;
    }
    s->st = NULL;
    s->header_written = false;
    return ret;
}

static int close_stream(render *r, out_file *f, out_stream *s, bool flush)
{
    int ret = close_container(r, f, s, flush);
    avcodec_free_context(&s->enc);
    return ret;
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

/* The filtered frame r->filt, stamped with its place, into s's encoder. */
static int write_frame(render *r, out_file *f, out_stream *s, bool video)
{
    bool spooled = f->crf != NULL; /* an MP4's part */
    int64_t lead = spooled ? SPOOL_LEAD_S * (video ? FPS : SAMPLE_RATE) : 0;
    r->filt->pts = s->next_pts + lead;
    if (video)
        r->filt->pict_type = AV_PICTURE_TYPE_NONE;
    s->next_pts += video ? 1 : r->filt->nb_samples;
    return encode(r, f, s, r->filt);
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
        ret = write_frame(r, f, s, video);
        av_frame_unref(r->filt);
        if (ret < 0 || (f == &r->final && video && report_frames(r) < 0))
            return -1;
        pulled++;
    }
    return pulled;
}

static int64_t drain_file(render *r, out_file *f)
{
    int64_t v = f->video.enc ? drain_stream(r, f, &f->video, true) : 0;
    int64_t a = v >= 0 && f->audio.enc ? drain_stream(r, f, &f->audio, false) : 0;
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
    return (!f->video.enc || f->video.eof) && (!f->audio.enc || f->audio.eof);
}

bool render_outputs_done(const render *r)
{
    bool done = file_done(&r->final);
    for (int i = 0; i < r->n; i++)
        done = done && file_done(&r->tracks[i].wav) && file_done(&r->tracks[i].mp4);
    return done;
}

/* ---- finishing ------------------------------------------------------------------------------ */

static void remove_spool(render *r, const out_file *f)
{
    char path[4500];
    for (int k = -1; f->crf && k <= f->segments; k++) {
        render_spool_path(r, f, k, path, sizeof path);
        remove(path);
    }
}

static int finish_file(render *r, out_file *f)
{
    if (!f->audio.fc)
        return 0;
    bool mp4 = f->video.fc != NULL;
    if (close_stream(r, f, &f->video, true) < 0 || close_stream(r, f, &f->audio, true) < 0)
        return -1;
    if (!mp4)
        return 0;
    f->segments++;
    int ret = render_join(r, f);
    remove_spool(r, f);
    return ret;
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

static void close_file(render *r, out_file *f)
{
    close_stream(r, f, &f->video, false);
    close_stream(r, f, &f->audio, false);
    remove_spool(r, f);
    memset(f, 0, sizeof *f);
}

void render_outputs_close(render *r)
{
    close_file(r, &r->final);
    for (int i = 0; r->tracks && i < r->n; i++) {
        close_file(r, &r->tracks[i].wav);
        close_file(r, &r->tracks[i].mp4);
    }
}
