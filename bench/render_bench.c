/* render_bench: how long, how much CPU and how much memory one render of a take costs.
 *
 *   render_bench render TAKE_MS OBJECTS ROOM OUT_DIR USER:OFFSET_MS...
 *       renders the take with render_take() from the local storage folder OBJECTS, whose
 *       chunks are recordings/ROOM/USER/<index>.webm (0, 1, ... until one is missing), each
 *       user's media starting OFFSET_MS after the take start; final.mp4 goes to OUT_DIR.
 *   render_bench exec TAKE_MS COMMAND [ARG...]
 *       runs COMMAND (the ffmpeg CLI peer) as a child and measures it with wait4().
 *
 * Both print one line, the same fields for both so the driver compares like with like:
 *   wall_s=… cpu_s=… user_s=… sys_s=… peak_rss_mib=… media_min=… cpu_s_per_media_min=…
 * render: wall time of render_take(), CPU and peak RSS of this whole process
 * (getrusage RUSAGE_SELF), and then calling_thread_cpu_s: the CPU of the thread that called
 * render_take() (RUSAGE_THREAD; the rest is the encoders' own threads), where its serial
 * work shows. exec: wall time from fork to wait4, the child's CPU and peak RSS.
 * Media minutes are the take's (the output's) length. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "log.h"
#include "render_take.h"
#include "storage/storage.h"

#define TAKE_START_MS 1700000000000LL
#define CHUNK_MS 10000 /* the recorder's timeslice: where each chunk's media starts */
#define MAX_TRACKS 16
#define MAX_CHUNKS 1024 /* 10 s each: almost 3 hours */

typedef struct {
    char keys[MAX_CHUNKS][STORAGE_KEY_MAX];
    chunk_ref refs[MAX_CHUNKS];
    int64_t starts[MAX_CHUNKS];
} track_chunks;

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static double timeval_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* The line without its newline: the caller may add fields. */
static void print_costs(double wall_s, const struct rusage *ru, int64_t take_ms)
{
    double user_s = timeval_s(ru->ru_utime), sys_s = timeval_s(ru->ru_stime);
    double media_min = (double)take_ms / 60000.0;
    printf("wall_s=%.2f cpu_s=%.2f user_s=%.2f sys_s=%.2f peak_rss_mib=%.1f media_min=%.3f "
           "cpu_s_per_media_min=%.2f",
           wall_s, user_s + sys_s, user_s, sys_s, (double)ru->ru_maxrss / 1024.0, media_min,
           (user_s + sys_s) / media_min);
}

/* Finds user's chunks in the folder (index 0 up to the first missing one). Their count, or -1. */
static int find_chunks(const char *objects, const char *room, const char *user, int64_t offset_ms,
                       track_chunks *tc)
{
    int n = 0;
    for (; n < MAX_CHUNKS; n++) {
        char path[4096];
        struct stat st;
        int key_len = snprintf(tc->keys[n], sizeof tc->keys[n], "recordings/%s/%s/%d.webm", room, user, n);
        int path_len = snprintf(path, sizeof path, "%s/%s", objects, tc->keys[n]);
        if (key_len < 0 || (size_t)key_len >= sizeof tc->keys[n] || path_len < 0 || (size_t)path_len >= sizeof path) {
            fprintf(stderr, "render_bench: path too long: %s/recordings/%s/%s\n", objects, room, user);
            return -1;
        }
        if (stat(path, &st) != 0)
            break;
        tc->refs[n] = (chunk_ref){ .key = tc->keys[n], .size = st.st_size };
        tc->starts[n] = TAKE_START_MS + offset_ms + (int64_t)n * CHUNK_MS;
    }
    if (n == 0) {
        fprintf(stderr, "render_bench: no chunks for %s in %s/recordings/%s\n", user, objects, room);
        return -1;
    }
    return n;
}

/* "user:offset_ms" into a track with its chunks. 0 or -1. */
static int make_track(const char *arg, const char *objects, const char *room, track_chunks *tc, render_track *t)
{
    const char *colon = strchr(arg, ':');
    if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof t->participant_id) {
        fprintf(stderr, "render_bench: expected USER:OFFSET_MS, got %s\n", arg);
        return -1;
    }
    *t = (render_track){ 0 };
    memcpy(t->participant_id, arg, (size_t)(colon - arg));
    memcpy(t->name, arg, (size_t)(colon - arg));
    int count = find_chunks(objects, room, t->participant_id, strtoll(colon + 1, NULL, 10), tc);
    if (count < 0)
        return -1;
    t->chunks = tc->refs;
    t->chunk_start_ms = tc->starts;
    t->chunk_count = count;
    return 0;
}

static int render_with(storage *store, int64_t take_ms, const char *out_dir, const render_track *tracks, int count)
{
    render_request req = {
        .storage = store,
        .tracks = tracks,
        .track_count = count,
        .take_start_ms = TAKE_START_MS,
        .take_stop_ms = TAKE_START_MS + take_ms,
        .layout = "grid",
        .width = 1280,
        .height = 720,
        .out_dir = out_dir,
        .final_only = true,
    };
    char err[512] = "";
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (render_take(&req, NULL, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "render_bench: render_take: %s\n", err);
        return -1;
    }
    double wall_s = seconds_since(&start);
    struct rusage ru, calling;
    getrusage(RUSAGE_SELF, &ru);
    getrusage(RUSAGE_THREAD, &calling);
    print_costs(wall_s, &ru, take_ms);
    printf(" calling_thread_cpu_s=%.2f\n", timeval_s(calling.ru_utime) + timeval_s(calling.ru_stime));
    return 0;
}

/* argv: OBJECTS ROOM OUT_DIR USER:OFFSET_MS... */
static int run_render(int64_t take_ms, int argc, char **argv)
{
    const char *objects = argv[0], *room = argv[1], *out_dir = argv[2];
    int count = argc - 3;
    if (count < 1 || count > MAX_TRACKS) {
        fprintf(stderr, "render_bench: 1 to %d participants\n", MAX_TRACKS);
        return -1;
    }
    static track_chunks chunks[MAX_TRACKS];
    render_track tracks[MAX_TRACKS];
    for (int i = 0; i < count; i++)
        if (make_track(argv[3 + i], objects, room, &chunks[i], &tracks[i]) != 0)
            return -1;
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST) {
        perror(out_dir);
        return -1;
    }

    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0)
        return -1;
    static const uint8_t secret[32] = "render-bench-render-bench-rende";
    char err[256];
    storage *store = storage_local_open(&loop, objects, "http://127.0.0.1:1", secret, sizeof secret, err, sizeof err);
    if (!store) {
        fprintf(stderr, "render_bench: %s\n", err);
        uv_loop_close(&loop);
        return -1;
    }
    int ret = render_with(store, take_ms, out_dir, tracks, count);
    store->backend->close(store);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return ret;
}

/* argv: COMMAND [ARG...], NULL-terminated. */
static int run_exec(int64_t take_ms, char **argv)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("wait4");
        return -1;
    }
    double wall_s = seconds_since(&start);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "render_bench: %s failed (status %d)\n", argv[0], status);
        return -1;
    }
    print_costs(wall_s, &ru, take_ms);
    printf("\n");
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: render_bench render TAKE_MS OBJECTS ROOM OUT_DIR USER:OFFSET_MS...\n"
                    "       render_bench exec TAKE_MS COMMAND [ARG...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    int64_t take_ms = strtoll(argv[2], NULL, 10);
    if (take_ms <= 0)
        return usage();
    av_log_set_level(AV_LOG_ERROR);
    log_set_level(LOG_WARN);
    if (strcmp(argv[1], "render") == 0 && argc >= 7)
        return run_render(take_ms, argc - 3, argv + 3) == 0 ? 0 : 1;
    if (strcmp(argv[1], "exec") == 0)
        return run_exec(take_ms, argv + 3) == 0 ? 0 : 1;
    return usage();
}
