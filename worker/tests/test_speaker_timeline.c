/* speaker_timeline on synthetic levels: talkers (speech at about -22 dBFS with short gaps
 * between words), coughs, interjections, overlapping talk and a humming mic. Every result is
 * checked for the promises of the interface (whole take covered, no gaps, neighbours
 * differ) and of the behaviour (nobody again once someone spoke, every speaker held 2 s
 * but the last). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "speaker_timeline.h"

#define MAX_PARTICIPANTS 4
#define ROOM_DBFS -70.0f   /* a quiet room on a decent mic */
#define SPEECH_DBFS -22.0f /* speech after the browser's gain control */
#define HOLD_MS 2000
#define TURN_LAG_MS 1500   /* how late after a turn starts the picture may follow */

typedef struct {
    float *levels[MAX_PARTICIPANTS];
    int participants, windows;
    speaker_segment *segments;
    int count;
} take;

static int window_at(double seconds)
{
    return (int)lround(seconds * 1000.0 / SPEAKER_WINDOW_MS);
}

/* A take of room tone (a dB of deterministic flutter) for everyone. */
static take *take_new(int participants, double seconds)
{
    take *t = calloc(1, sizeof *t);
    assert_non_null(t);
    t->participants = participants;
    t->windows = window_at(seconds);
    for (int p = 0; p < participants; p++) {
        t->levels[p] = malloc(((size_t)t->windows + 1) * sizeof(float));
        assert_non_null(t->levels[p]);
        for (int w = 0; w < t->windows; w++)
            t->levels[p][w] = ROOM_DBFS + (float)((w * 13 + p * 5) % 3) - 1.0f;
    }
    return t;
}

static void take_free(take *t)
{
    for (int p = 0; p < t->participants; p++)
        free(t->levels[p]);
    free(t->segments);
    free(t);
}

/* Speech: 650 ms of words at level +-3 dB, then a 100 ms gap, over and over. */
static void talk(take *t, int p, double from, double to, float level)
{
    for (int w = window_at(from); w < window_at(to) && w < t->windows; w++) {
        int in_cycle = (w - window_at(from)) % 15;
        t->levels[p][w] = in_cycle >= 13 ? -60.0f : level + (float)((w * 5 + p * 3) % 7) - 3.0f;
    }
}

/* A steady sound: a cough, a hum. */
static void sound(take *t, int p, double from, double to, float level)
{
    for (int w = window_at(from); w < window_at(to) && w < t->windows; w++)
        t->levels[p][w] = level;
}

/* The interface's promises, and the behaviour's, on any result. */
static void check_segments(const take *t)
{
    assert_true(t->count >= 1);
    assert_int_equal(t->segments[0].start_ms, 0);
    assert_int_equal(t->segments[t->count - 1].end_ms, (int64_t)t->windows * SPEAKER_WINDOW_MS);
    for (int i = 0; i < t->count; i++) {
        const speaker_segment *s = &t->segments[i];
        assert_true(s->end_ms > s->start_ms);
        assert_true(s->speaker >= -1 && s->speaker < t->participants);
        if (i > 0) {
            assert_int_equal(s->start_ms, t->segments[i - 1].end_ms);
            assert_int_not_equal(s->speaker, t->segments[i - 1].speaker);
            assert_int_not_equal(s->speaker, -1); /* once someone spoke, someone holds the floor */
        }
        if (s->speaker >= 0 && i < t->count - 1 && s->end_ms - s->start_ms < HOLD_MS)
            fail_msg("segment %d (speaker %d) lasts %lld ms", i, s->speaker, (long long)(s->end_ms - s->start_ms));
    }
}

static void run(take *t)
{
    t->count = speaker_timeline((const float *const *)t->levels, t->participants, t->windows, &t->segments);
    assert_true(t->count >= 0);
    check_segments(t);
}

static void print_segments(const take *t)
{
    for (int i = 0; i < t->count; i++)
        print_message("  [%6lld, %6lld) %d\n", (long long)t->segments[i].start_ms, (long long)t->segments[i].end_ms,
                      t->segments[i].speaker);
}

static void expect_one_segment(take *t, int speaker)
{
    if (t->count != 1 || t->segments[0].speaker != speaker) {
        print_segments(t);
        fail_msg("expected speaker %d throughout", speaker);
    }
}

/* The speaker switches to speaker within [turn_ms, turn_ms + TURN_LAG_MS]. */
static void expect_switch(const take *t, int segment, int speaker, int64_t turn_ms)
{
    if (segment >= t->count || t->segments[segment].speaker != speaker ||
        t->segments[segment].start_ms < turn_ms - SPEAKER_WINDOW_MS ||
        t->segments[segment].start_ms > turn_ms + TURN_LAG_MS) {
        print_segments(t);
        fail_msg("segment %d: expected speaker %d from about %lld ms", segment, speaker, (long long)turn_ms);
    }
}

/* ---- the cases ---------------------------------------------------------------------------- */

static void test_silence(void **state)
{
    (void)state;
    take *t = take_new(3, 10);
    run(t);
    expect_one_segment(t, -1);
    take_free(t);

    t = take_new(2, 10);
    sound(t, 0, 0, 10, -100.0f); /* digital silence */
    sound(t, 1, 0, 10, -120.0f);
    run(t);
    expect_one_segment(t, -1);
    take_free(t);
}

static void test_one_talker(void **state)
{
    (void)state;
    take *t = take_new(2, 10);
    talk(t, 1, 2, 6, SPEECH_DBFS);
    run(t);
    assert_int_equal(t->count, 2);
    assert_int_equal(t->segments[0].speaker, -1);
    expect_switch(t, 1, 1, 2000); /* and keeps the floor through the silence after */
    take_free(t);
}

static void test_talker_from_the_start(void **state)
{
    (void)state;
    take *t = take_new(2, 8);
    talk(t, 0, 0, 8, SPEECH_DBFS);
    run(t);
    expect_one_segment(t, 0);
    take_free(t);
}

static void test_alternating_turns(void **state)
{
    (void)state;
    take *t = take_new(2, 30);
    for (int turn = 0; turn < 6; turn++)
        talk(t, turn % 2, turn * 5, turn * 5 + 5, SPEECH_DBFS);
    run(t);
    assert_int_equal(t->count, 6);
    for (int turn = 0; turn < 6; turn++)
        expect_switch(t, turn, turn % 2, turn * 5000);
    take_free(t);
}

static void test_three_way_conversation(void **state)
{
    (void)state;
    static const int order[] = { 2, 0, 1, 0, 2 };
    take *t = take_new(3, 25);
    for (int turn = 0; turn < 5; turn++)
        talk(t, order[turn], turn * 5, turn * 5 + 4.5, SPEECH_DBFS + (float)turn);
    run(t);
    assert_int_equal(t->count, 5);
    for (int turn = 0; turn < 5; turn++)
        expect_switch(t, turn, order[turn], turn * 5000);
    take_free(t);
}

/* A challenger who starts at once is still held off until the speaker had 2 s. */
static void test_hold_before_switch(void **state)
{
    (void)state;
    take *t = take_new(2, 8);
    talk(t, 0, 0, 1.2, SPEECH_DBFS);
    talk(t, 1, 1.3, 8, SPEECH_DBFS);
    run(t);
    assert_int_equal(t->count, 2);
    assert_int_equal(t->segments[0].speaker, 0);
    assert_int_equal(t->segments[1].start_ms, HOLD_MS);
    take_free(t);
}

static void test_cough(void **state)
{
    (void)state;
    take *t = take_new(2, 12);
    talk(t, 0, 0, 12, SPEECH_DBFS);
    sound(t, 1, 4, 4.1, -10.0f); /* loud, over the speaker */
    run(t);
    expect_one_segment(t, 0);
    take_free(t);

    t = take_new(2, 12);
    talk(t, 0, 0, 4, SPEECH_DBFS);
    sound(t, 1, 5, 5.1, -10.0f); /* in the speaker's pause */
    talk(t, 0, 7, 12, SPEECH_DBFS);
    run(t);
    expect_one_segment(t, 0);
    take_free(t);
}

static void test_interjection(void **state)
{
    (void)state;
    take *t = take_new(2, 14);
    talk(t, 0, 0, 14, SPEECH_DBFS);
    talk(t, 1, 4, 4.6, SPEECH_DBFS);        /* "yes, right" at the speaker's level */
    talk(t, 1, 8, 8.6, SPEECH_DBFS + 8.0f); /* and much louder */
    run(t);
    expect_one_segment(t, 0);
    take_free(t);

    t = take_new(2, 14);
    talk(t, 0, 0, 5, SPEECH_DBFS);
    talk(t, 1, 5.8, 6.4, SPEECH_DBFS); /* in the speaker's 2 s pause */
    talk(t, 0, 7, 14, SPEECH_DBFS);
    run(t);
    expect_one_segment(t, 0);
    take_free(t);
}

/* Two people talking over each other at similar levels, for 40 s: whatever the switches,
 * none sooner than the hold (checked by run), so at most one per 2 s. */
static void test_overlapping_similar_levels(void **state)
{
    (void)state;
    take *t = take_new(2, 40);
    uint32_t seed = 12345;
    for (int w = 0; w < t->windows; w++)
        for (int p = 0; p < 2; p++) {
            seed = seed * 1103515245u + 12345u;
            int r = (int)((seed >> 16) % 100);
            t->levels[p][w] = r < 15 ? -60.0f : SPEECH_DBFS + (float)(r % 7) - 3.0f;
        }
    run(t);
    assert_true(t->count <= 40000 / HOLD_MS + 1);
    assert_int_not_equal(t->segments[0].speaker, -1); /* one of them has the floor */
    take_free(t);

    t = take_new(2, 40); /* and with the usual word rhythm, out of phase */
    talk(t, 0, 0, 40, SPEECH_DBFS);
    talk(t, 1, 0.3, 40, SPEECH_DBFS + 1.0f);
    run(t);
    assert_true(t->count <= 40000 / HOLD_MS + 1);
    assert_int_not_equal(t->segments[0].speaker, -1);
    take_free(t);
}

/* Without headphones, a listener's mic hears the speaker, 20 dB down: not a voice of its own. */
static void test_echo_in_a_listeners_mic(void **state)
{
    (void)state;
    take *t = take_new(2, 12);
    talk(t, 0, 1, 11, SPEECH_DBFS);
    for (int w = 0; w < t->windows; w++)
        if (t->levels[0][w] - 20.0f > t->levels[1][w])
            t->levels[1][w] = t->levels[0][w] - 20.0f;
    run(t);
    assert_int_equal(t->count, 2);
    expect_switch(t, 1, 0, 1000);
    take_free(t);
}

/* Talking over each other, the lead changing hands every 1.6 s by 6 dB: the picture
 * follows, but never faster than the hold. */
static void test_overlapping_lead_changes(void **state)
{
    (void)state;
    take *t = take_new(2, 40);
    for (int stretch = 0; stretch * 1.6 < 40; stretch++) {
        double from = stretch * 1.6, to = from + 1.6;
        talk(t, stretch % 2, from, to, SPEECH_DBFS + 3.0f);
        talk(t, 1 - stretch % 2, from, to, SPEECH_DBFS - 3.0f);
    }
    run(t);
    assert_true(t->count >= 2); /* the lead is clear enough to be followed */
    take_free(t);
}

static void test_noisy_mic_never_speaks(void **state)
{
    (void)state;
    take *t = take_new(2, 20);
    sound(t, 0, 0, 20, -40.0f); /* a constant hum */
    for (int w = 0; w < t->windows; w++)
        t->levels[0][w] += (float)(w % 3) * 0.5f;
    talk(t, 1, 3, 8, SPEECH_DBFS);
    talk(t, 1, 12, 17, SPEECH_DBFS);
    run(t);
    assert_int_equal(t->count, 2);
    assert_int_equal(t->segments[0].speaker, -1);
    expect_switch(t, 1, 1, 3000);
    take_free(t);
}

/* A noisy mic is still heard when its owner talks over the hum. */
static void test_noisy_mic_talking(void **state)
{
    (void)state;
    take *t = take_new(2, 20);
    sound(t, 0, 0, 20, -40.0f);
    talk(t, 1, 0, 6, SPEECH_DBFS);
    talk(t, 0, 8, 14, SPEECH_DBFS);
    run(t);
    assert_int_equal(t->count, 2);
    expect_switch(t, 0, 1, 0);
    expect_switch(t, 1, 0, 8000);
    take_free(t);
}

static void test_edges(void **state)
{
    (void)state;
    speaker_segment *segments = NULL;

    assert_int_equal(speaker_timeline(NULL, 0, 100, &segments), 1); /* nobody: nobody speaks */
    assert_int_equal(segments[0].start_ms, 0);
    assert_int_equal(segments[0].end_ms, 100 * SPEAKER_WINDOW_MS);
    assert_int_equal(segments[0].speaker, -1);
    free(segments);

    take *t = take_new(2, 0);
    assert_int_equal(speaker_timeline((const float *const *)t->levels, 2, 0, &segments), 0);
    assert_null(segments);
    assert_int_equal(speaker_timeline(NULL, 0, 0, &segments), 0);
    assert_null(segments);
    take_free(t);

    float level = -20.0f;
    const float *one[] = { &level };
    assert_int_equal(speaker_timeline(one, 1, -1, &segments), -1);
    assert_int_equal(speaker_timeline(one, -1, 1, &segments), -1);
    assert_int_equal(speaker_timeline(NULL, 1, 1, &segments), -1);
    assert_int_equal(speaker_timeline(one, 1, 1, NULL), -1);
    assert_int_equal(speaker_timeline(one, 1, 1, &segments), 1); /* 50 ms: too short to speak */
    assert_int_equal(segments[0].speaker, -1);
    free(segments);
}

/* A participant without audio (NULL levels) is silent; NaN and out-of-range levels are
 * taken as silence and full scale. */
static void test_missing_and_odd_levels(void **state)
{
    (void)state;
    take *t = take_new(3, 10);
    free(t->levels[0]);
    t->levels[0] = NULL;
    talk(t, 1, 1, 9, SPEECH_DBFS);
    sound(t, 2, 0, 10, NAN);
    sound(t, 2, 5, 5.5, 20.0f); /* past full scale: a loud click, not speech */
    run(t);
    assert_int_equal(t->count, 2);
    expect_switch(t, 1, 1, 1000);
    take_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silence),
        cmocka_unit_test(test_one_talker),
        cmocka_unit_test(test_talker_from_the_start),
        cmocka_unit_test(test_alternating_turns),
        cmocka_unit_test(test_three_way_conversation),
        cmocka_unit_test(test_hold_before_switch),
        cmocka_unit_test(test_cough),
        cmocka_unit_test(test_interjection),
        cmocka_unit_test(test_overlapping_similar_levels),
        cmocka_unit_test(test_overlapping_lead_changes),
        cmocka_unit_test(test_echo_in_a_listeners_mic),
        cmocka_unit_test(test_noisy_mic_never_speaks),
        cmocka_unit_test(test_noisy_mic_talking),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_missing_and_odd_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
