/* render_join: an MP4 from spooled parts (video segments made by encoders of their own, and
 * the audio), not re-encoded. The parts are made here with the ffmpeg CLI as render_output.c
 * spools them (NUT, timestamps SPOOL_LEAD_S ahead, H.264 with global headers); the joined
 * file is checked with ffprobe and by decoding it. Skipped (exit 77) without the CLI. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "render_internal.h"

#define SEGMENT_S 10
#define AAC_FRAME 1024
#define AAC_PRIMING 1024

static char dir[] = "/tmp/zencast-render-join-XXXXXX";

static int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int shell(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

static double probe(const char *file, const char *select, const char *entry)
{
    char cmd[1024], out[64] = "";
    snprintf(cmd, sizeof cmd, "ffprobe -v error -select_streams %s -show_entries %s -of csv=p=0 %s", select, entry, file);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    if (!fgets(out, sizeof out, p))
        out[0] = '\0';
    pclose(p);
    return out[0] ? atof(out) : -1;
}

/* Video segment k of out_file name, 10 s at size, as render_output.c writes one. */
static void make_segment(const char *name, int k, const char *size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/.%s.seg-%05d.nut", dir, name, k);
    int ret = shell("ffmpeg -v error -y -f lavfi -i testsrc2=s=%s:r=%d:d=%d -c:v libx264 -preset veryfast -g %d "
                    "-keyint_min %d -x264-params scenecut=0 -flags +global_header -output_ts_offset %d -f nut %s",
                    size, FPS, SEGMENT_S, 2 * FPS, 2 * FPS, SEGMENT_S * k + SPOOL_LEAD_S, path);
    assert_int_equal(ret, 0);
}

static void make_audio(const char *name, int seconds)
{
    char path[512];
    snprintf(path, sizeof path, "%s/.%s.audio.nut", dir, name);
    int ret = shell("ffmpeg -v error -y -f lavfi -i sine=f=440:r=%d:d=%d -ac 2 -c:a aac -b:a 128k "
                    "-output_ts_offset %d -f nut %s",
                    SAMPLE_RATE, seconds, SPOOL_LEAD_S, path);
    assert_int_equal(ret, 0);
}

/* Joins name's parts (segments of them) into dir/name; err gets why not. */
static int join_parts(const char *name, int segments, int seconds, char *err, size_t err_size)
{
    render_request req = { .out_dir = dir };
    render r = { .req = &req, .err = err, .err_size = err_size };
    out_file f = { .crf = "23", .segments = segments };
    snprintf(f.name, sizeof f.name, "%s", name);
    f.video.next_pts = (int64_t)seconds * FPS;
    f.audio.next_pts = (int64_t)seconds * SAMPLE_RATE;
    f.audio.frame_size = AAC_FRAME;
    f.audio.initial_padding = AAC_PRIMING;
    err[0] = '\0';
    return render_join(&r, &f);
}

static void test_joined(void **state)
{
    (void)state;
    char err[256], file[512];
    for (int k = 0; k < 3; k++)
        make_segment("ok.mp4", k, "320x240");
    make_audio("ok.mp4", 3 * SEGMENT_S);
    int ret = join_parts("ok.mp4", 3, 3 * SEGMENT_S, err, sizeof err);
    if (ret != 0)
        print_message("render_join: %s\n", err);
    assert_int_equal(ret, 0);

    snprintf(file, sizeof file, "%s/ok.mp4", dir);
    assert_int_equal(probe(file, "v", "stream=nb_frames"), 3 * SEGMENT_S * FPS);
    assert_true(probe(file, "v", "stream=start_time") == 0.0);
    assert_true(probe(file, "a", "stream=start_time") == 0.0);
    double audio_s = probe(file, "a", "stream=duration");
    assert_true(audio_s > 3 * SEGMENT_S - 0.03 && audio_s < 3 * SEGMENT_S + 0.03);
    /* every segment's first frame is a keyframe at its place */
    assert_int_equal(shell("ffprobe -v error -select_streams v -skip_frame nokey -show_entries frame=pts_time -of csv=p=0 "
                           "%s | grep -q '^%d[.]000000'", file, 2 * SEGMENT_S), 0);
    assert_int_equal(shell("ffmpeg -v error -xerror -i %s -f null - 2>/dev/null", file), 0);
    /* faststart: the index before the media */
    assert_int_equal(shell("ffprobe -v trace %s 2>&1 | grep -m2 -o \"type:'\\(moov\\|mdat\\)'\" | head -1 | grep -q moov",
                           file), 0);
}

static void test_segment_encoded_otherwise(void **state)
{
    (void)state;
    char err[256];
    make_segment("odd.mp4", 0, "320x240");
    make_segment("odd.mp4", 1, "160x120");
    make_audio("odd.mp4", 2 * SEGMENT_S);
    assert_int_equal(join_parts("odd.mp4", 2, 2 * SEGMENT_S, err, sizeof err), -1);
    assert_non_null(strstr(err, "segment 1 was encoded otherwise"));
}

static void test_segment_missing(void **state)
{
    (void)state;
    char err[256];
    make_segment("gap.mp4", 0, "320x240");
    make_segment("gap.mp4", 2, "320x240");
    make_audio("gap.mp4", 3 * SEGMENT_S);
    assert_int_equal(join_parts("gap.mp4", 3, 3 * SEGMENT_S, err, sizeof err), -1);
    assert_non_null(strstr(err, ".gap.mp4.seg-00001.nut"));
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    if (system("ffmpeg -hide_banner -encoders 2>/dev/null | grep -qw libx264") != 0 ||
        system("ffprobe -version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "skipped: the ffmpeg CLI with libx264, and ffprobe, are needed\n");
        return 77;
    }
    av_log_set_level(AV_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_joined),
        cmocka_unit_test(test_segment_encoded_otherwise),
        cmocka_unit_test(test_segment_missing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
