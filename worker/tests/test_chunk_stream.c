/* chunk_stream: a recording cut into chunks at arbitrary bytes, stored as a local storage
 * folder, demuxes through the AVIOContext exactly like the file it was cut from, and a
 * missing, damaged or truncated chunk is a gap, never a crash.
 *
 * The recordings are made here by the ffmpeg CLI (skipped, exit 77, without it): WebM
 * (VP8 + Opus, as Chrome and Firefox record), Matroska (H.264 + Opus, Chrome) and
 * fragmented MP4 (H.264 + AAC, Safari). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/avutil.h>

#include "chunk_stream.h"
#include "log.h"
#include "mp4_resync.h"
#include "storage/storage.h"
#include "storage/storage_local.h"

#define MAX_STREAMS 8
#define MAX_CHUNKS 16
#define MAX_CONSECUTIVE_ERRORS 1000 /* a demuxer that errors this often without a packet is stuck */
#define DURATION_S 6

static char dir[] = "/tmp/zencast-chunk-stream-XXXXXX";
static char objects[sizeof dir + 16];
static uv_loop_t loop;
static storage *store;

/* ---- small helpers ----------------------------------------------------------------------- */

/* splitmix64: the same "random" cuts on every run. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int compare_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static uint8_t *read_whole_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n)) &&
            fread(data, 1, (size_t)n, f) != (size_t)n) {
            free(data);
            data = NULL;
        }
        *size = n > 0 ? (size_t)n : 0;
    }
    fclose(f);
    return data;
}

static void write_whole_file(const char *path, const uint8_t *data, size_t size)
{
    assert_int_equal(storage_local_make_parents(path), 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* ---- the recordings ---------------------------------------------------------------------- */

typedef struct {
    int nb_streams;
    int64_t packets[MAX_STREAMS];
    int64_t total;
    uint64_t hash;   /* over every packet: stream, pts, dts, flags, size and data */
    int64_t errors;  /* av_read_frame failures other than EOF */
    bool eof;        /* the end was reached (not given up on) */
    double last_s;   /* the latest packet time seen */
} demux_result;

typedef struct {
    const char *name;
    const char *ext;
    const char *codecs; /* ffmpeg CLI options */
    char path[256];
    uint8_t *bytes;
    size_t size;
    demux_result plain; /* demuxed from the file itself */
} media;

static char opus_options[64];

static media MEDIA[] = {
    { .name = "webm", .ext = "webm", .codecs = "-c:v libvpx -deadline realtime -cpu-used 8 -b:v 500k" },
    { .name = "matroska", .ext = "mkv", .codecs = "-c:v libx264 -preset ultrafast -b:v 500k -pix_fmt yuv420p" },
    { .name = "fmp4",
      .ext = "mp4",
      .codecs = "-c:v libx264 -preset ultrafast -b:v 500k -pix_fmt yuv420p -c:a aac "
                "-movflags frag_keyframe+empty_moov+default_base_moof" },
};
#define MEDIA_COUNT ((int)(sizeof MEDIA / sizeof MEDIA[0]))

static bool ffmpeg_has_encoder(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ffmpeg -hide_banner -encoders 2>/dev/null | grep -qw %s", name);
    return system(cmd) == 0;
}

static int make_recording(media *m)
{
    char cmd[1024];
    snprintf(m->path, sizeof m->path, "%s/source.%s", dir, m->ext);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -hide_banner -loglevel error -y "
             "-f lavfi -i testsrc2=size=320x240:rate=30:duration=%d "
             "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=%d "
             "-g 30 %s %s %s",
             DURATION_S, DURATION_S, opus_options, m->codecs, m->path);
    if (system(cmd) != 0) {
        fprintf(stderr, "failed: %s\n", cmd);
        return -1;
    }
    m->bytes = read_whole_file(m->path, &m->size);
    return m->bytes ? 0 : -1;
}

typedef void (*packet_fn)(const AVPacket *pkt, void *ctx);

/* Demuxes everything, as the worker would: errors other than EOF are counted and
 * skipped; on_packet (if any) sees every packet. pb NULL: the file at path. 0, or the error
 * of avformat_open_input. */
static int demux_with(const char *path, AVIOContext *pb, demux_result *r, packet_fn on_packet, void *ctx)
{
    memset(r, 0, sizeof *r);
    r->hash = 0xcbf29ce484222325ULL;

    AVFormatContext *ic = NULL;
    if (pb) {
        ic = avformat_alloc_context();
        assert_non_null(ic);
        ic->pb = pb;
        ic->flags |= AVFMT_FLAG_CUSTOM_IO;
    }
    int ret = avformat_open_input(&ic, pb ? NULL : path, NULL, NULL);
    if (ret < 0)
        return ret; /* ic is freed, pb is not */
    ret = avformat_find_stream_info(ic, NULL);
    assert_true(ret >= 0);
    assert_true(ic->nb_streams <= MAX_STREAMS);
    r->nb_streams = (int)ic->nb_streams;

    AVPacket *pkt = av_packet_alloc();
    assert_non_null(pkt);
    int consecutive_errors = 0;
    for (;;) {
        ret = av_read_frame(ic, pkt);
        if (ret == AVERROR_EOF) {
            r->eof = true;
            break;
        }
        if (ret < 0) {
            r->errors++;
            if (avio_feof(ic->pb)) { /* failed on the last bytes: that is the end */
                r->eof = true;
                break;
            }
            if (++consecutive_errors > MAX_CONSECUTIVE_ERRORS)
                break;
            continue;
        }
        consecutive_errors = 0;
        assert_true(pkt->stream_index >= 0 && pkt->stream_index < r->nb_streams);
        r->packets[pkt->stream_index]++;
        r->total++;
        if (on_packet)
            on_packet(pkt, ctx);
        int64_t fields[4] = { pkt->stream_index, pkt->pts, pkt->dts, pkt->flags };
        r->hash = fnv1a(r->hash, fields, sizeof fields);
        r->hash = fnv1a(r->hash, &pkt->size, sizeof pkt->size);
        r->hash = fnv1a(r->hash, pkt->data, (size_t)pkt->size);
        if (pkt->pts != AV_NOPTS_VALUE) {
            double t = (double)pkt->pts * av_q2d(ic->streams[pkt->stream_index]->time_base);
            if (t > r->last_s)
                r->last_s = t;
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&ic);
    return 0;
}

static int demux(const char *path, AVIOContext *pb, demux_result *r)
{
    return demux_with(path, pb, r, NULL, NULL);
}

/* ---- a recording laid out as chunks in storage ------------------------------------------- */

typedef struct {
    int count;
    char keys[MAX_CHUNKS][STORAGE_KEY_MAX];
    char paths[MAX_CHUNKS][1024];
    int64_t sizes[MAX_CHUNKS];
    chunk_ref refs[MAX_CHUNKS];
} layout;

/* m cut at cuts[0] = 0 < cuts[1] < ... < cuts[count] = its size, as chunks under
 * recordings/r/<participant>/t/. */
static void layout_write(layout *l, const media *m, const char *participant, const int64_t *cuts, int count,
                         bool sizes_known)
{
    memset(l, 0, sizeof *l);
    assert_true(count <= MAX_CHUNKS);
    l->count = count;
    for (int i = 0; i < count; i++) {
        assert_true(cuts[i] < cuts[i + 1] && cuts[i + 1] <= (int64_t)m->size);
        snprintf(l->keys[i], sizeof l->keys[i], "recordings/r/%s/t/%d.%s", participant, i, m->ext);
        snprintf(l->paths[i], sizeof l->paths[i], "%s/%s", objects, l->keys[i]);
        l->sizes[i] = cuts[i + 1] - cuts[i];
        write_whole_file(l->paths[i], m->bytes + cuts[i], (size_t)l->sizes[i]);
        l->refs[i].key = l->keys[i];
        l->refs[i].size = sizes_known ? l->sizes[i] : 0;
    }
    assert_int_equal(cuts[count], (int64_t)m->size);
}

/* Cuts m at pseudo-random bytes into pieces (0: 5 to 9) under recordings/r/<participant>/t/:
 * the first piece small, as the header chunk is, so that the others start mid-frame. */
static void layout_make(layout *l, const media *m, const char *participant, int pieces, bool sizes_known,
                        uint64_t seed)
{
    int count = pieces > 0 ? pieces : 5 + (int)(next_random(&seed) % 5);
    assert_true(count <= MAX_CHUNKS);
    assert_true(m->size > 64 * (size_t)MAX_CHUNKS);

    int64_t cuts[MAX_CHUNKS + 1];
    cuts[0] = 0;
    cuts[1] = 64 + (int64_t)(next_random(&seed) % 1500);
    for (int i = 2; i < count; i++)
        cuts[i] = cuts[1] + 1 + (int64_t)(next_random(&seed) % (m->size - (size_t)cuts[1] - 1));
    cuts[count] = (int64_t)m->size;
    qsort(cuts + 2, (size_t)(count - 2), sizeof cuts[0], compare_int64);
    for (int i = 0; i < count; i++)
        if (cuts[i + 1] <= cuts[i]) /* two equal cuts: move this one a byte on */
            cuts[i + 1] = cuts[i] + 1;
    layout_write(l, m, participant, cuts, count, sizes_known);
}

static chunk_stream *layout_open(const layout *l)
{
    chunk_stream *cs = chunk_stream_open(store, l->refs, l->count);
    assert_non_null(cs);
    assert_non_null(chunk_stream_avio(cs));
    return cs;
}

/* The AVIOContext the worker demuxes cs through: the repaired stream (*rs) for a fragmented
 * MP4, cs's own otherwise (*rs NULL). */
static AVIOContext *worker_avio(chunk_stream *cs, mp4_resync **rs)
{
    *rs = mp4_resync_applies(cs) ? mp4_resync_open(cs) : NULL;
    AVIOContext *pb = *rs ? mp4_resync_avio(*rs) : chunk_stream_avio(cs);
    assert_non_null(pb);
    return pb;
}

static void assert_same_packets(const demux_result *got, const demux_result *want)
{
    assert_true(got->eof);
    assert_int_equal(got->errors, 0);
    assert_int_equal(got->nb_streams, want->nb_streams);
    for (int i = 0; i < want->nb_streams; i++)
        assert_int_equal(got->packets[i], want->packets[i]);
    assert_int_equal(got->hash, want->hash);
}

/* ---- through the AVIOContext, the chunks are the file ------------------------------------ */

static void check_intact(const media *m, const char *participant, bool sizes_known, uint64_t seed)
{
    layout l;
    layout_make(&l, m, participant, 0, sizes_known, seed);
    chunk_stream *cs = layout_open(&l);
    demux_result r;
    assert_int_equal(demux(NULL, chunk_stream_avio(cs), &r), 0);
    assert_same_packets(&r, &m->plain);
    assert_int_equal(chunk_stream_missing(cs), 0);
    chunk_stream_close(cs);
}

static void test_intact_seekable(void **state)
{
    const media *m = *state;
    char participant[64];
    snprintf(participant, sizeof participant, "%s-intact", m->name);
    check_intact(m, participant, true, 1);
}

static void test_intact_sizes_unknown(void **state)
{
    const media *m = *state;
    char participant[64];
    snprintf(participant, sizeof participant, "%s-unknown", m->name);
    check_intact(m, participant, false, 2);
}

/* Byte for byte, with pieces bigger than one read_range, and seeks anywhere. */
static void test_bytes_and_seeks(void **state)
{
    const media *m = *state;
    char participant[64];
    snprintf(participant, sizeof participant, "%s-bytes", m->name);
    layout l;
    layout_make(&l, m, participant, 2, true, 3);
    assert_true(l.sizes[1] > 256 * 1024); /* more than one read_range */
    chunk_stream *cs = layout_open(&l);
    AVIOContext *pb = chunk_stream_avio(cs);
    assert_true(pb->seekable & AVIO_SEEKABLE_NORMAL);
    assert_int_equal(avio_size(pb), (int64_t)m->size);

    uint8_t *buf = malloc(m->size + 1);
    assert_non_null(buf);
    assert_int_equal(avio_read(pb, buf, (int)m->size + 1), (int)m->size);
    assert_memory_equal(buf, m->bytes, m->size);
    assert_true(avio_feof(pb));

    uint64_t seed = 4;
    for (int i = 0; i < 40; i++) {
        int64_t at = (int64_t)(next_random(&seed) % m->size);
        int len = 1 + (int)(next_random(&seed) % (300 * 1024));
        if ((int64_t)len > (int64_t)m->size - at)
            len = (int)((int64_t)m->size - at);
        assert_int_equal(avio_seek(pb, at, SEEK_SET), at);
        assert_int_equal(avio_read(pb, buf, len), len);
        assert_memory_equal(buf, m->bytes + at, (size_t)len);
        assert_int_equal(avio_tell(pb), at + len);
    }
    assert_true(avio_seek(pb, (int64_t)m->size + 1, SEEK_SET) < 0);
    free(buf);
    assert_int_equal(chunk_stream_missing(cs), 0);
    chunk_stream_close(cs);
}

/* The callbacks themselves: SEEK_CUR and SEEK_END are never asked by avio_seek. */
static void test_seek_callback(void **state)
{
    const media *m = *state;
    char participant[64];
    snprintf(participant, sizeof participant, "%s-callback", m->name);
    layout l;
    layout_make(&l, m, participant, 0, true, 5);
    chunk_stream *cs = layout_open(&l);
    AVIOContext *pb = chunk_stream_avio(cs);
    int64_t size = (int64_t)m->size;
    uint8_t buf[4096];

    assert_int_equal(pb->seek(pb->opaque, 0, AVSEEK_SIZE), size);
    assert_int_equal(pb->seek(pb->opaque, -100, SEEK_END), size - 100);
    assert_int_equal(pb->read_packet(pb->opaque, buf, 40), 40); /* 100 bytes from the end: in the last chunk */
    assert_memory_equal(buf, m->bytes + size - 100, 40);
    assert_int_equal(pb->seek(pb->opaque, -1000, SEEK_CUR), size - 1060);
    int n = pb->read_packet(pb->opaque, buf, sizeof buf);
    assert_true(n > 0 && n <= 1060);
    assert_memory_equal(buf, m->bytes + size - 1060, (size_t)n);
    /* Exactly at a chunk boundary, and the end. */
    assert_int_equal(pb->seek(pb->opaque, l.sizes[0], SEEK_SET), l.sizes[0]);
    assert_int_equal(pb->read_packet(pb->opaque, buf, 16), 16);
    assert_memory_equal(buf, m->bytes + l.sizes[0], 16);
    assert_int_equal(pb->seek(pb->opaque, 0, SEEK_END | AVSEEK_FORCE), size);
    assert_int_equal(pb->read_packet(pb->opaque, buf, sizeof buf), AVERROR_EOF);
    assert_true(pb->seek(pb->opaque, 1, SEEK_END) < 0);
    assert_true(pb->seek(pb->opaque, -size - 1, SEEK_END) < 0);
    assert_int_equal(pb->seek(pb->opaque, -size, SEEK_END), 0);
    chunk_stream_close(cs);
}

static void test_sizes_unknown_not_seekable(void **state)
{
    const media *m = *state;
    char participant[64];
    snprintf(participant, sizeof participant, "%s-noseek", m->name);
    layout l;
    layout_make(&l, m, participant, 0, true, 6);
    l.refs[l.count - 1].size = 0; /* one unknown size is enough */
    chunk_stream *cs = layout_open(&l);
    AVIOContext *pb = chunk_stream_avio(cs);
    assert_false(pb->seekable & AVIO_SEEKABLE_NORMAL);
    assert_true(avio_size(pb) < 0);
    uint8_t *buf = malloc(m->size);
    assert_non_null(buf);
    assert_int_equal(avio_read(pb, buf, (int)m->size), (int)m->size);
    assert_memory_equal(buf, m->bytes, m->size);
    assert_int_equal(avio_read(pb, buf, 1), AVERROR_EOF);
    free(buf);
    chunk_stream_close(cs);
}

/* ---- gaps -------------------------------------------------------------------------------- */

/* The media after a gap is there, at its own time: the last packet's as in the file. */
static void assert_media_after_gap(const media *m, const demux_result *r)
{
    assert_true(r->last_s > DURATION_S - 1);
    assert_true(fabs(r->last_s - m->plain.last_s) < 0.001);
}

/* Matroska resyncs on the next cluster; a fragmented MP4 goes on from the next moof. */
static void test_missing_middle_chunk(void **state)
{
    const media *m = *state;
    char participant[64];
    snprintf(participant, sizeof participant, "%s-missing", m->name);
    for (int known = 0; known <= 1; known++) {
        layout l;
        layout_make(&l, m, participant, 0, known, 7 + (uint64_t)known);
        int gone = l.count / 2;
        assert_int_equal(unlink(l.paths[gone]), 0);
        chunk_stream *cs = layout_open(&l);
        mp4_resync *rs;
        demux_result r;
        assert_int_equal(demux(NULL, worker_avio(cs, &rs), &r), 0);
        print_message("%s, sizes %s: chunk %d of %d missing: %lld of %lld packets, %lld errors, up to %.2f s%s\n",
                      m->name, known ? "known" : "unknown", gone, l.count, (long long)r.total,
                      (long long)m->plain.total, (long long)r.errors, r.last_s, r.eof ? "" : ", gave up");
        assert_true(r.eof);
        assert_true(r.total > 0 && r.total < m->plain.total);
        assert_media_after_gap(m, &r);
        assert_int_equal(chunk_stream_missing(cs), 1);
        if (rs)
            assert_int_equal(mp4_resync_count(rs), 1);
        mp4_resync_close(rs);
        chunk_stream_close(cs);
    }
}

static void test_garbage_chunk(void **state)
{
    const media *m = *state;
    char participant[64];
    snprintf(participant, sizeof participant, "%s-garbage", m->name);
    layout l;
    layout_make(&l, m, participant, 0, true, 9);
    int bad = l.count / 2;
    uint8_t *junk = malloc((size_t)l.sizes[bad]);
    assert_non_null(junk);
    uint64_t seed = 10;
    for (int64_t i = 0; i < l.sizes[bad]; i++)
        junk[i] = (uint8_t)next_random(&seed);
    write_whole_file(l.paths[bad], junk, (size_t)l.sizes[bad]);
    free(junk);

    chunk_stream *cs = layout_open(&l);
    mp4_resync *rs;
    demux_result r;
    assert_int_equal(demux(NULL, worker_avio(cs, &rs), &r), 0);
    print_message("%s: chunk %d of %d garbage: %lld of %lld packets, %lld errors, up to %.2f s\n", m->name, bad,
                  l.count, (long long)r.total, (long long)m->plain.total, (long long)r.errors, r.last_s);
    assert_true(r.eof);
    assert_true(r.total > 0);
    if (rs) /* Matroska does not always find its way back through garbage: not asserted */
        assert_media_after_gap(m, &r);
    assert_int_equal(chunk_stream_missing(cs), 0);
    mp4_resync_close(rs);
    chunk_stream_close(cs);
}

static void test_truncated_last_chunk(void **state)
{
    const media *m = *state;
    char participant[64];
    snprintf(participant, sizeof participant, "%s-truncated", m->name);
    layout l;
    layout_make(&l, m, participant, 0, true, 11);
    int last = l.count - 1;
    assert_int_equal(truncate(l.paths[last], l.sizes[last] / 2), 0);

    chunk_stream *cs = layout_open(&l);
    demux_result r;
    assert_int_equal(demux(NULL, chunk_stream_avio(cs), &r), 0);
    print_message("%s: last chunk half there: %lld of %lld packets, %lld errors, up to %.2f s\n", m->name,
                  (long long)r.total, (long long)m->plain.total, (long long)r.errors, r.last_s);
    assert_true(r.eof);
    assert_true(r.total > 0 && r.total <= m->plain.total);
    assert_int_equal(chunk_stream_missing(cs), 0);
    chunk_stream_close(cs);
}

/* chunk_stream_read gives the bytes the AVIOContext would; a lost chunk is a break each
 * time the reading passes it, after a rewind too. */
static void test_read_breaks_rewind(void **state)
{
    const media *m = *state;
    char participant[64];
    snprintf(participant, sizeof participant, "%s-breaks", m->name);
    layout l;
    layout_make(&l, m, participant, 0, true, 13);
    int gone = l.count / 2;
    assert_int_equal(unlink(l.paths[gone]), 0);
    int64_t before = 0;
    for (int i = 0; i < gone; i++)
        before += l.sizes[i];
    size_t want = m->size - (size_t)l.sizes[gone];
    uint8_t *buf = malloc(m->size);
    assert_non_null(buf);
    chunk_stream *cs = layout_open(&l);
    for (int pass = 1; pass <= 2; pass++) {
        size_t got = 0;
        int64_t breaks_at = -1; /* where the count went up */
        for (int n; (n = chunk_stream_read(cs, buf + got, 4096)) > 0; got += (size_t)n)
            if (breaks_at < 0 && chunk_stream_breaks(cs) == pass)
                breaks_at = (int64_t)got;
        assert_int_equal(got, want);
        assert_memory_equal(buf, m->bytes, (size_t)before);
        assert_memory_equal(buf + before, m->bytes + before + l.sizes[gone], want - (size_t)before);
        assert_int_equal(breaks_at, before);
        assert_int_equal(chunk_stream_breaks(cs), pass);
        assert_int_equal(chunk_stream_missing(cs), 1);
        chunk_stream_rewind(cs);
    }
    free(buf);
    chunk_stream_close(cs);
}

/* ---- a fragmented MP4 resynced (mp4_resync) ---------------------------------------------- */

#define FMP4 (&MEDIA[2])

static uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The top-level box of type tag at or after from, -1 when none. */
static int64_t find_box(const media *m, const char *tag, int64_t from)
{
    for (int64_t at = 0; at + 8 <= (int64_t)m->size; at += read_be32(m->bytes + at)) {
        assert_true(read_be32(m->bytes + at) >= 8);
        if (at >= from && memcmp(m->bytes + at + 4, tag, 4) == 0)
            return at;
    }
    return -1;
}

/* Only a fragmented MP4: not WebM or Matroska, nor an MP4 whose moov has no mvex. Either
 * way the stream is rewound. */
static void test_resync_applies(void **state)
{
    const media *m = *state;
    char participant[64];
    snprintf(participant, sizeof participant, "%s-applies", m->name);
    layout l;
    layout_make(&l, m, participant, 0, true, 12);
    chunk_stream *cs = layout_open(&l);
    assert_int_equal(mp4_resync_applies(cs), strcmp(m->ext, "mp4") == 0);
    demux_result r;
    assert_int_equal(demux(NULL, chunk_stream_avio(cs), &r), 0);
    assert_same_packets(&r, &m->plain);
    chunk_stream_close(cs);
    if (strcmp(m->ext, "mp4") != 0)
        return;

    media plain = *m; /* the same with its mvex renamed: not a fragmented MP4 */
    plain.bytes = malloc(m->size);
    assert_non_null(plain.bytes);
    memcpy(plain.bytes, m->bytes, m->size);
    uint8_t *mvex = memmem(plain.bytes, plain.size, "mvex", 4);
    assert_non_null(mvex);
    mvex[3] = 'z';
    layout_make(&l, &plain, "fmp4-no-mvex", 0, true, 12);
    cs = layout_open(&l);
    assert_false(mp4_resync_applies(cs));
    chunk_stream_close(cs);
    free(plain.bytes);
}

typedef struct {
    mp4_resync *rs;
    const layout *l;
    int gone; /* the chunk left out of the repaired stream, -1 none */
    int64_t checked;
} chunk_check;

/* pkt's chunk as told by the repaired stream is the one it came from. */
static void check_chunk_at(const AVPacket *pkt, void *ctx)
{
    chunk_check *c = ctx;
    int64_t pos = pkt->pos;
    int want = -1;
    for (int i = 0; i < c->l->count && want < 0; i++) {
        if (i == c->gone)
            continue;
        if (pos < c->l->sizes[i])
            want = i;
        pos -= c->l->sizes[i];
    }
    assert_int_equal(mp4_resync_chunk_at(c->rs, pkt->pos), want);
    c->checked++;
}

/* Nothing lost: the repaired stream is the stream itself. */
static void test_resync_intact(void **state)
{
    (void)state;
    for (int known = 0; known <= 1; known++) {
        layout l;
        layout_make(&l, FMP4, known ? "fmp4-resync-known" : "fmp4-resync-unknown", 0, known, 14);
        chunk_stream *cs = layout_open(&l);
        mp4_resync *rs;
        demux_result r;
        chunk_check check = { .l = &l, .gone = -1 };
        AVIOContext *pb = worker_avio(cs, &rs);
        assert_non_null(rs);
        assert_false(pb->seekable & AVIO_SEEKABLE_NORMAL);
        check.rs = known ? rs : NULL;
        assert_int_equal(demux_with(NULL, pb, &r, known ? check_chunk_at : NULL, &check), 0);
        assert_same_packets(&r, &FMP4->plain);
        assert_int_equal(check.checked, known ? r.total : 0);
        assert_int_equal(mp4_resync_count(rs), 0);
        if (!known)
            assert_int_equal(mp4_resync_chunk_at(rs, 100), -1);
        mp4_resync_close(rs);
        chunk_stream_close(cs);
    }
}

/* A middle chunk shorter than its declared size (half uploaded): a break like a lost one. */
static void test_resync_short_chunk(void **state)
{
    (void)state;
    layout l;
    layout_make(&l, FMP4, "fmp4-short", 0, true, 16);
    int cut = l.count / 2;
    assert_int_equal(truncate(l.paths[cut], l.sizes[cut] / 2), 0);
    chunk_stream *cs = layout_open(&l);
    mp4_resync *rs;
    demux_result r;
    assert_int_equal(demux(NULL, worker_avio(cs, &rs), &r), 0);
    print_message("chunk %d of %d half there: %lld of %lld packets, up to %.2f s\n", cut, l.count, (long long)r.total,
                  (long long)FMP4->plain.total, r.last_s);
    assert_true(r.eof);
    assert_true(r.total <= FMP4->plain.total); /* a cut mdat's samples are there, as zeros */
    assert_media_after_gap(FMP4, &r);
    assert_int_equal(mp4_resync_count(rs), 1);
    assert_int_equal(chunk_stream_missing(cs), 0);
    mp4_resync_close(rs);
    chunk_stream_close(cs);
}

/* Cut as Safari's MediaRecorder cuts: the init segment, then one fragment (moof + mdat) a
 * chunk. A fragment lost or garbage: the rest is exactly the file without that fragment,
 * packet for packet and each at its time, and the packets' chunks are told right. */
static void test_resync_fragment_lost(void **state)
{
    (void)state;
    const media *m = FMP4;
    int64_t cuts[MAX_CHUNKS + 1];
    int count = 0;
    for (int64_t at = 0; count < MAX_CHUNKS && at >= 0; at = find_box(m, "moof", at + 1))
        cuts[count++] = at;
    cuts[count] = (int64_t)m->size;
    assert_true(count >= 5);
    const int gone = count / 2;

    char path[512]; /* the file without that fragment */
    snprintf(path, sizeof path, "%s/without.mp4", dir);
    uint8_t *without = malloc(m->size);
    assert_non_null(without);
    memcpy(without, m->bytes, (size_t)cuts[gone]);
    memcpy(without + cuts[gone], m->bytes + cuts[gone + 1], m->size - (size_t)cuts[gone + 1]);
    write_whole_file(path, without, m->size - (size_t)(cuts[gone + 1] - cuts[gone]));
    free(without);
    demux_result want;
    assert_int_equal(demux(path, NULL, &want), 0);
    assert_true(want.total < m->plain.total && want.last_s == m->plain.last_s);

    for (int garbage = 0; garbage <= 1; garbage++) {
        layout l;
        layout_write(&l, m, garbage ? "fmp4-fragment-garbage" : "fmp4-fragment-gone", cuts, count, true);
        if (garbage) {
            uint8_t *junk = malloc((size_t)l.sizes[gone]);
            assert_non_null(junk);
            uint64_t seed = 15;
            for (int64_t i = 0; i < l.sizes[gone]; i++)
                junk[i] = (uint8_t)next_random(&seed);
            write_whole_file(l.paths[gone], junk, (size_t)l.sizes[gone]);
            free(junk);
        } else {
            assert_int_equal(unlink(l.paths[gone]), 0);
        }
        chunk_stream *cs = layout_open(&l);
        mp4_resync *rs;
        AVIOContext *pb = worker_avio(cs, &rs);
        assert_non_null(rs);
        chunk_check check = { .rs = rs, .l = &l, .gone = gone };
        demux_result r;
        assert_int_equal(demux_with(NULL, pb, &r, check_chunk_at, &check), 0);
        print_message("fragment %d of %d %s: %lld of %lld packets, up to %.2f s\n", gone, count,
                      garbage ? "garbage" : "gone", (long long)r.total, (long long)m->plain.total, r.last_s);
        assert_same_packets(&r, &want);
        assert_int_equal(mp4_resync_count(rs), 1);
        assert_int_equal(chunk_stream_missing(cs), garbage ? 0 : 1);
        mp4_resync_close(rs);
        chunk_stream_close(cs);
    }
}

/* ---- edges ------------------------------------------------------------------------------- */

static void test_edges(void **state)
{
    (void)state;
    uint8_t buf[16];

    /* No chunks: an empty stream. */
    chunk_stream *cs = chunk_stream_open(store, NULL, 0);
    assert_non_null(cs);
    AVIOContext *pb = chunk_stream_avio(cs);
    assert_non_null(pb);
    assert_ptr_equal(chunk_stream_avio(cs), pb);
    assert_int_equal(avio_read(pb, buf, sizeof buf), AVERROR_EOF);
    chunk_stream_close(cs);

    /* Nothing there at all: the demuxer fails to open, every chunk is counted. */
    chunk_ref gone[] = { { "recordings/r/nobody/t/0.webm", 100 }, { "recordings/r/nobody/t/1.webm", 0 },
                         { "recordings/r/nobody/t/2.webm", 0 } };
    cs = chunk_stream_open(store, gone, 3);
    assert_non_null(cs);
    demux_result r;
    assert_true(demux(NULL, chunk_stream_avio(cs), &r) < 0);
    assert_int_equal(chunk_stream_missing(cs), 3);
    chunk_stream_close(cs);

    /* A key storage refuses is a storage error: skipped and counted like a missing one. */
    chunk_ref bad[] = { { "../escape", 0 } };
    cs = chunk_stream_open(store, bad, 1);
    assert_non_null(cs);
    assert_int_equal(avio_read(chunk_stream_avio(cs), buf, sizeof buf), AVERROR_EOF);
    assert_int_equal(chunk_stream_missing(cs), 1);
    chunk_stream_close(cs);

    /* Bad arguments. */
    chunk_ref negative[] = { { "recordings/r/x/t/0.webm", -1 } };
    chunk_ref no_key[] = { { NULL, 10 } };
    assert_null(chunk_stream_open(NULL, gone, 1));
    assert_null(chunk_stream_open(store, NULL, 1));
    assert_null(chunk_stream_open(store, gone, -1));
    assert_null(chunk_stream_open(store, negative, 1));
    assert_null(chunk_stream_open(store, no_key, 1));
    chunk_stream_close(NULL);
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
    for (int i = 0; i < MEDIA_COUNT; i++) {
        media *m = &MEDIA[i];
        if (make_recording(m) < 0 || demux(m->path, NULL, &m->plain) < 0 || !m->plain.eof ||
            m->plain.errors != 0 || m->plain.nb_streams != 2) {
            fprintf(stderr, "%s: could not make or read %s\n", m->name, m->path);
            return -1;
        }
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < MEDIA_COUNT; i++)
        free(MEDIA[i].bytes);
    if (store)
        store->backend->close(store);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

#define FOR_EACH_MEDIA(test)                                                                           \
    cmocka_unit_test_prestate(test, &MEDIA[0]), cmocka_unit_test_prestate(test, &MEDIA[1]),          \
        cmocka_unit_test_prestate(test, &MEDIA[2])

int main(void)
{
    if (system("ffmpeg -version >/dev/null 2>&1") != 0 || !ffmpeg_has_encoder("libvpx") ||
        !ffmpeg_has_encoder("libx264")) {
        fprintf(stderr, "skipped: the ffmpeg CLI with libvpx and libx264 is needed\n");
        return 77;
    }
    /* Chrome's Opus is libopus; FFmpeg's own encoder is the fallback. */
    snprintf(opus_options, sizeof opus_options, "%s",
             ffmpeg_has_encoder("libopus") ? "-c:a libopus -b:a 64k" : "-c:a opus -strict -2 -b:a 64k");
    av_log_set_level(AV_LOG_QUIET); /* the damaged chunks are meant to make the demuxers complain */
    /* chunk_stream's own warnings name the chunks skipped. (This call also links log.c, which
     * libzencast_worker uses but the test would otherwise not pull from libzencast_core.) */
    log_set_level(LOG_WARN);

    const struct CMUnitTest tests[] = {
        FOR_EACH_MEDIA(test_intact_seekable),
        FOR_EACH_MEDIA(test_intact_sizes_unknown),
        FOR_EACH_MEDIA(test_bytes_and_seeks),
        FOR_EACH_MEDIA(test_seek_callback),
        FOR_EACH_MEDIA(test_sizes_unknown_not_seekable),
        FOR_EACH_MEDIA(test_missing_middle_chunk),
        FOR_EACH_MEDIA(test_garbage_chunk),
        FOR_EACH_MEDIA(test_truncated_last_chunk),
        FOR_EACH_MEDIA(test_read_breaks_rewind),
        FOR_EACH_MEDIA(test_resync_applies),
        cmocka_unit_test(test_resync_intact),
        cmocka_unit_test(test_resync_short_chunk),
        cmocka_unit_test(test_resync_fragment_lost),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
