/* An MP4 from its spooled parts (render_output.c), without re-encoding: the video segments
 * one after the other and the audio, interleaved by time, their timestamps moved back by
 * SPOOL_LEAD_S, into <out_dir>/<name> with the index at the front (faststart).
 *
 * The segments come from encoders of their own, so they must agree: each one has the first
 * one's parameters (size, SPS and PPS) and starts with a keyframe; the join fails otherwise
 * rather than write a file a player cannot decode. */
#include <stdio.h>
#include <string.h>

#include "render_internal.h"

typedef struct {
    const out_stream *from; /* what wrote it */
    AVFormatContext *ic;
    AVStream *out;
    int64_t lead; /* SPOOL_LEAD_S in the input's time base */
    AVPacket *pkt; /* the next packet to write; NULL once the input has ended */
} join_input;

typedef struct {
    render *r;
    const out_file *f;
    AVFormatContext *oc;
    join_input video, audio;
    int segment;          /* the video segment being read */
    bool segment_started; /* its first packet has been read */
    bool header_written;
} join;

static int open_part(join *j, join_input *in, int segment)
{
    char path[4500];
    render_spool_path(j->r, j->f, segment, path, sizeof path);
    int ret = avformat_open_input(&in->ic, path, av_find_input_format("nut"), NULL);
    if (ret < 0)
        return render_fail(j->r, ret, "%s: joining: %s", j->f->name, path);
    if (in->ic->nb_streams != 1)
        return render_fail(j->r, 0, "%s: joining: %s has %u streams", j->f->name, path, in->ic->nb_streams);
    in->lead = av_rescale_q(SPOOL_LEAD_S * AV_TIME_BASE, AV_TIME_BASE_Q, in->ic->streams[0]->time_base);
    return 0;
}

static bool same_parameters(const AVCodecParameters *a, const AVCodecParameters *b)
{
    return a->codec_id == b->codec_id && a->width == b->width && a->height == b->height &&
           a->extradata_size == b->extradata_size &&
           (a->extradata_size == 0 || memcmp(a->extradata, b->extradata, (size_t)a->extradata_size) == 0);
}

static int open_segment(join *j)
{
    if (open_part(j, &j->video, j->segment) < 0)
        return -1;
    j->segment_started = false;
    if (j->video.out && !same_parameters(j->video.ic->streams[0]->codecpar, j->video.out->codecpar))
        return render_fail(j->r, 0, "%s: joining: segment %d was encoded otherwise", j->f->name, j->segment);
    return 0;
}

/* The video's next packet: on into the next segment when one ends. 0, AVERROR_EOF after the
 * last segment, or -1. */
static int read_video(join *j)
{
    int ret = av_read_frame(j->video.ic, j->video.pkt);
    while (ret == AVERROR_EOF && j->segment + 1 < j->f->segments) {
        avformat_close_input(&j->video.ic);
        j->segment++;
        if (open_segment(j) < 0)
            return -1;
        ret = av_read_frame(j->video.ic, j->video.pkt);
    }
    if (ret == AVERROR_EOF)
        return ret;
    if (ret < 0)
        return render_fail(j->r, ret, "%s: joining segment %d", j->f->name, j->segment);
    if (!j->segment_started && !(j->video.pkt->flags & AV_PKT_FLAG_KEY))
        return render_fail(j->r, 0, "%s: joining: segment %d does not start with a keyframe", j->f->name, j->segment);
    j->segment_started = true;
    return 0;
}

static int read_audio(join *j)
{
    int ret = av_read_frame(j->audio.ic, j->audio.pkt);
    if (ret < 0 && ret != AVERROR_EOF)
        return render_fail(j->r, ret, "%s: joining the audio", j->f->name);
    return ret;
}

/* NUT keeps no packet durations: a frame's (video), or the encoder's frame size, and the
 * last one's up to the end of what was encoded (audio). */
static void set_duration(join_input *in)
{
    AVPacket *p = in->pkt;
    const AVCodecParameters *par = in->ic->streams[0]->codecpar;
    AVRational tb = in->ic->streams[0]->time_base;
    if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
        p->duration = av_rescale_q(1, (AVRational){ 1, FPS }, tb);
        return;
    }
    int64_t end = av_rescale_q(in->from->next_pts, (AVRational){ 1, SAMPLE_RATE }, tb);
    p->duration = av_rescale_q(in->from->frame_size, (AVRational){ 1, SAMPLE_RATE }, tb);
    if (p->pts != AV_NOPTS_VALUE && p->pts + p->duration > end && p->pts < end)
        p->duration = end - p->pts;
}

/* in's next packet into in->pkt, on the output's timeline; in->pkt is freed at the end. */
static int advance(join *j, join_input *in)
{
    int ret = in == &j->video ? read_video(j) : read_audio(j);
    if (ret == AVERROR_EOF) {
        av_packet_free(&in->pkt);
        return 0;
    }
    if (ret < 0)
        return -1;
    if (in->pkt->pts != AV_NOPTS_VALUE)
        in->pkt->pts -= in->lead;
    if (in->pkt->dts != AV_NOPTS_VALUE)
        in->pkt->dts -= in->lead;
    set_duration(in);
    in->pkt->stream_index = in->out->index;
    av_packet_rescale_ts(in->pkt, in->ic->streams[0]->time_base, in->out->time_base);
    return 0;
}

static int add_output_stream(join *j, join_input *in)
{
    const AVStream *from = in->ic->streams[0];
    if (!(in->out = avformat_new_stream(j->oc, NULL)))
        return render_fail(j->r, AVERROR(ENOMEM), "%s", j->f->name);
    int ret = avcodec_parameters_copy(in->out->codecpar, from->codecpar);
    if (ret < 0)
        return render_fail(j->r, ret, "%s", j->f->name);
    in->out->codecpar->codec_tag = 0;
    in->out->codecpar->initial_padding = in->from->initial_padding;
    in->out->time_base = from->time_base;
    if (from->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
        in->out->time_base = (AVRational){ 1, FPS };
        in->out->avg_frame_rate = (AVRational){ FPS, 1 };
    }
    return 0;
}

static int open_output(join *j)
{
    char path[4500];
    snprintf(path, sizeof path, "%s/%s", j->r->req->out_dir, j->f->name);
    int ret = avformat_alloc_output_context2(&j->oc, NULL, "mp4", path);
    if (ret < 0)
        return render_fail(j->r, ret, "%s", path);
    if ((ret = avio_open(&j->oc->pb, path, AVIO_FLAG_WRITE)) < 0)
        return render_fail(j->r, ret, "%s", path);
    if (add_output_stream(j, &j->video) < 0 || add_output_stream(j, &j->audio) < 0)
        return -1;
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "movflags", "+faststart", 0);
    ret = avformat_write_header(j->oc, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return render_fail(j->r, ret, "%s: header", j->f->name);
    j->header_written = true;
    return 0;
}

/* Every packet, the earlier of the two inputs' first, then the index. */
static int write_all(join *j)
{
    while (j->video.pkt || j->audio.pkt) {
        join_input *in = !j->audio.pkt ? &j->video : !j->video.pkt ? &j->audio
                       : av_compare_ts(j->video.pkt->dts, j->video.out->time_base, j->audio.pkt->dts,
                                       j->audio.out->time_base) <= 0 ? &j->video : &j->audio;
        int ret = av_interleaved_write_frame(j->oc, in->pkt);
        if (ret < 0)
            return render_fail(j->r, ret, "%s: writing", j->f->name);
        if (advance(j, in) < 0)
            return -1;
    }
    j->header_written = false;
    int ret = av_write_trailer(j->oc);
    return ret < 0 ? render_fail(j->r, ret, "%s: trailer", j->f->name) : 0;
}

int render_join(render *r, const out_file *f)
{
    join j = { .r = r, .f = f, .video.from = &f->video, .audio.from = &f->audio };
    int ret = -1;
    j.video.pkt = av_packet_alloc();
    j.audio.pkt = av_packet_alloc();
    if (!j.video.pkt || !j.audio.pkt)
        render_fail(r, AVERROR(ENOMEM), "%s: joining", f->name);
    else if (open_segment(&j) == 0 && open_part(&j, &j.audio, -1) == 0 && open_output(&j) == 0 &&
             advance(&j, &j.video) == 0 && advance(&j, &j.audio) == 0 && write_all(&j) == 0)
        ret = 0;
    if (j.oc) {
        if (j.header_written)
            av_write_trailer(j.oc);
        avio_closep(&j.oc->pb);
        avformat_free_context(j.oc);
    }
    avformat_close_input(&j.video.ic);
    avformat_close_input(&j.audio.ic);
    av_packet_free(&j.video.pkt);
    av_packet_free(&j.audio.pkt);
    return ret;
}
