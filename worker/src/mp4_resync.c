#include "mp4_resync.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/mem.h>

#include "log.h"

#define READ_SIZE (64 * 1024)      /* raw bytes asked of the chunk_stream at a time */
#define AVIO_BUFFER_SIZE (64 * 1024)
#define SNIFF_SIZE (64 * 1024)     /* ftyp and moov are within these first bytes */
#define MAX_MOOF (8 * 1024 * 1024) /* held back whole; a bigger one is taken for garbage */
#define HEADER_SIZE 8
#define LARGE_HEADER_SIZE 16
#define MFHD_SIZE 16
#define MOOF_START (HEADER_SIZE + MFHD_SIZE) /* what a moof is recognised by */

#define TAG(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define FTYP TAG('f', 't', 'y', 'p')
#define MOOV TAG('m', 'o', 'o', 'v')
#define MVEX TAG('m', 'v', 'e', 'x')
#define MOOF TAG('m', 'o', 'o', 'f')
#define MFHD TAG('m', 'f', 'h', 'd')
#define MDAT TAG('m', 'd', 'a', 't')

typedef enum {
    AT_BOX,   /* a box header is next */
    IN_BOX,   /* handing out the box's bytes, box_left more */
    TO_END,   /* a box of size 0: everything to the end, as it is */
    SCANNING, /* looking for the next moof */
    ENDED,
} reading;

/* A stretch of the repaired stream: the chunk_stream's bytes from raw_start on, or zeros
 * (raw_start -1). */
typedef struct {
    int64_t start;
    int64_t raw_start;
} stretch;

struct mp4_resync {
    chunk_stream *cs;
    AVIOContext *avio;
    reading state;
    bool in_sync; /* at a box boundary the demuxer agrees with */
    /* Raw bytes read and not used yet, [pos, len) of buf; never a break among them. */
    uint8_t *buf;
    size_t pos, len, cap;
    int64_t raw_read; /* bytes read from cs: the raw position of buf[len] */
    int64_t breaks;   /* chunk_stream_breaks as last seen */
    bool raw_ended;
    int64_t box_left;
    int64_t zeros_left; /* standing in for the rest of a box a break cut */
    int64_t out;        /* bytes handed to the demuxer */
    stretch *stretches;
    int stretch_count, stretch_cap;
    int64_t resyncs;
    bool no_memory;
};

static uint32_t rb32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* ---- what a box header may be ------------------------------------------------------------ */

static bool top_level_type(uint32_t type)
{
    static const uint32_t types[] = {
        FTYP, MOOV, MOOF, MDAT, TAG('s', 't', 'y', 'p'), TAG('f', 'r', 'e', 'e'), TAG('s', 'k', 'i', 'p'),
        TAG('w', 'i', 'd', 'e'), TAG('s', 'i', 'd', 'x'), TAG('s', 's', 'i', 'x'), TAG('m', 'f', 'r', 'a'),
        TAG('e', 'm', 's', 'g'), TAG('p', 'r', 'f', 't'), TAG('u', 'u', 'i', 'd'), TAG('m', 'e', 't', 'a'),
        TAG('p', 'd', 'i', 'n'),
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (type == types[i])
            return true;
    return false;
}

/* The 8 bytes at p could be a top-level box header: a known type, a size that holds the
 * header (1: a 64-bit size follows; 0, to the end, only for an mdat). */
static bool plausible_header(const uint8_t *p)
{
    uint32_t size = rb32(p), type = rb32(p + 4);
    return top_level_type(type) && (size >= HEADER_SIZE || size == 1 || (size == 0 && type == MDAT));
}

/* The box size at p (LARGE_HEADER_SIZE bytes there when it says 1); -1 beyond int64. */
static int64_t box_size(const uint8_t *p)
{
    uint32_t size = rb32(p);
    if (size != 1)
        return size;
    uint64_t large = (uint64_t)rb32(p + 8) << 32 | rb32(p + 12);
    return large > INT64_MAX ? -1 : (int64_t)large;
}

/* The 16 bytes at p start a moof: its header, then a whole mfhd. */
static bool moof_starts(const uint8_t *p)
{
    return rb32(p) >= MOOF_START && rb32(p + 4) == MOOF && rb32(p + 8) == MFHD_SIZE && rb32(p + 12) == MFHD;
}

/* The children of the box at p (size bytes, an 8-byte header) tile it; the first one's type,
 * when first is not 0, is first. want: a child it must have (0: none). */
static bool children_tile(const uint8_t *p, uint32_t size, uint32_t first, uint32_t want)
{
    bool found = want == 0;
    for (uint32_t at = HEADER_SIZE; at < size;) {
        if (size - at < HEADER_SIZE)
            return false;
        uint32_t child = rb32(p + at), type = rb32(p + at + 4);
        if (child < HEADER_SIZE || child > size - at || (at == HEADER_SIZE && first && type != first))
            return false;
        found = found || type == want;
        at += child;
    }
    return found;
}

/* ---- the raw bytes ----------------------------------------------------------------------- */

typedef enum { FILL_OK, FILL_BREAK, FILL_END } fill_result;

/* Room in buf for need bytes from pos, and READ_SIZE more after the ones there. */
static bool make_room(mp4_resync *rs, size_t need)
{
    if (rs->pos > 0) {
        memmove(rs->buf, rs->buf + rs->pos, rs->len - rs->pos);
        rs->len -= rs->pos;
        rs->pos = 0;
    }
    size_t want = (need > rs->len ? need : rs->len) + READ_SIZE;
    if (want <= rs->cap)
        return true;
    uint8_t *buf = realloc(rs->buf, want);
    if (!buf)
        return false;
    rs->buf = buf;
    rs->cap = want;
    return true;
}

/* Reads on until need bytes are there to use. FILL_BREAK: the chunks broke off after the
 * bytes there, which are dropped; what follows the break is there instead (maybe fewer than
 * need). FILL_END: the stream ends first. */
static fill_result fill(mp4_resync *rs, size_t need)
{
    while (rs->len - rs->pos < need) {
        if (rs->raw_ended)
            return FILL_END;
        if (!make_room(rs, need)) {
            rs->no_memory = true;
            return FILL_END;
        }
        int n = chunk_stream_read(rs->cs, rs->buf + rs->len, READ_SIZE);
        if (n <= 0) {
            rs->raw_ended = true;
            continue;
        }
        rs->raw_read += n;
        int64_t breaks = chunk_stream_breaks(rs->cs);
        if (breaks != rs->breaks) {
            rs->breaks = breaks;
            memmove(rs->buf, rs->buf + rs->len, (size_t)n);
            rs->pos = 0;
            rs->len = (size_t)n;
            return FILL_BREAK;
        }
        rs->len += (size_t)n;
    }
    return FILL_OK;
}

/* Where buf[pos] is in the chunk_stream. */
static int64_t raw_position(const mp4_resync *rs)
{
    return rs->raw_read - (int64_t)(rs->len - rs->pos);
}

/* ---- handing bytes out ------------------------------------------------------------------- */

/* Bytes handed out next, from raw_start (-1: zeros), carry on the last stretch. */
static bool carries_on(const mp4_resync *rs, int64_t raw_start)
{
    if (rs->stretch_count == 0)
        return false;
    const stretch *last = &rs->stretches[rs->stretch_count - 1];
    if (raw_start < 0 || last->raw_start < 0)
        return raw_start < 0 && last->raw_start < 0;
    return last->raw_start + (rs->out - last->start) == raw_start;
}

/* n bytes handed out, from raw_start of the chunk_stream (-1: zeros). */
static void note_out(mp4_resync *rs, int64_t raw_start, size_t n)
{
    if (!carries_on(rs, raw_start)) {
        if (rs->stretch_count == rs->stretch_cap) {
            int cap = rs->stretch_cap ? 2 * rs->stretch_cap : 16;
            stretch *s = realloc(rs->stretches, (size_t)cap * sizeof *s);
            if (!s) {
                rs->no_memory = true;
                return;
            }
            rs->stretches = s;
            rs->stretch_cap = cap;
        }
        rs->stretches[rs->stretch_count++] = (stretch){ .start = rs->out, .raw_start = raw_start };
    }
    rs->out += (int64_t)n;
}

static int hand_out_zeros(mp4_resync *rs, uint8_t *out, int size)
{
    size_t n = rs->zeros_left < size ? (size_t)rs->zeros_left : (size_t)size;
    memset(out, 0, n);
    note_out(rs, -1, n);
    rs->zeros_left -= (int64_t)n;
    return (int)n;
}

/* The boxes are lost (a break, or a header that is none): on from the next moof, skip bytes
 * on. */
static void lose_sync(mp4_resync *rs, size_t skip)
{
    if (rs->in_sync) {
        rs->resyncs++;
        int64_t at = raw_position(rs);
        log_warn("fragmented MP4: its boxes break off at byte %" PRId64 " (chunk %d): on from the next fragment", at,
                 chunk_stream_chunk_at(rs->cs, at));
    }
    rs->in_sync = false;
    rs->pos += skip;
    rs->state = SCANNING;
}

/* Bytes of the box being handed out (or of everything, TO_END). 0: none now, state moved. */
static int hand_out(mp4_resync *rs, uint8_t *out, int size)
{
    if (rs->pos == rs->len) {
        fill_result got = fill(rs, 1);
        if (got == FILL_END) {
            rs->state = ENDED;
            return 0;
        }
        if (got == FILL_BREAK && rs->state == IN_BOX) { /* the rest of the box is zeros */
            rs->zeros_left = rs->box_left;
            lose_sync(rs, 0);
            return 0;
        }
    }
    size_t n = rs->len - rs->pos;
    if (n > (size_t)size)
        n = (size_t)size;
    if (rs->state == IN_BOX && (int64_t)n > rs->box_left)
        n = (size_t)rs->box_left;
    memcpy(out, rs->buf + rs->pos, n);
    note_out(rs, raw_position(rs), n);
    rs->pos += n;
    if (rs->state == IN_BOX && (rs->box_left -= (int64_t)n) == 0)
        rs->state = AT_BOX;
    return (int)n;
}

/* ---- finding the boxes ------------------------------------------------------------------- */

/* A moof at pos (size bytes): handed out when it is whole and a box header follows it.
 * false: it is not a moof after all. */
static bool take_moof(mp4_resync *rs, int64_t size)
{
    if (size < MOOF_START || size > MAX_MOOF || rb32(rs->buf + rs->pos) == 1)
        return false;
    fill_result got = fill(rs, (size_t)size + HEADER_SIZE);
    if (got != FILL_OK) {
        if (got == FILL_BREAK)
            lose_sync(rs, 0);
        else /* the stream ends within it, or before its mdat */
            rs->state = ENDED;
        return true;
    }
    const uint8_t *p = rs->buf + rs->pos;
    if (!children_tile(p, (uint32_t)size, MFHD, 0) || !plausible_header(p + size))
        return false;
    if (!rs->in_sync)
        log_info("fragmented MP4: going on from a fragment at byte %" PRId64 " (chunk %d)", raw_position(rs),
                 chunk_stream_chunk_at(rs->cs, raw_position(rs)));
    rs->in_sync = true;
    rs->state = IN_BOX;
    rs->box_left = size;
    return true;
}

/* The box header at pos, when it is one and the boxes are in sync (or it is a moof). */
static bool take_box(mp4_resync *rs)
{
    const uint8_t *p = rs->buf + rs->pos;
    int64_t size = box_size(p);
    int header = rb32(p) == 1 ? LARGE_HEADER_SIZE : HEADER_SIZE;
    if (!plausible_header(p) || (size != 0 && size < header))
        return false;
    if (rb32(p + 4) == MOOF)
        return take_moof(rs, size);
    if (!rs->in_sync) /* only a moof brings the boxes back */
        return false;
    rs->state = size == 0 ? TO_END : IN_BOX;
    rs->box_left = size;
    return true;
}

static void at_box(mp4_resync *rs)
{
    fill_result got = fill(rs, HEADER_SIZE);
    if (got == FILL_OK && rb32(rs->buf + rs->pos) == 1)
        got = fill(rs, LARGE_HEADER_SIZE);
    if (got == FILL_END)
        rs->state = ENDED;
    else if (got == FILL_BREAK)
        lose_sync(rs, 0);
    else if (!take_box(rs))
        lose_sync(rs, 1);
}

static void scan(mp4_resync *rs)
{
    for (;;) {
        fill_result got = fill(rs, MOOF_START);
        if (got == FILL_END) {
            rs->state = ENDED;
            return;
        }
        if (got == FILL_OK && moof_starts(rs->buf + rs->pos)) {
            rs->state = AT_BOX;
            return;
        }
        if (got == FILL_OK)
            rs->pos++;
    }
}

static int read_packet(void *opaque, uint8_t *buf, int size)
{
    mp4_resync *rs = opaque;
    if (size <= 0)
        return AVERROR(EINVAL);
    while (!rs->no_memory) {
        if (rs->zeros_left > 0)
            return hand_out_zeros(rs, buf, size);
        int n = 0;
        switch (rs->state) {
        case AT_BOX:
            at_box(rs);
            break;
        case IN_BOX:
        case TO_END:
            n = hand_out(rs, buf, size);
            break;
        case SCANNING:
            scan(rs);
            break;
        case ENDED:
            return AVERROR_EOF;
        }
        if (n > 0)
            return n;
    }
    return AVERROR(ENOMEM);
}

/* ---- the interface ----------------------------------------------------------------------- */

typedef enum { SNIFF_NO, SNIFF_YES, SNIFF_MORE } sniff_result;

/* ftyp first, then a moov with an mvex among its children, all in the first SNIFF_SIZE
 * bytes; SNIFF_MORE while the len bytes there cannot tell. */
static sniff_result sniff(const uint8_t *p, size_t len)
{
    for (size_t at = 0; len - at >= HEADER_SIZE;) {
        uint32_t size = rb32(p + at), type = rb32(p + at + 4);
        if ((at == 0 && type != FTYP) || size < HEADER_SIZE || size > SNIFF_SIZE - at)
            return SNIFF_NO;
        if (size > len - at)
            return SNIFF_MORE;
        if (type == MOOV)
            return children_tile(p + at, size, 0, MVEX) ? SNIFF_YES : SNIFF_NO;
        at += size;
    }
    return SNIFF_MORE;
}

/* Reads no further than it must: usually the first read of chunk 0, which the rewound
 * stream then reads again from chunk_stream's piece, not from storage. */
bool mp4_resync_applies(chunk_stream *cs)
{
    uint8_t *head = malloc(SNIFF_SIZE);
    size_t len = 0;
    int64_t breaks = chunk_stream_breaks(cs);
    sniff_result found = SNIFF_MORE;
    while (head && found == SNIFF_MORE && len < SNIFF_SIZE) {
        int n = chunk_stream_read(cs, head + len, (int)(SNIFF_SIZE - len));
        if (n <= 0 || chunk_stream_breaks(cs) != breaks)
            break;
        len += (size_t)n;
        found = sniff(head, len);
    }
    free(head);
    chunk_stream_rewind(cs);
    return found == SNIFF_YES;
}

mp4_resync *mp4_resync_open(chunk_stream *cs)
{
    mp4_resync *rs = cs ? calloc(1, sizeof *rs) : NULL;
    if (!rs)
        return NULL;
    chunk_stream_rewind(cs);
    rs->cs = cs;
    rs->breaks = chunk_stream_breaks(cs);
    rs->state = AT_BOX;
    rs->in_sync = true;
    return rs;
}

AVIOContext *mp4_resync_avio(mp4_resync *rs)
{
    if (rs->avio)
        return rs->avio;
    uint8_t *buffer = av_malloc(AVIO_BUFFER_SIZE);
    if (!buffer)
        return NULL;
    rs->avio = avio_alloc_context(buffer, AVIO_BUFFER_SIZE, 0, rs, read_packet, NULL, NULL);
    if (!rs->avio) {
        av_free(buffer);
        return NULL;
    }
    return rs->avio;
}

int mp4_resync_chunk_at(const mp4_resync *rs, int64_t pos)
{
    if (pos < 0 || pos >= rs->out || rs->stretch_count == 0)
        return -1;
    int lo = 0, hi = rs->stretch_count - 1; /* the last stretch starting at or before pos */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (rs->stretches[mid].start <= pos)
            lo = mid;
        else
            hi = mid - 1;
    }
    const stretch *s = &rs->stretches[lo];
    return s->raw_start < 0 ? -1 : chunk_stream_chunk_at(rs->cs, s->raw_start + (pos - s->start));
}

int64_t mp4_resync_count(const mp4_resync *rs)
{
    return rs->resyncs;
}

void mp4_resync_close(mp4_resync *rs)
{
    if (!rs)
        return;
    if (rs->avio) {
        av_freep(&rs->avio->buffer); /* FFmpeg may have replaced the one given */
        avio_context_free(&rs->avio);
    }
    free(rs->buf);
    free(rs->stretches);
    free(rs);
}
