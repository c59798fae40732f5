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

/* Demuxes everything, as the worker would: errors other than EOF are counted and
 * skipped. pb NULL: the file at path. 0, or the error of avformat_open_input. */
static int demux(const char *path, AVIOContext *pb, demux_result *r)
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

/* ---- a recording laid out as chunks in storage ------------------------------------------- */

typedef struct {
    int count;
    char keys[MAX_CHUNKS][STORAGE_KEY_MAX];
    char paths[MAX_CHUNKS][1024];
    int64_t sizes[MAX_CHUNKS];
    chunk_ref refs[MAX_CHUNKS];
} layout;

/* Cuts m at pseudo-random bytes into pieces (0: 5 to 9) under recordings/r/<participant>/t/:
 * the first piece small, as the header chunk is, so that the others start mid-frame. */
static void layout_make(layout *l, const media *m, const char *participant, int pieces, bool sizes_known,
                        uint64_t seed)
{
    memset(l, 0, sizeof *l);
    l->count = pieces > 0 ? pieces : 5 + (int)(next_random(&seed) % 5);
    assert_true(l->count <= MAX_CHUNKS);
    assert_true(m->size > 64 * (size_t)MAX_CHUNKS);

    int64_t cuts[MAX_CHUNKS + 1];
    cuts[0] = 0;
    cuts[1] = 64 + (int64_t)(next_random(&seed) % 1500);
    for (int i = 2; i < l->count; i++)
        cuts[i] = cuts[1] + 1 + (int64_t)(next_random(&seed) % (m->size - (size_t)cuts[1] - 1));
    cuts[l->count] = (int64_t)m->size;
    qsort(cuts + 2, (size_t)(l->count - 2), sizeof cuts[0], compare_int64);

    for (int i = 0; i < l->count; i++) {
        if (cuts[i + 1] <= cuts[i]) /* two equal cuts: move this one a byte on */
            cuts[i + 1] = cuts[i] + 1;
        assert_true(cuts[i + 1] <= (int64_t)m->size);
        snprintf(l->keys[i], sizeof l->keys[i], "recordings/r/%s/t/%d.%s", participant, i, m->ext);
        snprintf(l->paths[i], sizeof l->paths[i], "%s/%s", objects, l->keys[i]);
        l->sizes[i] = cuts[i + 1] - cuts[i];
        write_whole_file(l->paths[i], m->bytes + cuts[i], (size_t)l->sizes[i]);
        l->refs[i].key = l->keys[i];
        l->refs[i].size = sizes_known ? l->sizes[i] : 0;
    }
    assert_int_equal(cuts[l->count], (int64_t)m->size);
}

static chunk_stream *layout_open(const layout *l)
{
    chunk_stream *cs = chunk_stream_open(store, l->refs, l->count);
    assert_non_null(cs);
    assert_non_null(chunk_stream_avio(cs));
    return cs;
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
        demux_result r;
        assert_int_equal(demux(NULL, chunk_stream_avio(cs), &r), 0);
        print_message("%s, sizes %s: chunk %d of %d missing: %lld of %lld packets, %lld errors, up to %.2f s%s\n",
                      m->name, known ? "known" : "unknown", gone, l.count, (long long)r.total,
                      (long long)m->plain.total, (long long)r.errors, r.last_s, r.eof ? "" : ", gave up");
        assert_true(r.eof);
        assert_true(r.total > 0 && r.total < m->plain.total);
        /* Matroska resyncs on the next cluster: the packets after the gap are there. */
        if (strcmp(m->ext, "mp4") != 0)
            assert_true(r.last_s > DURATION_S - 1);
        assert_int_equal(chunk_stream_missing(cs), 1);
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
    demux_result r;
    assert_int_equal(demux(NULL, chunk_stream_avio(cs), &r), 0);
    print_message("%s: chunk %d of %d garbage: %lld of %lld packets, %lld errors, up to %.2f s\n", m->name, bad,
                  l.count, (long long)r.total, (long long)m->plain.total, (long long)r.errors, r.last_s);
    assert_true(r.eof);
    assert_true(r.total > 0);
    assert_int_equal(chunk_stream_missing(cs), 0);
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
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
