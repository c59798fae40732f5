/* Rendering one take: every participant's chunks in, one synced, loudness-normalised
 * final.mp4 and a file per participant out. Blocking and CPU-heavy: runs on a worker
 * thread, never the loop. */
#ifndef ZC_RENDER_TAKE_H
#define ZC_RENDER_TAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chunk_stream.h"
#include "storage/storage.h"

typedef struct {
    char participant_id[40];
    char name[128];
    const chunk_ref *chunks;  /* in index order */
    const int64_t *chunk_start_ms; /* server-clock time each chunk's media starts (0 = unknown) */
    int chunk_count;
} render_track;

typedef struct {
    storage *storage;          /* where the chunks are (read_range) */
    const render_track *tracks;
    int track_count;
    int64_t take_start_ms;     /* the take's timeline: every track is placed on it */
    int64_t take_stop_ms;
    const char *layout;        /* "grid", "speaker" or "side-by-side" */
    int width, height;         /* 1280x720 by default */
    const char *out_dir;       /* final.mp4, <participantId>.mp4 and <participantId>.wav go here */
    bool final_only;           /* final.mp4 alone, no per-participant files (benchmarks) */
} render_request;

/* Called now and then from the rendering thread: percent 0..100 and a short stage name.
 * Returning false asks the render to stop (the lease was lost). */
typedef bool (*render_progress_fn)(int percent, const char *stage, void *ctx);

/* 0, or -1 with err saying why. A missing or damaged chunk is a gap, never an error. */
int render_take(const render_request *req, render_progress_fn progress, void *ctx, char *err, size_t err_size);

#endif
