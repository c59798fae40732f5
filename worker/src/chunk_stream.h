/* One participant's recording as one byte stream: the chunks, in index order, read
 * straight from storage through an AVIOContext, never concatenated into a file.
 *
 * MediaRecorder cuts a recording into chunks at arbitrary bytes: only chunk 0 carries
 * the container header and only their concatenation decodes. A chunk that cannot be read
 * (not found, storage error) is skipped and counted: the demuxer sees the bytes after it
 * follow the bytes before it, a discontinuity it resyncs from (a gap, not a failure). A
 * chunk shorter than its declared size is read as far as it goes; one longer is read up
 * to its declared size.
 *
 * The stream is seekable (SEEK_SET, SEEK_CUR, SEEK_END, AVSEEK_SIZE) when every size is
 * known. Offsets are those of the concatenation of the declared sizes, corrected as
 * chunks turn out missing or short, so the positions the demuxer has seen stay true.
 *
 * Uses the blocking storage read_range: worker threads only, one thread per stream. */
#ifndef ZC_CHUNK_STREAM_H
#define ZC_CHUNK_STREAM_H

#include <stdint.h>

#include <libavformat/avio.h>

#include "storage/storage.h"

/* One chunk, in index order. size comes from the database (0 = unknown). */
typedef struct {
    const char *key;
    int64_t size;
} chunk_ref;

typedef struct chunk_stream chunk_stream;

/* Copies the refs (and their keys). Reads nothing yet. NULL on bad arguments or no memory. */
chunk_stream *chunk_stream_open(storage *s, const chunk_ref *chunks, int count);
/* The read-only AVIOContext over the stream (64 KiB buffer), created on the first call
 * and owned by the stream. Give it to avformat_open_input as pb, with
 * AVFMT_FLAG_CUSTOM_IO. NULL on no memory. */
AVIOContext *chunk_stream_avio(chunk_stream *cs);
/* How many chunks could not be read (not found or storage error), so far. */
int64_t chunk_stream_missing(const chunk_stream *cs);
/* For a reader of its own over the stream (mp4_resync.c), instead of the AVIOContext, never
 * both: up to size bytes from where the stream is, all from one chunk; AVERROR_EOF at the
 * end. */
int chunk_stream_read(chunk_stream *cs, uint8_t *buf, int size);
/* Back to the first byte, whether the stream is seekable or not. */
void chunk_stream_rewind(chunk_stream *cs);
/* How many times, so far, the bytes read did not follow on from the bytes before them (a
 * chunk lost, or shorter than its declared size): a chunk_stream_read whose count this
 * raised returned bytes that come after such a break. */
int64_t chunk_stream_breaks(const chunk_stream *cs);
/* The chunk holding byte pos of the stream (a demuxed packet's pos), -1 when it cannot be
 * told (a size unknown, or pos past the end). */
int chunk_stream_chunk_at(const chunk_stream *cs, int64_t pos);
/* Frees the AVIOContext and everything else. Close the demuxer first. */
void chunk_stream_close(chunk_stream *cs);

#endif
