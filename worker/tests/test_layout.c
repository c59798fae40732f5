/* layout: the embedded layouts load, and place every count they accept inside the frame, on
 * even pixels, without overlaps, the way the layout promises (grid rows centred, the speaker
 * on the stage, side-by-side halves), at 720p and 1080p. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

#define MAX_TILES 16

typedef struct {
    int width, height;
    int gap; /* the grid's 8 px at 720p, scaled */
} frame;

static const frame FRAMES[] = { { 1280, 720, 8 }, { 1920, 1080, 12 } };
#define FRAME_COUNT ((int)(sizeof FRAMES / sizeof FRAMES[0]))

/* Frames of other shapes and sizes: only the general rules are checked there. */
static const frame ODD_FRAMES[] = { { 640, 360, 4 }, { 1080, 1920, 12 }, { 1000, 1000, 12 }, { 854, 480, 6 } };
#define ODD_FRAME_COUNT ((int)(sizeof ODD_FRAMES / sizeof ODD_FRAMES[0]))

static layout *load(const char *name)
{
    char err[256] = "";
    layout *l = layout_load(name, err, sizeof err);
    if (!l)
        fail_msg("layout %s: %s", name, err);
    return l;
}

static bool overlap(layout_rect a, layout_rect b)
{
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

static int area(layout_rect r)
{
    return r.w * r.h;
}

/* Every layout's promises: shown, even, inside, apart. */
static void check_rects(const layout_rect *r, int n, int width, int height)
{
    for (int i = 0; i < n; i++) {
        assert_true(r[i].w > 0 && r[i].h > 0);
        assert_int_equal(r[i].x % 2, 0);
        assert_int_equal(r[i].y % 2, 0);
        assert_int_equal(r[i].w % 2, 0);
        assert_int_equal(r[i].h % 2, 0);
        assert_true(r[i].x >= 0 && r[i].y >= 0);
        assert_true(r[i].x + r[i].w <= width && r[i].y + r[i].h <= height);
        for (int j = 0; j < i; j++)
            if (overlap(r[i], r[j]))
                fail_msg("tiles %d and %d overlap (%d participants, %dx%d)", j, i, n, width, height);
    }
}

/* 16:9 within the rounding to even pixels. */
static void check_16_9(layout_rect r)
{
    double ideal_h = r.w * 9.0 / 16.0;
    if (r.h < ideal_h - 2.0 || r.h > ideal_h + 2.0)
        fail_msg("%dx%d is not 16:9", r.w, r.h);
}

static void check_full_frame(layout_rect r, int width, int height)
{
    assert_int_equal(r.x, 0);
    assert_int_equal(r.y, 0);
    assert_int_equal(r.w, width);
    assert_int_equal(r.h, height);
}

/* ---- loading ------------------------------------------------------------------------------ */

static void test_every_layout_loads(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool follows_speaker;
        int max;
    } expected[] = { { "grid", false, 9 }, { "speaker", true, 9 }, { "side-by-side", false, 2 } };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        layout *l = load(expected[i].name);
        assert_string_equal(layout_name(l), expected[i].name);
        assert_int_equal(layout_follows_speaker(l), expected[i].follows_speaker);
        assert_int_equal(layout_max_participants(l), expected[i].max);
        assert_int_equal(layout_fit_mode(l), LAYOUT_FIT_COVER);
        const char *bg = layout_background(l);
        assert_int_equal(strlen(bg), 8);
        assert_memory_equal(bg, "0x", 2);
        assert_int_equal(strspn(bg + 2, "0123456789abcdefABCDEF"), 6);
        layout_free(l);
    }
}

static void test_unknown_layout(void **state)
{
    (void)state;
    char err[128] = "";
    assert_null(layout_load("mosaic", err, sizeof err));
    assert_non_null(strstr(err, "mosaic"));
    assert_null(layout_load("", err, sizeof err));
    assert_null(layout_load("grid.json", NULL, 0)); /* no room for the message: still refused */
    assert_null(layout_load(NULL, err, sizeof err));
    layout_free(NULL);
}

/* Each thread loads and places on its own; all must get the same places. */
static void *load_and_place(void *arg)
{
    layout_rect *out = arg;
    for (int round = 0; round < 50; round++) {
        layout *l = layout_load("grid", NULL, 0);
        if (!l || layout_place(l, 7, -1, 1920, 1080, out) != 0)
            out[0].w = -1;
        layout_free(l);
    }
    return NULL;
}

static void test_load_from_threads(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    pthread_t threads[THREADS];
    layout_rect places[THREADS][7];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, load_and_place, places[i]), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_true(places[0][0].w > 0);
    for (int i = 1; i < THREADS; i++)
        assert_memory_equal(places[i], places[0], sizeof places[0]);
}

/* ---- grid --------------------------------------------------------------------------------- */

/* The rows of a placement, top to bottom: how many tiles share each y. */
static int rows_of(const layout_rect *r, int n, int *per_row)
{
    int rows = 0;
    for (int i = 0; i < n; i++) {
        if (i == 0 || r[i].y != r[i - 1].y)
            per_row[rows++] = 0;
        per_row[rows - 1]++;
    }
    return rows;
}

static void check_grid_rows(const layout_rect *r, int n, const frame *f)
{
    static const int expected[10][3] = { { 0 },       { 1 },       { 2 },       { 2, 1 },    { 2, 2 },
                                         { 3, 2 },    { 3, 3 },    { 3, 3, 1 }, { 3, 3, 2 }, { 3, 3, 3 } };
    int per_row[MAX_TILES];
    int rows = rows_of(r, n, per_row);
    for (int row = 0; row < 3; row++)
        assert_int_equal(row < rows ? per_row[row] : 0, expected[n][row]);

    for (int row = 0, first = 0; row < rows; first += per_row[row], row++) {
        const layout_rect *left = &r[first], *right = &r[first + per_row[row] - 1];
        int margin_left = left->x, margin_right = f->width - (right->x + right->w);
        if (abs(margin_left - margin_right) > 2)
            fail_msg("%d participants: row %d not centred (%d | %d)", n, row, margin_left, margin_right);
        for (int i = first + 1; i < first + per_row[row]; i++)
            assert_int_equal(r[i].x - (r[i - 1].x + r[i - 1].w), f->gap);
    }
    int top = r[0].y, bottom = f->height - (r[n - 1].y + r[n - 1].h);
    if (abs(top - bottom) > 2)
        fail_msg("%d participants: rows not centred (%d above, %d below)", n, top, bottom);
}

static void test_grid_one_to_nine(void **state)
{
    (void)state;
    layout *l = load("grid");
    layout_rect r[MAX_TILES];
    for (int fi = 0; fi < FRAME_COUNT; fi++) {
        const frame *f = &FRAMES[fi];
        for (int n = 1; n <= 9; n++) {
            assert_int_equal(layout_place(l, n, -1, f->width, f->height, r), 0);
            check_rects(r, n, f->width, f->height);
            if (n == 1) {
                check_full_frame(r[0], f->width, f->height);
                continue;
            }
            for (int i = 0; i < n; i++) {
                check_16_9(r[i]);
                assert_int_equal(r[i].w, r[0].w);
                assert_int_equal(r[i].h, r[0].h);
            }
            check_grid_rows(r, n, f);
            /* the largest tiles that fit: the widest row or the rows fill the frame, less the margins */
            int per_row[MAX_TILES], rows = rows_of(r, n, per_row), cols = per_row[0];
            int used_w = cols * r[0].w + (cols - 1) * f->gap, used_h = rows * r[0].h + (rows - 1) * f->gap;
            assert_true(used_w >= f->width - 2 * f->gap - 4 || used_h >= f->height - 2 * f->gap - 4);
        }
    }
    layout_free(l);
}

static void test_grid_ignores_speaker(void **state)
{
    (void)state;
    layout *l = load("grid");
    layout_rect a[MAX_TILES], b[MAX_TILES];
    assert_int_equal(layout_place(l, 5, -1, 1280, 720, a), 0);
    assert_int_equal(layout_place(l, 5, 3, 1280, 720, b), 0);
    assert_memory_equal(a, b, 5 * sizeof a[0]);
    layout_free(l);
}

static void test_grid_beyond_its_counts(void **state)
{
    (void)state;
    layout *l = load("grid");
    layout_rect r[MAX_TILES];
    int max = layout_max_participants(l);
    assert_int_equal(layout_place(l, max + 1, -1, 1280, 720, r), -1);
    assert_int_equal(layout_place(l, 0, -1, 1280, 720, r), -1);
    layout_free(l);
}

static void test_grid_other_frames(void **state)
{
    (void)state;
    layout *l = load("grid");
    layout_rect r[MAX_TILES];
    for (int fi = 0; fi < ODD_FRAME_COUNT; fi++)
        for (int n = 1; n <= 9; n++) {
            const frame *f = &ODD_FRAMES[fi];
            assert_int_equal(layout_place(l, n, -1, f->width, f->height, r), 0);
            check_rects(r, n, f->width, f->height);
        }
    layout_free(l);
}

/* ---- speaker ------------------------------------------------------------------------------ */

/* The stage holds star; the strip below it the others, in order, centred, one size. */
static void check_speaker(const layout_rect *r, int n, int star, const frame *f)
{
    const layout_rect *stage = &r[star];
    check_16_9(*stage);
    assert_true(area(*stage) * 2 > f->width * f->height); /* most of the frame */
    assert_true(abs(stage->x - (f->width - stage->x - stage->w)) <= 2);

    int first = -1, last = -1, previous = -1;
    for (int i = 0; i < n; i++) {
        if (i == star)
            continue;
        const layout_rect *t = &r[i];
        assert_true(area(*t) * 4 < area(*stage));
        assert_true(t->y >= stage->y + stage->h); /* below the stage */
        check_16_9(*t);
        if (previous >= 0) {
            assert_int_equal(t->y, r[previous].y);
            assert_int_equal(t->w, r[previous].w);
            assert_int_equal(t->h, r[previous].h);
            assert_true(t->x > r[previous].x); /* in participant order */
        } else {
            first = i;
        }
        previous = last = i;
    }
    int left = r[first].x, right = f->width - (r[last].x + r[last].w);
    if (abs(left - right) > 2)
        fail_msg("%d participants: strip not centred (%d | %d)", n, left, right);
}

static void test_speaker_stage_and_strip(void **state)
{
    (void)state;
    layout *l = load("speaker");
    layout_rect r[MAX_TILES];
    for (int fi = 0; fi < FRAME_COUNT; fi++) {
        const frame *f = &FRAMES[fi];
        for (int n = 2; n <= 9; n++)
            for (int speaker = -1; speaker < n; speaker++) {
                assert_int_equal(layout_place(l, n, speaker, f->width, f->height, r), 0);
                check_rects(r, n, f->width, f->height);
                check_speaker(r, n, speaker < 0 ? 0 : speaker, f);
            }
    }
    layout_free(l);
}

static void test_speaker_nobody_yet_is_participant_0(void **state)
{
    (void)state;
    layout *l = load("speaker");
    layout_rect nobody[4], first[4];
    assert_int_equal(layout_place(l, 4, -1, 1280, 720, nobody), 0);
    assert_int_equal(layout_place(l, 4, 0, 1280, 720, first), 0);
    assert_memory_equal(nobody, first, sizeof nobody);
    assert_true(area(nobody[0]) > area(nobody[1]));
    layout_free(l);
}

/* The speaker is not repeated in the strip: it holds the n - 1 others, whoever speaks. */
static void test_speaker_not_in_strip(void **state)
{
    (void)state;
    layout *l = load("speaker");
    layout_rect r[3];
    assert_int_equal(layout_place(l, 3, 1, 1920, 1080, r), 0);
    assert_true(area(r[1]) > area(r[0]));
    assert_int_equal(r[0].y, r[2].y);
    assert_true(r[0].x < r[2].x);
    assert_true(r[0].y > r[1].y + r[1].h);
    /* participant 1 gives the stage to 2 and takes 2's old place in the strip, as first */
    layout_rect next[3];
    assert_int_equal(layout_place(l, 3, 2, 1920, 1080, next), 0);
    assert_memory_equal(&next[2], &r[1], sizeof r[1]);
    assert_memory_equal(&next[0], &r[0], sizeof r[0]);
    assert_memory_equal(&next[1], &r[2], sizeof r[2]);
    layout_free(l);
}

static void test_speaker_alone_and_limits(void **state)
{
    (void)state;
    layout *l = load("speaker");
    layout_rect r[MAX_TILES];
    for (int fi = 0; fi < FRAME_COUNT; fi++) {
        assert_int_equal(layout_place(l, 1, -1, FRAMES[fi].width, FRAMES[fi].height, r), 0);
        check_full_frame(r[0], FRAMES[fi].width, FRAMES[fi].height);
        assert_int_equal(layout_place(l, 1, 0, FRAMES[fi].width, FRAMES[fi].height, r), 0);
        check_full_frame(r[0], FRAMES[fi].width, FRAMES[fi].height);
    }
    assert_int_equal(layout_place(l, layout_max_participants(l) + 1, 0, 1280, 720, r), -1);
    assert_int_equal(layout_place(l, 3, 3, 1280, 720, r), -1);  /* no participant 3 */
    assert_int_equal(layout_place(l, 3, -2, 1280, 720, r), -1);
    layout_free(l);
}

static void test_speaker_other_frames(void **state)
{
    (void)state;
    layout *l = load("speaker");
    layout_rect r[MAX_TILES];
    for (int fi = 0; fi < ODD_FRAME_COUNT; fi++)
        for (int n = 1; n <= 9; n++) {
            const frame *f = &ODD_FRAMES[fi];
            assert_int_equal(layout_place(l, n, n - 1, f->width, f->height, r), 0);
            check_rects(r, n, f->width, f->height);
        }
    layout_free(l);
}

/* ---- side-by-side ------------------------------------------------------------------------- */

static void test_side_by_side_halves(void **state)
{
    (void)state;
    layout *l = load("side-by-side");
    layout_rect r[3];
    for (int fi = 0; fi < FRAME_COUNT; fi++) {
        int w = FRAMES[fi].width, h = FRAMES[fi].height;
        for (int speaker = -1; speaker < 2; speaker++) {
            assert_int_equal(layout_place(l, 2, speaker, w, h, r), 0);
            check_rects(r, 2, w, h);
            assert_memory_equal(&r[0], &((layout_rect){ 0, 0, w / 2, h }), sizeof r[0]);
            assert_memory_equal(&r[1], &((layout_rect){ w / 2, 0, w / 2, h }), sizeof r[1]);
        }
        assert_int_equal(layout_place(l, 1, -1, w, h, r), -1);
        assert_int_equal(layout_place(l, 3, -1, w, h, r), -1);
    }
    layout_free(l);
}

static void test_place_refuses_bad_frames(void **state)
{
    (void)state;
    layout *l = load("grid");
    layout_rect r[MAX_TILES];
    assert_int_equal(layout_place(l, 2, -1, 0, 720, r), -1);
    assert_int_equal(layout_place(l, 2, -1, 1280, -720, r), -1);
    assert_int_equal(layout_place(l, 9, -1, 4, 4, r), -1); /* no room for nine tiles */
    assert_int_equal(layout_place(l, 2, -1, 1280, 720, NULL), -1);
    assert_int_equal(layout_place(NULL, 2, -1, 1280, 720, r), -1);
    layout_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_layout_loads),
        cmocka_unit_test(test_unknown_layout),
        cmocka_unit_test(test_load_from_threads),
        cmocka_unit_test(test_grid_one_to_nine),
        cmocka_unit_test(test_grid_ignores_speaker),
        cmocka_unit_test(test_grid_beyond_its_counts),
        cmocka_unit_test(test_grid_other_frames),
        cmocka_unit_test(test_speaker_stage_and_strip),
        cmocka_unit_test(test_speaker_nobody_yet_is_participant_0),
        cmocka_unit_test(test_speaker_not_in_strip),
        cmocka_unit_test(test_speaker_alone_and_limits),
        cmocka_unit_test(test_speaker_other_frames),
        cmocka_unit_test(test_side_by_side_halves),
        cmocka_unit_test(test_place_refuses_bad_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
