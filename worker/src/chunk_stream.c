#include "chunk_stream.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/mem.h>

#include "log.h"

#define PIECE_SIZE (256 * 1024)      /* bytes asked of storage per read_range */
#define AVIO_BUFFER_SIZE (64 * 1024)

typedef struct {
    char *key;
    int64_t size; /* declared, then corrected when the chunk turns out short or lost; -1 = unknown */
    bool lost;    /* could not be read: counted in missing, once */
    bool cut;     /* lost or short: the bytes after it do not follow on from its own */
} chunk;

struct chunk_stream {
    storage *storage;
    chunk *chunks;
    int count;
    bool seekable;     /* every size known */
    int index;         /* the chunk being read; count at the end */
    int64_t offset;    /* the next byte of chunks[index] to hand out */
    uint8_t *piece;    /* bytes [piece_start, piece_start + piece_len) of chunks[piece_chunk] */
    int piece_chunk;   /* -1: none */
    int64_t piece_start;
    size_t piece_len;
    int64_t missing;
    int64_t breaks;    /* the bytes did not follow on: a chunk lost or short */
    AVIOContext *avio;
};

/* ---- the chunk being read ---------------------------------------------------------------- */

static void chunk_stream_next_chunk(chunk_stream *cs)
{
    if (cs->chunks[cs->index].cut)
        cs->breaks++; /* on every pass, after a rewind too */
    cs->index++;
    cs->offset = 0;
}

/* Bytes of the current chunk left by its size: INT64_MAX when the size is unknown. */
static int64_t chunk_stream_chunk_left(const chunk_stream *cs)
{
    const chunk *c = &cs->chunks[cs->index];
    return c->size < 0 ? INT64_MAX : c->size - cs->offset;
}

/* The bytes of the piece at the current offset, 0 when the piece does not hold it. */
static size_t chunk_stream_piece_left(const chunk_stream *cs)
{
    if (cs->piece_chunk != cs->index || cs->offset < cs->piece_start ||
        cs->offset >= cs->piece_start + (int64_t)cs->piece_len)
        return 0;
    return (size_t)(cs->piece_start + (int64_t)cs->piece_len - cs->offset);
}

/* Reads the piece of the current chunk at the current offset. 1 with bytes, 0 at the
 * chunk's end, -1 when storage fails (status in *status). */
static int chunk_stream_fill_piece(chunk_stream *cs, storage_status *status)
{
    const chunk *c = &cs->chunks[cs->index];
    int64_t left = chunk_stream_chunk_left(cs);
    size_t want = left < PIECE_SIZE ? (size_t)left : PIECE_SIZE;
    size_t got = 0;

    *status = STORAGE_OK;
    if (want == 0)
        return 0;
    cs->piece_chunk = -1;
    *status = cs->storage->backend->read_range(cs->storage, c->key, cs->offset, cs->piece, want, &got);
    if (*status != STORAGE_OK)
        return -1;
    if (got == 0)
        return 0;
    cs->piece_chunk = cs->index;
    cs->piece_start = cs->offset;
    cs->piece_len = got < want ? got : want;
    return 1;
}

/* The current chunk has no more bytes: read in full, shorter than declared, or of
 * unknown size. Its size becomes what was read, so later offsets stay true. */
static void chunk_stream_end_chunk(chunk_stream *cs)
{
    chunk *c = &cs->chunks[cs->index];
    if (c->size > cs->offset) {
        log_warn("chunk %s: %" PRId64 " bytes of %" PRId64 ", reading on from the next chunk", c->key,
                 cs->offset, c->size);
        c->size = cs->offset;
        c->cut = true;
    }
    chunk_stream_next_chunk(cs);
}

/* The current chunk cannot be read (any more): skip the rest of it, count it once. */
static void chunk_stream_lose_chunk(chunk_stream *cs, storage_status status)
{
    chunk *c = &cs->chunks[cs->index];
    if (!c->lost) {
        c->lost = true;
        cs->missing++;
        log_warn("chunk %s: %s at byte %" PRId64 ", skipped (a gap in the recording)", c->key,
                 status == STORAGE_NOT_FOUND ? "not found" : "storage error", cs->offset);
    }
    c->size = cs->offset;
    c->cut = true;
    chunk_stream_next_chunk(cs);
}

/* ---- positions over the concatenation ---------------------------------------------------- */

/* Where chunks[index] starts (every size known). */
static int64_t chunk_stream_chunk_start(const chunk_stream *cs, int index)
{
    int64_t start = 0;
    for (int i = 0; i < index; i++)
        start += cs->chunks[i].size;
    return start;
}

static int64_t chunk_stream_size(const chunk_stream *cs)
{
    return chunk_stream_chunk_start(cs, cs->count);
}

static int64_t chunk_stream_tell(const chunk_stream *cs)
{
    return chunk_stream_chunk_start(cs, cs->index) + cs->offset;
}

/* Moves to pos, 0 <= pos <= size. */
static void chunk_stream_move_to(chunk_stream *cs, int64_t pos)
{
    int64_t start = 0;
    int i = 0;
    while (i < cs->count && pos >= start + cs->chunks[i].size) {
        start += cs->chunks[i].size;
        i++;
    }
    cs->index = i;
    cs->offset = i < cs->count ? pos - start : 0;
}

/* ---- the AVIOContext callbacks ----------------------------------------------------------- */

static int chunk_stream_read_packet(void *opaque, uint8_t *buf, int buf_size)
{
    chunk_stream *cs = opaque;
    if (buf_size <= 0)
        return AVERROR(EINVAL);
    while (cs->index < cs->count) {
        size_t n = chunk_stream_piece_left(cs);
        if (n > 0) {
            if (n > (size_t)buf_size)
                n = (size_t)buf_size;
            memcpy(buf, cs->piece + (cs->offset - cs->piece_start), n);
            cs->offset += (int64_t)n;
            return (int)n;
        }
        storage_status status;
        int filled = chunk_stream_fill_piece(cs, &status);
        if (filled < 0)
            chunk_stream_lose_chunk(cs, status);
        else if (filled == 0)
            chunk_stream_end_chunk(cs);
    }
    return AVERROR_EOF;
}

static int64_t chunk_stream_seek(void *opaque, int64_t offset, int whence)
{
    chunk_stream *cs = opaque;
    int64_t size = chunk_stream_size(cs);
    int64_t base;

    if (whence & AVSEEK_SIZE)
        return size;
    switch (whence & ~AVSEEK_FORCE) {
    case SEEK_SET:
        base = 0;
        break;
    case SEEK_CUR:
        base = chunk_stream_tell(cs);
        break;
    case SEEK_END:
        base = size;
        break;
    default:
        return AVERROR(EINVAL);
    }
    if (offset < -base || offset > size - base) /* before the start or past the end */
        return AVERROR(EINVAL);
    chunk_stream_move_to(cs, base + offset);
    return base + offset;
}

/* ---- the interface ----------------------------------------------------------------------- */

chunk_stream *chunk_stream_open(storage *s, const chunk_ref *chunks, int count)
{
    if (!s || count < 0 || (count > 0 && !chunks))
        return NULL;
    chunk_stream *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    cs->storage = s;
    cs->seekable = true;
    cs->piece_chunk = -1;
    cs->piece = malloc(PIECE_SIZE);
    cs->chunks = calloc(count > 0 ? (size_t)count : 1, sizeof *cs->chunks);
    if (!cs->piece || !cs->chunks)
        goto fail;
    for (int i = 0; i < count; i++) {
        if (!chunks[i].key || chunks[i].size < 0)
            goto fail;
        cs->chunks[i].key = strdup(chunks[i].key);
        if (!cs->chunks[i].key)
            goto fail;
        cs->count = i + 1;
        cs->chunks[i].size = chunks[i].size > 0 ? chunks[i].size : -1;
        if (chunks[i].size == 0)
            cs->seekable = false;
    }
    return cs;

fail:
    chunk_stream_close(cs);
    return NULL;
}

AVIOContext *chunk_stream_avio(chunk_stream *cs)
{
    if (cs->avio)
        return cs->avio;
    uint8_t *buffer = av_malloc(AVIO_BUFFER_SIZE);
    if (!buffer)
        return NULL;
    cs->avio = avio_alloc_context(buffer, AVIO_BUFFER_SIZE, 0, cs, chunk_stream_read_packet, NULL,
                                  cs->seekable ? chunk_stream_seek : NULL);
    if (!cs->avio) {
        av_free(buffer);
        return NULL;
    }
    return cs->avio;
}

int chunk_stream_chunk_at(const chunk_stream *cs, int64_t pos)
{
    int64_t start = 0;
    for (int i = 0; pos >= 0 && i < cs->count; i++) {
        if (cs->chunks[i].size < 0)
            return -1;
        start += cs->chunks[i].size;
        if (pos < start)
            return i;
    }
    return -1;
}

int64_t chunk_stream_missing(const chunk_stream *cs)
{
    return cs->missing;
}

int chunk_stream_read(chunk_stream *cs, uint8_t *buf, int size)
{
    return chunk_stream_read_packet(cs, buf, size);
}

void chunk_stream_rewind(chunk_stream *cs)
{
    cs->index = 0;
    cs->offset = 0;
}

int64_t chunk_stream_breaks(const chunk_stream *cs)
{
    return cs->breaks;
}

void chunk_stream_close(chunk_stream *cs)
{
    if (!cs)
        return;
    if (cs->avio) {
        /* FFmpeg may have replaced the buffer we gave it: free the one it holds now. */
        av_freep(&cs->avio->buffer);
        avio_context_free(&cs->avio);
    }
    for (int i = 0; i < cs->count; i++)
        free(cs->chunks[i].key);
    free(cs->chunks);
    free(cs->piece);
    free(cs);
}
