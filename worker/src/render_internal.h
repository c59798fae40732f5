/* The renderer's parts (render_take.c, render_input.c, render_graph.c, render_output.c,
 * render_analysis.c) share these; nothing outside the renderer includes this file.
 *
 * A render is two passes over the same tracks:
 *   1. analysis: the audio alone, placed on the timeline and mixed as the render will:
 *      the mix's integrated loudness and true peak, and each participant's level every
 *      SPEAKER_WINDOW_MS (who speaks when);
 *   2. render: video and audio through one filter graph into final.mp4 and the
 *      per-participant files, with the gain pass 1 measured and the layout following the
 *      speaker pass 1 found. */
#ifndef ZC_RENDER_INTERNAL_H
#define ZC_RENDER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>

#include "layout.h"
#include "mp4_resync.h"
#include "render_take.h"
#include "speaker_timeline.h"

#define FPS 30
#define SAMPLE_RATE 48000
#define TARGET_LUFS (-16.0)
#define TARGET_TRUE_PEAK_DB (-1.0)
#define SEGMENT_FRAMES (10 * FPS)  /* an MP4's video is encoded in segments this long */
#define SPOOL_LEAD_S 1             /* the spooled parts' timestamps run this far ahead */

typedef enum { PASS_ANALYSIS, PASS_RENDER } render_pass;

/* An encoder writing one stream into a container of its own: a .wav, or one of the parts of
 * an MP4 spooled until the join (render_output.c). */
typedef struct {
    AVFormatContext *fc;
    AVCodecContext *enc;
    AVStream *st;
    AVFilterContext *sink;
    int64_t next_pts; /* frames (video) or samples (audio) written: the sinks are contiguous */
    int initial_padding; /* the audio encoder's priming samples */
    int frame_size;      /* and its samples per packet */
    bool header_written;
    bool eof;
} out_stream;

/* An output file: final.mp4 (video in segments and the audio, joined at the end), or a
 * participant's .mp4 or .wav. */
typedef struct {
    char name[64];     /* its file name in out_dir, also for messages: "final.mp4" */
    out_stream video, audio;
    const char *crf;   /* its video's quality */
    int segments;      /* video segments finished */
} out_file;

/* A participant's recordings, one per MediaRecorder (render_runs.c): chunks
 * [first[k], first[k + 1]) are run k; first[count] is the chunk count. */
typedef struct {
    int *first;
    int count;
} track_runs;

typedef struct {
    const render_track *src;
    const track_runs *runs;
    int run;                       /* the run being read; cs, ic, the decoders, t0 and offset are its */
    int index;
    chunk_stream *cs;
    mp4_resync *resync;            /* a fragmented MP4's repaired stream over cs; else NULL */
    AVFormatContext *ic;
    int vidx, aidx;                /* stream indexes, -1 when absent */
    AVCodecContext *vdec, *adec;
    AVFilterContext *vsrc, *asrc;  /* buffer / abuffer; NULL when absent */
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
    int64_t missing_before;        /* chunks missing in the runs already closed */
    int audio_rate, audio_fmt, audio_channels; /* the decoded audio abuffer was declared for */
    char card_text[4200];          /* a file holding the name its card shows; "" for none */
    /* its clock against the server's (render_clock.c) */
    int64_t *chunk_media_us;       /* pass 1: each chunk's first media time; INT64_MIN unknown */
    int last_chunk_seen;
    double clock_ratio;            /* server time per media time: 1.0, or the drift corrected */
    int declared_rate;             /* its audio's rate as told to abuffer: rate / clock_ratio */

    /* pass 1: this track's level, one value per SPEAKER_WINDOW_MS (dBFS) */
    AVFilterContext *level_sink;
    float *levels;
    double window_energy;          /* sum of squares in the window being measured */
    int64_t window_samples;
    int64_t level_samples;         /* samples measured in all */
    bool level_eof;

    /* pass 2: its own files */
    out_file wav;                  /* <participantId>.wav */
    out_file mp4;                  /* <participantId>.mp4 */
} track;

typedef struct {
    const render_request *req;
    render_progress_fn progress;
    void *ctx;
    char *err;
    size_t err_size;
    render_pass pass;

    track *tracks;
    int n;
    int width, height;             /* of final.mp4 */
    int64_t duration_ms;
    int64_t total_frames;
    int window_count;              /* SPEAKER_WINDOW_MS windows in the take */

    double *clock_ratios;          /* per track, from pass 1 */
    track_runs *runs;              /* per track, found once before pass 1 */
    layout *layout;
    speaker_segment *speakers;     /* from pass 1; NULL when the layout does not follow them */
    int speaker_count;

    /* pass 1's measure of the mix */
    AVFilterContext *measure_sink;
    bool measure_eof;
    double mix_lufs;               /* integrated; -70 or lower: silence */
    double mix_true_peak_db;
    double gain_db;                /* what pass 2 applies to the mix */

    AVFilterGraph *graph;
    out_file final;

    AVPacket *pkt;
    AVFrame *frame;   /* decoded */
    AVFrame *filt;    /* filtered */
    AVPacket *opkt;   /* encoded */

    int64_t next_progress_frame;
    bool cancelled;
} render;

/* render_take.c */
int render_fail(render *r, int averr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool render_report(render *r, int percent, const char *stage); /* false: cancelled (err set) */

/* render_input.c: the tracks, decoded and fed onto the timeline */
void render_open_track(render *r, track *t, const render_track *src);
void render_close_track(track *t);
int64_t render_track_end_ms(const render *r, const track *t);
/* Feeds every track into the graph in timeline order, draining the sinks as it goes, then
 * runs the graph out until every sink has ended. */
int render_feed_all(render *r);

/* render_runs.c: a participant's recordings when its browser reloaded */
int render_runs_split(render *r);
void render_runs_free(render *r);
void render_runs_open_first(render *r, track *t);
bool render_runs_next(render *r, track *t);
void render_run_close(track *t);

/* render_clock.c: a participant's clock drifting against the server's */
int render_clock_track_init(render *r, track *t);
void render_clock_note(track *t, const AVPacket *pkt);
double render_clock_ratio(const render *r, const track *t);

/* render_graph.c */
int render_graph_build(render *r);   /* for r->pass */
void render_graph_free(render *r);

/* render_analysis.c: pass 1's sinks */
int64_t render_analysis_drain(render *r); /* frames pulled, or -1 */
bool render_analysis_done(const render *r);
int render_analysis_finish(render *r); /* the mix's loudness, the gain, the speakers */

/* render_output.c: pass 2's files and sinks */
int render_outputs_open(render *r);
int64_t render_outputs_drain(render *r); /* frames pulled, or -1 */
bool render_outputs_done(const render *r);
int render_outputs_finish(render *r);
void render_outputs_close(render *r);
void render_spool_path(const render *r, const out_file *f, int segment, char *path, size_t size); /* -1: audio */

/* render_join.c: an MP4's spooled video segments and audio into the file, not re-encoded */
int render_join(render *r, const out_file *f);

#endif
