/* render_take: participants' chunked recordings in; one synced final.mp4 and, per
 * participant, a video file and a WAV out, checked with the ffmpeg CLI (skipped, exit 77,
 * without it).
 *
 * A is solid red (live WebM, VP8, as Chrome records) and B solid blue (WebM, VP9), each
 * 6 s with Opus audio, with a 1 kHz beep only
 * during [2.0, 2.1) s of its own media. B starts 1 s after the take start, so in final.mp4
 * A's beep is at 2.0 s and B's at 3.0 s; A is the left tile, B the right one. The others
 * (below) each serve a test of their own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libavutil/avutil.h>

#include "log.h"
#include "render_take.h"
#include "storage/storage.h"
#include "storage/storage_local.h"

#define CHUNKS 4
#define TAKE_START_MS 1700000000000LL
#define TAKE_MS 6000
#define W 640
#define H 360

static char dir[] = "/tmp/zencast-render-take-XXXXXX";
static char objects[sizeof dir + 16];
static uv_loop_t loop;
static storage *store;

typedef struct {
    const char *id;
    const char *color;
    const char *video; /* a lavfi source; NULL: the colour for its length */
    const char *audio; /* a lavfi source */
    const char *codecs; /* ffmpeg options */
    const char *format; /* ffmpeg options for the audio and the container; NULL: Opus in WebM */
    const char *ext;    /* NULL: webm */
    int64_t offset_ms;
    int seconds;              /* 0: 6 */
    const double *cut_at;     /* where chunks 1.. start, as fractions of the file; NULL: random */
    char keys[CHUNKS][STORAGE_KEY_MAX];
    char paths[CHUNKS][1024];
    chunk_ref refs[CHUNKS];
} participant;

#define BEEP "if(between(t\\,2\\,2.1)\\,0.5*sin(2*PI*1000*t)\\,0)"
/* As Chrome's MediaRecorder writes it: VP8, live WebM (no duration, no cues). */
#define LIVE_VP8 "-c:v libvpx -deadline realtime -cpu-used 8 -b:v 300k -live 1"
static participant A = {
    .id = "alice", .color = "red", .audio = "aevalsrc=" BEEP "|" BEEP ":s=48000:d=6", .codecs = LIVE_VP8
};
static participant B = { .id = "bob",
                         .color = "blue",
                         .audio = "aevalsrc=" BEEP "|" BEEP ":s=48000:d=6",
                         .codecs = "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k",
                         .offset_ms = 1000 };
/* Continuous (mono) noise, quiet: what loudnorm is made for. */
static participant C = {
    .id = "carol", .color = "green", .audio = "anoisesrc=a=0.02:c=pink:r=48000:d=6", .codecs = LIVE_VP8
};

/* Two talkers taking turns: D (red) speaks in [0.3, 2.8) s, E (blue) in [3.3, 6.0) s. */
#define TALK(from, to) "if(between(t\\," #from "\\," #to ")\\,0.3*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*3*t))\\,0)"
static participant D = { .id = "dora", .color = "red", .audio = "aevalsrc=" TALK(0.3, 2.8) ":s=48000:d=6",
                         .codecs = LIVE_VP8 };
static participant E = { .id = "emil", .color = "blue", .audio = "aevalsrc=" TALK(3.3, 6.0) ":s=48000:d=6",
                         .codecs = LIVE_VP8 };

/* F's sound card runs slow: 1 s of its media lasts DRIFT s more on the server's clock. Its
 * beeps are at 5 s and 25 s of its media, so at 5.015 s and 25.075 s of the take. */
#define DRIFT 0.003
#define FBEEP "if(between(t\\,5\\,5.1)+between(t\\,25\\,25.1)\\,0.5*sin(2*PI*1000*t)\\,0)"
static const double F_CUTS[CHUNKS - 1] = { 0.01, 0.4, 0.8 };
static participant F = { .id = "fred", .color = "yellow", .audio = "aevalsrc=" FBEEP ":s=48000:d=30",
                         .codecs = LIVE_VP8, .seconds = 30, .cut_at = F_CUTS };

/* What other browsers record: Chrome's Matroska (H.264 + Opus), AV1 in WebM, Safari's
 * fragmented MP4 (H.264 + AAC). Each beeps at 2 s of its media. */
#define H264 "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -b:v 300k"
static participant MKV = { .id = "mona", .color = "red", .audio = "aevalsrc=" BEEP "|" BEEP ":s=48000:d=6",
                           .codecs = H264, .format = "-c:a libopus -b:a 64k -f matroska", .ext = "mkv" };
static participant AV1 = { .id = "alva", .color = "blue", .audio = "aevalsrc=" BEEP "|" BEEP ":s=48000:d=6",
                           .codecs = "-c:v libsvtav1 -preset 12 -b:v 300k", .offset_ms = 500 };
static participant MP4 = { .id = "saffi", .color = "green", .audio = "aevalsrc=" BEEP "|" BEEP ":s=48000:d=6",
                           .codecs = H264,
                           .format = "-c:a aac -b:a 96k -movflags frag_keyframe+empty_moov+default_base_moof -f mp4",
                           .ext = "mp4", .offset_ms = 1000 };

/* Beeps at 1 s and 5.7 s of its media, chunk 2 (about 1.5 s to 5 s) between them. After a
 * gap the demuxer resyncs on the next cluster, so what is lost is the gap and the rest of
 * the cluster it cut into (here up to 5.5 s). */
#define JBEEP "if(between(t\\,1\\,1.1)+between(t\\,5.7\\,5.8)\\,0.5*sin(2*PI*1000*t)\\,0)"
static const double J_CUTS[CHUNKS - 1] = { 0.01, 0.35, 0.65 };
static participant J = { .id = "jude", .color = "yellow", .audio = "aevalsrc=" JBEEP ":s=48000:d=6",
                         .codecs = LIVE_VP8 " -g 15", .format = "-c:a libopus -b:a 64k -f webm -cluster_time_limit 500", .cut_at = J_CUTS,
                         .offset_ms = 300 };

/* As Safari's MediaRecorder writes it: fragmented MP4 (a fragment a second), H.264 + AAC.
 * S is cyan up to 4 s of its media and magenta after, with beeps at 1 s and 5 s. Its chunk
 * 2, [0.45, 0.62) of the file, holds about 1.9 to 3.7 s: the colour's change and both beeps
 * are outside it. */
#define SBEEP "if(between(t\\,1\\,1.1)+between(t\\,5\\,5.1)\\,0.5*sin(2*PI*1000*t)\\,0)"
static const double S_CUTS[CHUNKS - 1] = { 0.01, 0.45, 0.62 };
static participant S = { .id = "sara",
                         .color = "cyan",
                         .video = "color=c=cyan:size=320x240:rate=30:duration=6,"
                                  "drawbox=c=magenta:t=fill:enable=gte(t\\,4)",
                         .audio = "aevalsrc=" SBEEP "|" SBEEP ":s=48000:d=6",
                         .codecs = "-c:v libx264 -preset ultrafast -b:v 300k -pix_fmt yuv420p",
                         .format = "-c:a aac -b:a 64k -movflags frag_keyframe+empty_moov+default_base_moof -f mp4",
                         .ext = "mp4",
                         .cut_at = S_CUTS };

/* A participant whose browser reloaded: run 0 is R0's 6 s recording (red), then a new
 * MediaRecorder's file, R1 (WebM, blue, of another size) or R1MP4 (fragmented MP4, green),
 * 4 s. Each beeps at 1 s of its own media. */
#define RBEEP "if(between(t\\,1\\,1.1)\\,0.5*sin(2*PI*1000*t)\\,0)"
static const double R_CUTS[CHUNKS - 1] = { 0.01, 0.4, 0.7 };
static participant R0 = { .id = "rita", .color = "red", .audio = "aevalsrc=" RBEEP "|" RBEEP ":s=48000:d=6",
                          .codecs = LIVE_VP8, .cut_at = R_CUTS };
static participant R1 = { .id = "rita-reload", .color = "blue",
                          .video = "color=c=blue:size=480x270:rate=30:duration=4",
                          .audio = "aevalsrc=" RBEEP "|" RBEEP ":s=48000:d=4", .codecs = LIVE_VP8,
                          .cut_at = R_CUTS };
static participant R1MP4 = { .id = "rita-safari", .color = "green",
                             .video = "color=c=green:size=320x240:rate=30:duration=4",
                             .audio = "aevalsrc=" RBEEP "|" RBEEP ":s=48000:d=4", .codecs = H264,
                             .format = "-c:a aac -b:a 96k -movflags frag_keyframe+empty_moov+default_base_moof -f mp4",
                             .ext = "mp4", .cut_at = R_CUTS };

/* Quiet noise and full-scale clicks: the gain that brings the noise to -16 LUFS would push
 * the clicks some 30 dB over full scale, unless the limiter holds them. */
#define CLICKS "0.9*sin(2*PI*3000*t)*lt(mod(t\\,0.5)\\,0.005)"
static participant K = { .id = "kiki", .color = "white",
                         .audio = "aevalsrc=" CLICKS "|" CLICKS ":s=48000:d=6[c];"
                                  "anoisesrc=a=0.004:c=pink:r=48000:d=6:seed=42,pan=stereo|c0=c0|c1=c0[n];"
                                  "[c][n]amix=inputs=2:normalize=0",
                         .codecs = LIVE_VP8 };

/* ---- helpers ----------------------------------------------------------------------------- */

static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static bool ffmpeg_has_encoder(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ffmpeg -hide_banner -encoders 2>/dev/null | grep -qw %s", name);
    return system(cmd) == 0;
}

/* Runs cmd, its output (stdout; add 2>&1 for stderr) into out. The exit status, -1 on failure. */
static int run(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t got = 0;
    if (out && size) {
        size_t n;
        while (got + 1 < size && (n = fread(out + got, 1, size - 1 - got, p)) > 0)
            got += n;
        out[got] = '\0';
    }
    char sink[4096];
    while (fread(sink, 1, sizeof sink, p) > 0) {
    }
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *ext_of(const participant *p)
{
    return p->ext ? p->ext : "webm";
}

/* Makes p's recording and cuts it at pseudo-random bytes into CHUNKS chunks. */
static int make_participant(participant *p, uint64_t seed)
{
    char src[512], video[256], cmd[2048];
    snprintf(src, sizeof src, "%s/%s.%s", dir, p->id, ext_of(p));
    snprintf(video, sizeof video, "color=c=%s:size=320x240:rate=30:duration=%d", p->color,
             p->seconds ? p->seconds : 6);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -hide_banner -loglevel error -y "
             "-f lavfi -i \"%s\" "
             "-f lavfi -i \"%s\" "
             "-g 30 %s %s %s",
             p->video ? p->video : video, p->audio, p->codecs,
             p->format ? p->format : "-c:a libopus -b:a 64k -f webm", src);
    if (system(cmd) != 0) {
        fprintf(stderr, "failed: %s\n", cmd);
        return -1;
    }
    FILE *f = fopen(src, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = size > 4096 ? malloc((size_t)size) : NULL;
    if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size) {
        free(bytes);
        fclose(f);
        return -1;
    }
    fclose(f);

    int64_t cuts[CHUNKS + 1] = { 0 };
    cuts[1] = 100 + (int64_t)(next_random(&seed) % 1000); /* a small header chunk */
    for (int i = 2; i < CHUNKS; i++)                    /* then arbitrary, increasing */
        cuts[i] = cuts[i - 1] + 1 + (int64_t)(next_random(&seed) % (uint64_t)((size - cuts[i - 1]) / 2));
    for (int i = 1; p->cut_at && i < CHUNKS; i++)
        cuts[i] = (int64_t)(p->cut_at[i - 1] * (double)size);
    cuts[CHUNKS] = size;
    for (int i = 0; i < CHUNKS; i++) {
        snprintf(p->keys[i], sizeof p->keys[i], "recordings/room/%s/take/%d.%s", p->id, i, ext_of(p));
        snprintf(p->paths[i], sizeof p->paths[i], "%s/%s", objects, p->keys[i]);
        if (storage_local_make_parents(p->paths[i]) != 0 || !(f = fopen(p->paths[i], "wb"))) {
            free(bytes);
            return -1;
        }
        fwrite(bytes + cuts[i], 1, (size_t)(cuts[i + 1] - cuts[i]), f);
        fclose(f);
        p->refs[i].key = p->keys[i];
        p->refs[i].size = cuts[i + 1] - cuts[i];
    }
    free(bytes);
    return 0;
}

/* p's track, with its media starting offset_ms after the take start. p NULL: a participant
 * with no chunks at all. */
static render_track track_of(const participant *p, int64_t offset_ms, int64_t starts[CHUNKS])
{
    render_track t = { .chunks = NULL, .chunk_start_ms = NULL, .chunk_count = 0 };
    snprintf(t.participant_id, sizeof t.participant_id, "%s", p ? p->id : "nobody");
    snprintf(t.name, sizeof t.name, "%s", t.participant_id);
    if (p) {
        for (int i = 0; i < CHUNKS; i++)
            starts[i] = TAKE_START_MS + offset_ms + i * 1500; /* only chunk 0's places the track */
        t.chunks = p->refs;
        t.chunk_start_ms = starts;
        t.chunk_count = CHUNKS;
    }
    return t;
}

typedef struct {
    int calls;
    int last_percent;
    int cancel_after; /* 0: never */
    bool decreasing;
} progress_log;

static bool on_progress(int percent, const char *stage, void *ctx)
{
    progress_log *l = ctx;
    assert_non_null(stage);
    assert_true(percent >= 0 && percent <= 100);
    if (percent < l->last_percent)
        l->decreasing = true;
    l->last_percent = percent;
    l->calls++;
    return !(l->cancel_after && l->calls >= l->cancel_after);
}

/* offsets NULL: each participant's own. stop_ms <= 0: the take has no known stop. */
static int render_with(const char *out, const char *layout, participant *const *who, const int64_t *offsets,
                       int count, int64_t stop_ms, progress_log *log, char *err, size_t err_size)
{
    render_track tracks[4];
    int64_t starts[4][CHUNKS];
    assert_true(count <= 4);
    for (int i = 0; i < count; i++)
        tracks[i] = track_of(who[i], offsets ? offsets[i] : who[i] ? who[i]->offset_ms : 0, starts[i]);
    render_request req = {
        .storage = store,
        .tracks = tracks,
        .track_count = count,
        .take_start_ms = TAKE_START_MS,
        .take_stop_ms = stop_ms > 0 ? TAKE_START_MS + stop_ms : TAKE_START_MS,
        .layout = layout,
        .width = W,
        .height = H,
        .out_dir = out,
    };
    mkdir(out, 0755);
    return render_take(&req, on_progress, log, err, err_size);
}

static int render_into(const char *out, participant *const *who, int count, progress_log *log, char *err,
                       size_t err_size)
{
    return render_with(out, "grid", who, NULL, count, TAKE_MS, log, err, err_size);
}

static double probe_number(const char *file, const char *select, const char *entry)
{
    char cmd[1024], out[256];
    snprintf(cmd, sizeof cmd, "ffprobe -v error %s -show_entries %s -of default=nw=1:nk=1 '%s'", select, entry, file);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    return strtod(out, NULL);
}

static void probe_string(const char *file, const char *select, const char *entry, char *out, size_t size)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ffprobe -v error %s -show_entries %s -of default=nw=1:nk=1 '%s'", select, entry, file);
    assert_int_equal(run(cmd, out, size), 0);
    out[strcspn(out, "\r\n")] = '\0';
}

static void assert_decodes_cleanly(const char *file)
{
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -xerror -i '%s' -f null - 2>&1", file);
    int status = run(cmd, out, sizeof out);
    if (status != 0 || out[0])
        print_message("-xerror: status %d: %s\n", status, out);
    assert_int_equal(status, 0);
    assert_string_equal(out, "");
}

/* faststart: the index (moov) comes before the media (mdat), so a player starts at once. */
static void assert_faststart(const char *file)
{
    FILE *f = fopen(file, "rb");
    assert_non_null(f);
    static uint8_t head[64 * 1024];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    const uint8_t *moov = memmem(head, n, "moov", 4), *mdat = memmem(head, n, "mdat", 4);
    assert_non_null(moov);
    assert_true(!mdat || moov < mdat);
}

static void assert_format(const char *file)
{
    char s[256];
    probe_string(file, "-select_streams v:0", "stream=codec_name", s, sizeof s);
    assert_string_equal(s, "h264");
    assert_int_equal((int)probe_number(file, "-select_streams v:0", "stream=width"), W);
    assert_int_equal((int)probe_number(file, "-select_streams v:0", "stream=height"), H);
    probe_string(file, "-select_streams v:0", "stream=r_frame_rate", s, sizeof s);
    assert_string_equal(s, "30/1");
    probe_string(file, "-select_streams v:0", "stream=pix_fmt", s, sizeof s);
    assert_string_equal(s, "yuv420p");
    probe_string(file, "-select_streams a:0", "stream=codec_name", s, sizeof s);
    assert_string_equal(s, "aac");
    assert_int_equal((int)probe_number(file, "-select_streams a:0", "stream=sample_rate"), 48000);
    assert_int_equal((int)probe_number(file, "-select_streams a:0", "stream=channels"), 2);
    double d = probe_number(file, "", "format=duration");
    print_message("final.mp4: %.3f s\n", d);
    assert_true(fabs(d - TAKE_MS / 1000.0) <= 0.034);
    assert_faststart(file);
}

static void assert_wav(const char *out, const char *id)
{
    char file[1024];
    snprintf(file, sizeof file, "%s/%s.wav", out, id);
    assert_int_equal(access(file, R_OK), 0);
    char s[64];
    probe_string(file, "-select_streams a:0", "stream=codec_name", s, sizeof s);
    assert_string_equal(s, "pcm_s16le");
    assert_int_equal((int)probe_number(file, "-select_streams a:0", "stream=sample_rate"), 48000);
    assert_int_equal((int)probe_number(file, "-select_streams a:0", "stream=channels"), 2);
    double d = probe_number(file, "", "format=duration");
    assert_true(fabs(d - TAKE_MS / 1000.0) <= 0.005);
}

static void grab_frame(const char *file, double t, uint8_t rgb[W * H * 3]);
static const uint8_t *pixel(const uint8_t *rgb, int x, int y);

/* id's own video: the take's length, H.264 + AAC, and is(colour) in its middle at t s. */
static void assert_own_video(const char *out, const char *id, double t, bool (*is)(const uint8_t *))
{
    char file[1024], s[64];
    snprintf(file, sizeof file, "%s/%s.mp4", out, id);
    probe_string(file, "-select_streams v:0", "stream=codec_name", s, sizeof s);
    assert_string_equal(s, "h264");
    probe_string(file, "-select_streams a:0", "stream=codec_name", s, sizeof s);
    assert_string_equal(s, "aac");
    assert_true(fabs(probe_number(file, "", "format=duration") - TAKE_MS / 1000.0) <= 0.034);
    assert_decodes_cleanly(file);
    /* its picture is at most the render's size: the middle of a 320x240 one is in W x H */
    int pw = (int)probe_number(file, "-select_streams v:0", "stream=width");
    int ph = (int)probe_number(file, "-select_streams v:0", "stream=height");
    assert_true(pw <= W && ph <= H);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -ss %.3f -i '%s' -frames:v 1 -vf 'scale=%d:%d' -f rawvideo -pix_fmt rgb24 -", t,
             file, W, H);
    static uint8_t rgb[W * H * 3 + 1];
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(rgb, 1, sizeof rgb, p);
    assert_int_equal(pclose(p), 0);
    assert_int_equal(got, (size_t)W * H * 3);
    assert_true(is(pixel(rgb, W / 2, H / 2)));
}

/* The frame at t s of file, RGB. */
static void grab_frame(const char *file, double t, uint8_t rgb[W * H * 3])
{
    char cmd[2048];
    static uint8_t buf[W * H * 3 + 1];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -ss %.3f -i '%s' -frames:v 1 -f rawvideo -pix_fmt rgb24 -", t,
             file);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(buf, 1, sizeof buf, p);
    assert_int_equal(pclose(p), 0);
    assert_int_equal(got, (size_t)W * H * 3);
    memcpy(rgb, buf, (size_t)W * H * 3);
}

static const uint8_t *pixel(const uint8_t *rgb, int x, int y)
{
    const uint8_t *px = rgb + ((size_t)y * W + (size_t)x) * 3;
    print_message("(%d,%d): %d,%d,%d\n", x, y, px[0], px[1], px[2]);
    return px;
}

static bool IS_RED(const uint8_t *px) { return px[0] > 180 && px[1] < 70 && px[2] < 70; }
static bool IS_GREEN(const uint8_t *px) { return px[1] > 90 && px[0] < 60 && px[2] < 60; } /* green is 0,128,0 */
static bool IS_BLUE(const uint8_t *px) { return px[2] > 180 && px[0] < 70 && px[1] < 70; }
static bool IS_CYAN(const uint8_t *px) { return px[0] < 70 && px[1] > 180 && px[2] > 180; }
static bool IS_MAGENTA(const uint8_t *px) { return px[0] > 180 && px[1] < 70 && px[2] > 180; }
static bool IS_BLACK(const uint8_t *px) { return px[0] < 30 && px[1] < 30 && px[2] < 30; }
static bool IS_CARD(const uint8_t *px) /* 0x2b2d42 */
{
    return abs(px[0] - 0x2b) < 20 && abs(px[1] - 0x2d) < 20 && abs(px[2] - 0x42) < 20;
}

/* The beep onsets in file's audio (silence_end of silencedetect): how many. */
static int onsets(const char *file, double *at, int max)
{
    static char log_out[64 * 1024];
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -hide_banner -nostats -i '%s' -af silencedetect=n=-30dB:d=0.05 -f null - 2>&1", file);
    assert_int_equal(run(cmd, log_out, sizeof log_out), 0);
    int n = 0;
    for (const char *s = log_out; n < max && (s = strstr(s, "silence_end: ")); s++)
        at[n++] = strtod(s + strlen("silence_end: "), NULL);
    for (int i = 0; i < n; i++)
        print_message("beep onset %.3f s\n", at[i]);
    return n;
}

/* Integrated loudness, by ffmpeg's ebur128 filter (which gates out the silence). Checks on
 * the way that the true peak is at most max_true_peak dBTP. */
static double loudness_peak(const char *file, double max_true_peak)
{
    static char log_out[64 * 1024];
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -hide_banner -nostats -i '%s' -af ebur128=peak=true -f null - 2>&1",
             file);
    assert_int_equal(run(cmd, log_out, sizeof log_out), 0);
    const char *last = NULL; /* the summary's */
    for (const char *s = log_out; (s = strstr(s, " I: ")); s++)
        last = s;
    assert_non_null(last);
    double lufs = strtod(last + 4, NULL);
    const char *peak = strstr(last, "Peak:");
    assert_non_null(peak);
    double true_peak = strtod(peak + 5, NULL);
    print_message("%s: integrated loudness %.1f LUFS, true peak %.1f dBTP\n", file, lufs, true_peak);
    assert_true(true_peak <= max_true_peak + 0.05);
    return lufs;
}

/* ... at most -1 dBTP, the target. */
static double loudness(const char *file) { return loudness_peak(file, -1.0); }


/* ---- the tests --------------------------------------------------------------------------- */

/* Of the parts the MP4s are joined from (render_output.c) and the name cards, nothing is
 * left in out: the render's own files have no dot. */
static void assert_no_spool_left(const char *out)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep '^[.]'", out);
    assert_int_not_equal(system(cmd), 0);
}

static void test_two_tracks(void **state)
{
    (void)state;
    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out", dir);
    progress_log log = { 0 };
    participant *const both[] = { &A, &B };
    int ret = render_into(out, both, 2, &log, err, sizeof err);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    assert_true(log.calls >= 3);
    assert_false(log.decreasing);
    assert_int_equal(log.last_percent, 100);

    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_format(file);
    assert_decodes_cleanly(file);

    /* At 4 s, A (left) is red and B (right) is blue. */
    static uint8_t rgb[W * H * 3];
    grab_frame(file, 4.0, rgb);
    assert_true(IS_RED(pixel(rgb, W / 4, H / 2)));
    assert_true(IS_BLUE(pixel(rgb, 3 * W / 4, H / 2)));

    /* A keyframe every 2 s, exactly. */
    char cmd[1200], keys[256];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -select_streams v:0 -skip_frame nokey -show_entries frame=pts_time -of csv=p=0 '%s'",
             file);
    assert_int_equal(run(cmd, keys, sizeof keys), 0);
    print_message("keyframes at: %s", keys);
    double k[8];
    int nk = 0;
    for (char *c = keys; *c && nk < 8;) {
        char *end;
        double v = strtod(c, &end);
        if (end == c) {
            c++;
            continue;
        }
        k[nk++] = v;
        c = end;
    }
    assert_int_equal(nk, 3);
    for (int i = 0; i < 3; i++)
        assert_true(fabs(k[i] - 2.0 * i) < 0.001);

    /* The beeps: A's at 2.0 s, B's at 3.0 s (its 1 s offset). */
    double at[8];
    assert_true(onsets(file, at, 8) >= 2);
    assert_true(fabs(at[0] - 2.0) <= 0.020);
    assert_true(fabs(at[1] - 3.0) <= 0.020);

    /* Integrated loudness: ebur128 gates out the silence, so this is the beeps' loudness,
     * 0.2 s of sound in 6 s: what a single-pass dynamic normaliser gets wrong (-12). */
    double lufs = loudness(file);
    assert_true(fabs(lufs - -16.0) <= 1.0);

    assert_wav(out, A.id);
    assert_wav(out, B.id);

    /* Each participant's own file, on the take's timeline: B's is black before its start. */
    assert_own_video(out, A.id, 0.5, IS_RED);
    assert_own_video(out, A.id, 4.0, IS_RED);
    assert_own_video(out, B.id, 0.5, IS_BLACK);
    assert_own_video(out, B.id, 4.0, IS_BLUE);
    assert_no_spool_left(out);
}

/* A grid of three (two on top, one centred below): A started 1 s before the take
 * (trimmed: its beep at 1.0 s), a participant with no chunks at all (a card with the
 * name, silence), B 0.5 s late (its beep at 2.5 s). No stop time: the take lasts as long
 * as the longest track, B's. */
static void test_grid_early_late_empty(void **state)
{
    (void)state;
    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-grid", dir);
    progress_log log = { 0 };
    participant *const who[] = { &A, NULL, &B };
    const int64_t offsets[] = { -1000, 0, 500 };
    int ret = render_with(out, "grid", who, offsets, 3, 0, &log, err, sizeof err);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_decodes_cleanly(file);
    double d = probe_number(file, "", "format=duration");
    print_message("final.mp4: %.3f s\n", d);
    assert_true(fabs(d - 6.5) <= 0.05);

    static uint8_t rgb[W * H * 3];
    const int left_x = W / 2 - 80, right_x = W / 2 + 20, top_y = H / 4, bottom_y = 3 * H / 4;
    grab_frame(file, 3.0, rgb);
    assert_true(IS_RED(pixel(rgb, left_x, top_y)));
    assert_true(IS_CARD(pixel(rgb, right_x, top_y)));
    assert_true(IS_BLUE(pixel(rgb, W / 2, bottom_y)));
    assert_true(IS_BLACK(pixel(rgb, 8, bottom_y))); /* the background beside the last row */
    /* B has not started at 0.2 s: its tile is black; A ended at 5 s of the take. */
    grab_frame(file, 0.2, rgb);
    assert_true(IS_BLACK(pixel(rgb, W / 2, bottom_y)));
    assert_true(IS_RED(pixel(rgb, left_x, top_y)));
    grab_frame(file, 6.2, rgb);
    assert_true(IS_BLACK(pixel(rgb, left_x, top_y)));
    assert_true(IS_BLUE(pixel(rgb, W / 2, bottom_y)));
    /* The card shows a name: light pixels in its middle. */
    grab_frame(file, 3.0, rgb);
    int light = 0;
    for (int x = right_x + 40; x < W - 40; x++)
        for (int y = top_y - 20; y < top_y + 20; y++)
            light += rgb[((size_t)y * W + (size_t)x) * 3] > 200;
    print_message("light pixels on the card: %d\n", light);
    assert_true(light > 50);

    double at[8];
    assert_true(onsets(file, at, 8) >= 2);
    assert_true(fabs(at[0] - 1.0) <= 0.040);
    assert_true(fabs(at[1] - 2.5) <= 0.040);
    char wav[1200];
    snprintf(wav, sizeof wav, "%s/nobody.wav", out);
    assert_true(fabs(probe_number(wav, "", "format=duration") - d) <= 0.05);
}

/* One track, full frame, continuous quiet noise: loudnorm brings it to -16 LUFS. No stop
 * time and a live WebM without a duration: the take's length is guessed from the chunks'
 * start times (the last start, 4.5 s, plus an average chunk, 1.5 s). */
static void test_one_track_loudness(void **state)
{
    (void)state;
    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-one", dir);
    progress_log log = { 0 };
    participant *const one[] = { &C };
    int ret = render_with(out, "grid", one, NULL, 1, 0, &log, err, sizeof err);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_format(file);
    assert_decodes_cleanly(file);
    double lufs = loudness(file);
    assert_true(fabs(lufs - -16.0) <= 1.5);
    assert_wav(out, C.id);

    /* The single tile is the whole frame: green in the middle and near the edges. */
    static uint8_t rgb[W * H * 3];
    grab_frame(file, 3.0, rgb);
    assert_true(IS_GREEN(pixel(rgb, W / 2, H / 2)));
    assert_true(IS_GREEN(pixel(rgb, W / 2, 4)));
    assert_true(IS_GREEN(pixel(rgb, W / 2, H - 4)));
}

/* The limiter: full-scale clicks lifted some 30 dB stay under the -1 dBTP target while the
 * gain lifts the rest. Clicks this loud carry much of the loudness, so holding them down
 * leaves the mix under -16 LUFS (measured -19.7): the true peak comes first. */
static void test_limiter(void **state)
{
    (void)state;
    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-limiter", dir);
    progress_log log = { 0 };
    participant *const one[] = { &K };
    int ret = render_with(out, "grid", one, NULL, 1, TAKE_MS, &log, err, sizeof err);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    double lufs = loudness(file);
    assert_true(lufs >= -20.5 && lufs <= -15.0);
}

/* A middle chunk of B gone: a gap, not a failure. */
static void test_missing_chunk(void **state)
{
    (void)state;
    char saved[1100];
    snprintf(saved, sizeof saved, "%s.saved", B.paths[2]);
    assert_int_equal(rename(B.paths[2], saved), 0);

    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-missing", dir);
    progress_log log = { 0 };
    participant *const both[] = { &A, &B };
    int ret = render_into(out, both, 2, &log, err, sizeof err);
    assert_int_equal(rename(saved, B.paths[2]), 0);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_format(file);
    assert_decodes_cleanly(file);
    assert_wav(out, B.id);
}

/* The gap where it belongs: with J's chunk 2 gone, its media after the gap keeps its
 * time (the beep at 5.7 s of its media), and so does the media before. */
static void test_gap_in_place(void **state)
{
    (void)state;
    char saved[1100];
    snprintf(saved, sizeof saved, "%s.saved", J.paths[2]);
    assert_int_equal(rename(J.paths[2], saved), 0);
    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-gap", dir);
    progress_log log = { 0 };
    participant *const one[] = { &J };
    int ret = render_with(out, "grid", one, NULL, 1, TAKE_MS + 300, &log, err, sizeof err);
    assert_int_equal(rename(saved, J.paths[2]), 0);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    double own[4], at[4];
    snprintf(file, sizeof file, "%s/%s.%s", dir, J.id, ext_of(&J));
    assert_true(onsets(file, own, 4) >= 2);
    snprintf(file, sizeof file, "%s/%s.wav", out, J.id);
    assert_true(onsets(file, at, 4) >= 2);
    assert_true(fabs(at[0] - (own[0] + 0.3)) <= 0.020);
    assert_true(fabs(at[1] - (own[1] + 0.3)) <= 0.020);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_decodes_cleanly(file);
    static uint8_t rgb[W * H * 3];
    grab_frame(file, 5.8, rgb); /* the picture is back after the gap */
    const uint8_t *px = pixel(rgb, W / 2, H / 2);
    assert_true(px[0] > 180 && px[1] > 180 && px[2] < 80);
}

/* A's header chunk gone (its track cannot be opened: a grey tile and silence) and B's
 * middle chunk garbage (decode errors, skipped): still a render. */
static void test_header_gone_and_garbage(void **state)
{
    (void)state;
    char saved_a[1100], saved_b[1100];
    snprintf(saved_a, sizeof saved_a, "%s.saved", A.paths[0]);
    snprintf(saved_b, sizeof saved_b, "%s.saved", B.paths[2]);
    assert_int_equal(rename(A.paths[0], saved_a), 0);
    assert_int_equal(rename(B.paths[2], saved_b), 0);
    struct stat st;
    assert_int_equal(stat(saved_b, &st), 0);
    FILE *f = fopen(B.paths[2], "wb");
    assert_non_null(f);
    uint64_t seed = 42;
    for (off_t i = 0; i < st.st_size; i++)
        fputc((int)(next_random(&seed) & 0xff), f);
    assert_int_equal(fclose(f), 0);

    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-damaged", dir);
    progress_log log = { 0 };
    participant *const both[] = { &A, &B };
    int ret = render_into(out, both, 2, &log, err, sizeof err);
    assert_int_equal(rename(saved_a, A.paths[0]), 0);
    assert_int_equal(rename(saved_b, B.paths[2]), 0);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_format(file);
    assert_decodes_cleanly(file);
    static uint8_t rgb[W * H * 3];
    grab_frame(file, 1.0, rgb);
    assert_true(IS_CARD(pixel(rgb, W / 4, H / 2 - 50))); /* above the name */
    assert_true(IS_BLUE(pixel(rgb, 3 * W / 4, H / 2)));
    assert_wav(out, A.id);
    assert_wav(out, B.id);
}

/* Some onset within 20 ms of at_s. */
static bool onset_near(const double *at, int n, double at_s)
{
    for (int i = 0; i < n; i++)
        if (fabs(at[i] - at_s) <= 0.020)
            return true;
    return false;
}

/* S (fragmented MP4, as Safari records) alone, its chunk 2 gone or garbage: a render, and
 * its media after the gap is back at its own time: its WAV's beeps where the recording has
 * them, its tile magenta (the colour after the gap) at the end of the take. */
static void check_fmp4_gap(bool garbage)
{
    char saved[1100];
    snprintf(saved, sizeof saved, "%s.saved", S.paths[2]);
    assert_int_equal(rename(S.paths[2], saved), 0);
    if (garbage) {
        struct stat st;
        assert_int_equal(stat(saved, &st), 0);
        FILE *f = fopen(S.paths[2], "wb");
        assert_non_null(f);
        uint64_t seed = 43;
        for (off_t i = 0; i < st.st_size; i++)
            fputc((int)(next_random(&seed) & 0xff), f);
        assert_int_equal(fclose(f), 0);
    }

    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-fmp4-%s", dir, garbage ? "garbage" : "missing");
    progress_log log = { 0 };
    participant *const one[] = { &S };
    int ret = render_into(out, one, 1, &log, err, sizeof err);
    assert_int_equal(rename(saved, S.paths[2]), 0);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_format(file);
    assert_decodes_cleanly(file);
    assert_wav(out, S.id);

    double want[4], at[8];
    snprintf(file, sizeof file, "%s/%s.mp4", dir, S.id); /* the recording itself */
    assert_int_equal(onsets(file, want, 4), 3);          /* and the end of the file, in silence */
    snprintf(file, sizeof file, "%s/%s.wav", out, S.id);
    int n = onsets(file, at, 8);
    assert_true(onset_near(at, n, want[0]));
    assert_true(onset_near(at, n, want[1])); /* after the gap */

    static uint8_t rgb[W * H * 3];
    snprintf(file, sizeof file, "%s/final.mp4", out);
    grab_frame(file, 1.0, rgb);
    assert_true(IS_CYAN(pixel(rgb, W / 2, H / 2)));
    grab_frame(file, 5.5, rgb);
    assert_true(IS_MAGENTA(pixel(rgb, W / 2, H / 2)));
    assert_own_video(out, S.id, 5.5, IS_MAGENTA);
}

static void test_fmp4_missing_chunk(void **state)
{
    (void)state;
    check_fmp4_gap(false);
}

static void test_fmp4_garbage_chunk(void **state)
{
    (void)state;
    check_fmp4_gap(true);
}

/* B's last chunk half uploaded: B's picture and sound stop where its bytes do, the take
 * still lasts its length. */
static void test_truncated_last_chunk(void **state)
{
    (void)state;
    char saved[1100];
    snprintf(saved, sizeof saved, "%s.saved", B.paths[CHUNKS - 1]);
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", B.paths[CHUNKS - 1], saved);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(truncate(B.paths[CHUNKS - 1], B.refs[CHUNKS - 1].size / 2), 0);
    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-truncated", dir);
    progress_log log = { 0 };
    participant *const both[] = { &A, &B };
    int ret = render_into(out, both, 2, &log, err, sizeof err);
    assert_int_equal(rename(saved, B.paths[CHUNKS - 1]), 0);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_format(file);
    assert_decodes_cleanly(file);
    assert_wav(out, B.id);
    static uint8_t rgb[W * H * 3];
    grab_frame(file, 2.0, rgb);
    assert_true(IS_BLUE(pixel(rgb, 3 * W / 4, H / 2)));
}

/* An output folder that does not exist: -1 with a reason, nothing leaked. */
static void test_unwritable_output(void **state)
{
    (void)state;
    char out[1024], err[256] = "";
    snprintf(out, sizeof out, "%s/no/such/folder", dir);
    render_track tracks[1];
    int64_t starts[CHUNKS];
    tracks[0] = track_of(&A, 0, starts);
    render_request req = { .storage = store, .tracks = tracks, .track_count = 1, .take_start_ms = TAKE_START_MS,
                           .take_stop_ms = TAKE_START_MS + TAKE_MS, .layout = "grid", .width = W, .height = H,
                           .out_dir = out };
    assert_int_equal(render_take(&req, NULL, NULL, err, sizeof err), -1);
    print_message("%s\n", err);
    assert_non_null(strstr(err, "final.mp4"));
}

/* The progress callback says stop: -1, "cancelled", nothing leaked. */
static void test_cancelled(void **state)
{
    (void)state;
    char out[1024], err[256] = "";
    snprintf(out, sizeof out, "%s/out-cancelled", dir);
    progress_log log = { .cancel_after = 3 };
    participant *const both[] = { &A, &B };
    assert_int_equal(render_into(out, both, 2, &log, err, sizeof err), -1);
    assert_string_equal(err, "cancelled");
    assert_int_equal(log.calls, 3);
    assert_no_spool_left(out);
}

static void test_bad_request(void **state)
{
    (void)state;
    char err[256] = "";
    render_request req = { .storage = store, .width = W, .height = H, .out_dir = dir };
    assert_int_equal(render_take(&req, NULL, NULL, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    assert_int_equal(render_take(NULL, NULL, NULL, err, sizeof err), -1);
}

/* The speaker layout follows who talks: D on the stage while D talks, E after E has
 * talked for a while; the other in the strip. Audio from both, normalised. */
static void test_speaker_layout(void **state)
{
    (void)state;
    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-speaker", dir);
    progress_log log = { 0 };
    participant *const both[] = { &D, &E };
    const int64_t offsets[] = { 0, 0 };
    int ret = render_with(out, "speaker", both, offsets, 2, TAKE_MS, &log, err, sizeof err);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_format(file);
    assert_decodes_cleanly(file);

    static uint8_t rgb[W * H * 3];
    const int stage_y = H / 3, strip_y = H - 20;
    grab_frame(file, 2.5, rgb); /* D talks */
    assert_true(IS_RED(pixel(rgb, W / 2, stage_y)));
    assert_true(IS_BLUE(pixel(rgb, W / 2, strip_y)));
    grab_frame(file, 5.8, rgb); /* E has talked for 2.5 s */
    assert_true(IS_BLUE(pixel(rgb, W / 2, stage_y)));
    assert_true(IS_RED(pixel(rgb, W / 2, strip_y)));
    assert_true(fabs(loudness(file) - -16.0) <= 1.0);
}

/* Side by side: each of two fills its half, edge to edge. */
static void test_side_by_side(void **state)
{
    (void)state;
    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-side", dir);
    progress_log log = { 0 };
    participant *const both[] = { &A, &B };
    int ret = render_with(out, "side-by-side", both, NULL, 2, TAKE_MS, &log, err, sizeof err);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_format(file);
    static uint8_t rgb[W * H * 3];
    grab_frame(file, 4.0, rgb);
    assert_true(IS_RED(pixel(rgb, W / 4, 4)));
    assert_true(IS_RED(pixel(rgb, 4, H - 4)));
    assert_true(IS_BLUE(pixel(rgb, 3 * W / 4, 4)));
    assert_true(IS_BLUE(pixel(rgb, W - 4, H - 4)));
}

/* final_only: final.mp4 and nothing else. A layout that cannot place the participants
 * (side-by-side with three) falls back to the grid. */
static void test_final_only_and_fallback(void **state)
{
    (void)state;
    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-final-only", dir);
    render_track tracks[3];
    int64_t starts[3][CHUNKS];
    tracks[0] = track_of(&A, 0, starts[0]);
    tracks[1] = track_of(&B, 0, starts[1]);
    tracks[2] = track_of(&C, 0, starts[2]);
    render_request req = { .storage = store, .tracks = tracks, .track_count = 3, .take_start_ms = TAKE_START_MS,
                           .take_stop_ms = TAKE_START_MS + TAKE_MS, .layout = "side-by-side", .width = W,
                           .height = H, .out_dir = out, .final_only = true };
    mkdir(out, 0755);
    int ret = render_take(&req, NULL, NULL, err, sizeof err);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_format(file);
    char cmd[1200], listing[512];
    snprintf(cmd, sizeof cmd, "ls -A '%s'", out);
    assert_int_equal(run(cmd, listing, sizeof listing), 0);
    assert_string_equal(listing, "final.mp4\n");
    static uint8_t rgb[W * H * 3];
    grab_frame(file, 3.0, rgb); /* the grid of three: A and B on top, C below */
    assert_true(IS_RED(pixel(rgb, W / 2 - 80, H / 4)));
    assert_true(IS_BLUE(pixel(rgb, W / 2 + 80, H / 4)));
    assert_true(IS_GREEN(pixel(rgb, W / 2, 3 * H / 4)));
}

/* Three browsers' formats in one grid: each in its tile, each beep where it belongs. */
static void test_formats(void **state)
{
    (void)state;
    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-formats", dir);
    progress_log log = { 0 };
    participant *const who[] = { &MKV, &AV1, &MP4 };
    int ret = render_with(out, "grid", who, NULL, 3, TAKE_MS + 1000, &log, err, sizeof err);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_decodes_cleanly(file);
    static uint8_t rgb[W * H * 3];
    grab_frame(file, 4.0, rgb);
    assert_true(IS_RED(pixel(rgb, W / 2 - 80, H / 4)));
    assert_true(IS_BLUE(pixel(rgb, W / 2 + 80, H / 4)));
    assert_true(IS_GREEN(pixel(rgb, W / 2, 3 * H / 4)));
    /* Where each beep is in its own file (AAC's encoder delay, which ffmpeg's fragmented
     * MP4 does not signal, puts MP4's 21 ms late there), plus its offset. */
    double at[8], own[8];
    assert_true(onsets(file, at, 8) >= 3);
    for (int i = 0; i < 3; i++) {
        char src[1200];
        snprintf(src, sizeof src, "%s/%s.%s", dir, who[i]->id, ext_of(who[i]));
        assert_true(onsets(src, own, 8) >= 1);
        assert_true(fabs(at[i] - (own[0] + (double)who[i]->offset_ms / 1000.0)) <= 0.020);
    }
}

#define RELOAD_AT_MS 7500
#define RELOAD_TAKE_MS 12000

/* R0's chunks then second's, as one participant's, second stamped from RELOAD_AT_MS on. */
static int render_reloaded(const char *out, const participant *second, char *err, size_t err_size)
{
    chunk_ref refs[2 * CHUNKS];
    int64_t starts[2 * CHUNKS];
    for (int i = 0; i < CHUNKS; i++) {
        refs[i] = R0.refs[i];
        starts[i] = TAKE_START_MS + i * 1500;
        refs[CHUNKS + i] = second->refs[i];
        starts[CHUNKS + i] = TAKE_START_MS + RELOAD_AT_MS + i * 1000;
    }
    render_track track = { .participant_id = "rita", .name = "Rita", .chunks = refs, .chunk_start_ms = starts,
                           .chunk_count = 2 * CHUNKS };
    render_request req = { .storage = store, .tracks = &track, .track_count = 1, .take_start_ms = TAKE_START_MS,
                           .take_stop_ms = TAKE_START_MS + RELOAD_TAKE_MS, .layout = "grid", .width = W,
                           .height = H, .out_dir = out };
    mkdir(out, 0755);
    progress_log log = { 0 };
    return render_take(&req, on_progress, &log, err, err_size);
}

static double first_onset(const participant *p)
{
    char file[1200];
    double at[4];
    snprintf(file, sizeof file, "%s/%s.%s", dir, p->id, ext_of(p));
    assert_true(onsets(file, at, 4) >= 1);
    return at[0];
}

/* Both runs on the timeline: each beep where its own file has it plus its run's start, the
 * second run's picture after the reload, and one WAV and one video the take's length. */
static void check_reloaded(const char *name, const participant *second, bool (*is)(const uint8_t *))
{
    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/%s", dir, name);
    int ret = render_reloaded(out, second, err, sizeof err);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    double at[4];
    snprintf(file, sizeof file, "%s/rita.wav", out);
    assert_true(onsets(file, at, 4) >= 2); /* and the end of the silence after the last one */
    assert_true(fabs(at[0] - first_onset(&R0)) <= 0.020);
    assert_true(fabs(at[1] - (first_onset(second) + RELOAD_AT_MS / 1000.0)) <= 0.020);
    assert_true(fabs(probe_number(file, "", "format=duration") - RELOAD_TAKE_MS / 1000.0) <= 0.005);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_decodes_cleanly(file);
    static uint8_t rgb[W * H * 3];
    grab_frame(file, 3.0, rgb);
    assert_true(IS_RED(pixel(rgb, W / 2, H / 2)));
    grab_frame(file, 10.0, rgb);
    assert_true(is(pixel(rgb, W / 2, H / 2)));
    snprintf(file, sizeof file, "%s/rita.mp4", out);
    assert_decodes_cleanly(file);
    assert_true(fabs(probe_number(file, "", "format=duration") - RELOAD_TAKE_MS / 1000.0) <= 0.034);
}

static void test_reload_webm(void **state)
{
    (void)state;
    check_reloaded("out-reload", &R1, IS_BLUE);
}

static void test_reload_fmp4_after_webm(void **state)
{
    (void)state;
    check_reloaded("out-reload-fmp4", &R1MP4, IS_GREEN);
}

/* Chunk k's media start, in s from the media's start, as the demuxer sees it: the time of
 * the first audio packet at or after the chunk's first byte. */
static void chunk_media_starts(const participant *p, double *media_s)
{
    static char listing[256 * 1024];
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -select_streams a -show_entries packet=pts_time,pos -of csv=p=0 '%s/%s.%s'", dir,
             p->id, ext_of(p));
    assert_int_equal(run(cmd, listing, sizeof listing), 0);
    double first = -1;
    int64_t cut = 0;
    int k = 0;
    for (char *line = strtok(listing, "\n"); line && k < CHUNKS; line = strtok(NULL, "\n")) {
        double t = strtod(line, NULL);
        const char *comma = strchr(line, ',');
        int64_t pos = comma ? strtoll(comma + 1, NULL, 10) : -1;
        if (first < 0)
            first = t;
        while (k < CHUNKS && pos >= cut) {
            media_s[k] = t - first;
            cut += p->refs[k].size;
            k++;
        }
    }
    assert_int_equal(k, CHUNKS);
}

/* F's chunks stamped by a server whose clock F's runs slow against: F's beeps land where
 * the server's clock says, within 20 ms, at the start and at the end of the take. */
static void test_clock_drift(void **state)
{
    (void)state;
    char out[1024], file[1100], err[256] = "";
    snprintf(out, sizeof out, "%s/out-drift", dir);
    mkdir(out, 0755);
    double media_s[CHUNKS];
    int64_t starts[CHUNKS];
    chunk_media_starts(&F, media_s);
    render_track track = { .chunks = F.refs, .chunk_start_ms = starts, .chunk_count = CHUNKS };
    snprintf(track.participant_id, sizeof track.participant_id, "%s", F.id);
    for (int k = 0; k < CHUNKS; k++) {
        starts[k] = TAKE_START_MS + llround(media_s[k] * 1000.0 * (1.0 + DRIFT));
        print_message("chunk %d: media %.3f s, server +%lld ms\n", k, media_s[k], (long long)(starts[k] - TAKE_START_MS));
    }
    render_request req = { .storage = store, .tracks = &track, .track_count = 1, .take_start_ms = TAKE_START_MS,
                           .take_stop_ms = TAKE_START_MS + 30100, .layout = "grid", .width = W, .height = H,
                           .out_dir = out };
    int ret = render_take(&req, NULL, NULL, err, sizeof err);
    if (ret != 0)
        print_message("render_take: %s\n", err);
    assert_int_equal(ret, 0);
    snprintf(file, sizeof file, "%s/%s.wav", out, F.id);
    double at[4];
    assert_true(onsets(file, at, 4) >= 2); /* and the end of the file, in silence */
    assert_true(fabs(at[0] - 5.0 * (1.0 + DRIFT)) <= 0.020);
    assert_true(fabs(at[1] - 25.0 * (1.0 + DRIFT)) <= 0.020);
    snprintf(file, sizeof file, "%s/final.mp4", out);
    assert_decodes_cleanly(file);
}

/* ---- setup ------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(objects, sizeof objects, "%s/objects", dir);
    if (uv_loop_init(&loop) != 0)
        return -1;
    static const uint8_t secret[32] = "0123456789abcdef0123456789abcde";
    char err[256];
    store = storage_local_open(&loop, objects, "http://127.0.0.1:3001", secret, sizeof secret, err, sizeof err);
    if (!store) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return make_participant(&A, 1) == 0 && make_participant(&B, 2) == 0 && make_participant(&C, 3) == 0 &&
                   make_participant(&D, 4) == 0 && make_participant(&E, 5) == 0 &&
                   make_participant(&F, 6) == 0 && make_participant(&MKV, 7) == 0 &&
                   make_participant(&AV1, 8) == 0 && make_participant(&MP4, 9) == 0 &&
                   make_participant(&J, 10) == 0 && make_participant(&S, 11) == 0 &&
                   make_participant(&K, 12) == 0 && make_participant(&R0, 13) == 0 &&
                   make_participant(&R1, 14) == 0 && make_participant(&R1MP4, 15) == 0
               ? 0
               : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    if (store)
        store->backend->close(store);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

int main(void)
{
    if (system("ffmpeg -version >/dev/null 2>&1") != 0 || system("ffprobe -version >/dev/null 2>&1") != 0 ||
        !ffmpeg_has_encoder("libvpx") || !ffmpeg_has_encoder("libvpx-vp9") || !ffmpeg_has_encoder("libx264") ||
        !ffmpeg_has_encoder("libopus") || !ffmpeg_has_encoder("libsvtav1")) {
        fprintf(stderr, "skipped: the ffmpeg CLI and ffprobe with libvpx(-vp9), libsvtav1, libopus and libx264 are needed\n");
        return 77;
    }
    av_log_set_level(AV_LOG_ERROR);
    log_set_level(LOG_INFO);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_request),
        cmocka_unit_test(test_two_tracks),
        cmocka_unit_test(test_one_track_loudness),
        cmocka_unit_test(test_limiter),
        cmocka_unit_test(test_grid_early_late_empty),
        cmocka_unit_test(test_speaker_layout),
        cmocka_unit_test(test_side_by_side),
        cmocka_unit_test(test_final_only_and_fallback),
        cmocka_unit_test(test_clock_drift),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_missing_chunk),
        cmocka_unit_test(test_gap_in_place),
        cmocka_unit_test(test_reload_webm),
        cmocka_unit_test(test_reload_fmp4_after_webm),
        cmocka_unit_test(test_truncated_last_chunk),
        cmocka_unit_test(test_header_gone_and_garbage),
        cmocka_unit_test(test_fmp4_missing_chunk),
        cmocka_unit_test(test_fmp4_garbage_chunk),
        cmocka_unit_test(test_unwritable_output),
        cmocka_unit_test(test_cancelled),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
