/* speaker_timeline: who has the floor, window by window, in three steps.
 *
 * 1. Each participant's threshold: above an absolute floor and above their own mic's noise
 *    (a low percentile of their levels), so a humming mic does not speak.
 * 2. Voice activity per participant: sound in most of a short onset window starts speech (a
 *    click or cough does not), a hangover bridges the pauses between words.
 * 3. The active speaker: a challenger takes over after a second of being the dominant voice
 *    (speaking, and clearly louder than the speaker or the speaker silent); the speaker holds
 *    the floor at least two seconds, and keeps it through silence. The take is processed
 *    after the fact, so a change is dated back to when the challenger became dominant: the
 *    cut lands on their first words, not a second later.
 *
 * Time is O(participants * windows); one buffer of participants * windows bytes holds the
 * voice activity, nothing is allocated per window. */
#include "speaker_timeline.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#define WINDOWS(ms) ((ms) / SPEAKER_WINDOW_MS)

#define SILENCE_DBFS -100.0f
#define LEVEL_BINS 101 /* 1 dB each, SILENCE_DBFS to 0 */
/* Room tone, breathing and a good mic's hiss stay below this; speech on any mic is above. */
#define ABSOLUTE_FLOOR_DBFS -50.0f
/* Anyone is silent for more than this share of a take (pauses between words and
 * sentences, listening), so this percentile of their levels is their mic's noise. */
#define NOISE_PERCENTILE 10
/* Speech stands this far above the mic's noise: a -40 dBFS hum needs -28 to count. */
#define ABOVE_NOISE_DB 12.0f
/* Speech is always louder than this: caps the threshold of someone who talks nearly the
 * whole take, whose "noise" percentile then falls inside their speech. */
#define THRESHOLD_CEILING_DBFS -30.0f
/* Speech starts with sound in ONSET_SOUND of ONSET_WINDOWS windows (200 of 250 ms): a
 * click or a cough is shorter. */
#define ONSET_WINDOWS WINDOWS(250)
#define ONSET_SOUND 4
/* Speech ends after this much silence: the pauses between words and phrases are shorter. */
#define HANGOVER_WINDOWS WINDOWS(600)
/* Weight of a new window in each participant's loudness average: a time constant of about
 * 250 ms, the length of a word, so the gaps between words barely dent it. */
#define LOUDNESS_SMOOTHING 0.2f
/* Over a speaker still talking, a challenger must be this much louder: two people at
 * similar levels do not trade the floor. */
#define LOUDER_DB 3.0f
/* A challenger takes over after a second of sound as the dominant voice: longer than a
 * "yes, right" interjection, short enough to follow a conversation. */
#define TAKEOVER_WINDOWS WINDOWS(1000)
/* A speaker keeps the floor at least this long: the picture never flickers. */
#define HOLD_WINDOWS WINDOWS(2000)

enum {
    VOICE_SOUND = 1,   /* the level is above the participant's threshold in this window */
    VOICE_SPEAKING = 2 /* voice activity: onset and hangover applied */
};

typedef struct {
    const float *const *levels;
    int participants, windows;
    unsigned char *voice; /* voice[p * windows + w]: VOICE_* bits */
    float *loudness;      /* each participant's smoothed power at the window being followed */
    float louder_ratio;   /* LOUDER_DB as a power ratio */
    speaker_segment *segments;
    int count, capacity;
    int current, current_since;       /* the speaker, and the window their segment starts */
    int challenger, challenger_since; /* -1: none */
    int challenger_sound;             /* windows with sound since challenger_since */
} timeline;

/* ---- 1. thresholds ----------------------------------------------------------------------- */

/* In [SILENCE_DBFS, 0]: what a window's level can be; NaN, or no levels at all (a
 * participant without audio), is silence. */
static float level_at(const float *levels, int w)
{
    float level = levels ? levels[w] : SILENCE_DBFS;
    if (isnan(level) || level < SILENCE_DBFS)
        return SILENCE_DBFS;
    return level > 0.0f ? 0.0f : level;
}

/* NOISE_PERCENTILE of the levels, to the dB, from a histogram: linear time. */
static float noise_floor(const float *levels, int windows)
{
    int bins[LEVEL_BINS] = { 0 };
    for (int w = 0; w < windows; w++)
        bins[(int)floorf(level_at(levels, w) - SILENCE_DBFS)]++;
    long wanted = (long)windows * NOISE_PERCENTILE / 100, seen = 0;
    int bin = 0;
    while ((seen += bins[bin]) <= wanted && bin < LEVEL_BINS - 1)
        bin++;
    return SILENCE_DBFS + (float)bin;
}

static float speech_threshold(const float *levels, int windows)
{
    float threshold = noise_floor(levels, windows) + ABOVE_NOISE_DB;
    if (threshold < ABSOLUTE_FLOOR_DBFS)
        return ABSOLUTE_FLOOR_DBFS;
    return threshold > THRESHOLD_CEILING_DBFS ? THRESHOLD_CEILING_DBFS : threshold;
}

/* ---- 2. voice activity ------------------------------------------------------------------- */

/* Speech confirmed at window w started with the onset's first sound: marked from there. */
static void mark_onset(unsigned char *voice, int w)
{
    int first = w - ONSET_WINDOWS + 1 < 0 ? 0 : w - ONSET_WINDOWS + 1;
    while (!(voice[first] & VOICE_SOUND))
        first++;
    for (int i = first; i < w; i++)
        voice[i] |= VOICE_SPEAKING;
}

/* One participant's voice[] bits from their levels. */
static void detect_voice(const float *levels, int windows, unsigned char *voice)
{
    float threshold = speech_threshold(levels, windows);
    int recent = 0; /* windows with sound among the last ONSET_WINDOWS */
    int last_sound = -HANGOVER_WINDOWS;
    bool speaking = false;

    for (int w = 0; w < windows; w++) {
        if (level_at(levels, w) >= threshold) {
            voice[w] |= VOICE_SOUND;
            last_sound = w;
            recent++;
        }
        if (w >= ONSET_WINDOWS && (voice[w - ONSET_WINDOWS] & VOICE_SOUND))
            recent--;
        if (!speaking && recent >= ONSET_SOUND) {
            speaking = true;
            mark_onset(voice, w);
        } else if (speaking && w - last_sound >= HANGOVER_WINDOWS) {
            speaking = false;
        }
        if (speaking)
            voice[w] |= VOICE_SPEAKING;
    }
}

/* ---- 3. the active speaker --------------------------------------------------------------- */

static bool has(const timeline *t, int p, int w, int bit)
{
    return (t->voice[(size_t)p * (size_t)t->windows + (size_t)w] & bit) != 0;
}

static void update_loudness(timeline *t, int w)
{
    for (int p = 0; p < t->participants; p++) {
        float power = powf(10.0f, level_at(t->levels[p], w) / 10.0f);
        t->loudness[p] += LOUDNESS_SMOOTHING * (power - t->loudness[p]);
    }
}

/* Whether holder (the speaker, or the challenger) still has the upper hand in window w
 * over best, the loudest voice: speaking, and best not clearly louder. */
static bool holds(const timeline *t, int holder, int best, int w)
{
    return holder >= 0 && has(t, holder, w, VOICE_SPEAKING) &&
           t->loudness[best] < t->loudness[holder] * t->louder_ratio;
}

/* The dominant voice in window w: the loudest participant speaking, unless the speaker, or
 * else the challenger, is speaking and not clearly quieter; -1 when nobody speaks. The
 * challenger's own margin keeps two similar voices from resetting each other's claim. */
static int dominant_voice(const timeline *t, int w)
{
    int best = -1;
    for (int p = 0; p < t->participants; p++)
        if (has(t, p, w, VOICE_SPEAKING) && (best < 0 || t->loudness[p] > t->loudness[best]))
            best = p;
    if (best < 0)
        return -1;
    if (holds(t, t->current, best, w))
        return t->current;
    if (holds(t, t->challenger, best, w))
        return t->challenger;
    return best;
}

static void emit(timeline *t, int speaker, int start, int end)
{
    if (end <= start || t->count == t->capacity)
        return;
    t->segments[t->count++] = (speaker_segment){ (int64_t)start * SPEAKER_WINDOW_MS,
                                                 (int64_t)end * SPEAKER_WINDOW_MS, speaker };
}

/* The challenger takes the floor from when they became dominant, but not before the
 * current speaker has held it HOLD_WINDOWS. */
static void take_over(timeline *t)
{
    int start = t->challenger_since;
    if (t->current >= 0 && start < t->current_since + HOLD_WINDOWS)
        start = t->current_since + HOLD_WINDOWS;
    emit(t, t->current, t->current_since, start);
    t->current = t->challenger;
    t->current_since = start;
    t->challenger = -1;
}

/* A challenger's claim lasts while they stay speaking and nobody else dominates; only
 * windows with sound count towards it, so a short remark plus its hangover does not win. */
static void follow(timeline *t, int w)
{
    update_loudness(t, w);
    int dominant = dominant_voice(t, w);
    if (t->challenger >= 0 && (dominant == t->current || !has(t, t->challenger, w, VOICE_SPEAKING)))
        t->challenger = -1;
    if (dominant >= 0 && dominant != t->current && dominant != t->challenger) {
        t->challenger = dominant;
        t->challenger_since = w;
        t->challenger_sound = 0;
    }
    if (t->challenger < 0 || dominant != t->challenger)
        return;
    if (has(t, t->challenger, w, VOICE_SOUND))
        t->challenger_sound++;
    if (t->challenger_sound >= TAKEOVER_WINDOWS && (t->current < 0 || w >= t->current_since + HOLD_WINDOWS))
        take_over(t);
}

/* ---- the interface ----------------------------------------------------------------------- */

static void timeline_free(timeline *t)
{
    free(t->voice);
    free(t->loudness);
}

/* Allocates the buffers: false when out of memory. */
static bool timeline_init(timeline *t, const float *const *levels, int participants, int windows)
{
    *t = (timeline){ .levels = levels, .participants = participants, .windows = windows, .current = -1,
                     .challenger = -1, .louder_ratio = powf(10.0f, LOUDER_DB / 10.0f) };
    /* Every segment but the first (nobody yet) and the last lasts at least HOLD_WINDOWS. */
    t->capacity = windows / HOLD_WINDOWS + 2;
    t->segments = malloc((size_t)t->capacity * sizeof *t->segments);
    t->voice = calloc((size_t)participants * (size_t)windows + 1, 1);
    t->loudness = calloc((size_t)participants + 1, sizeof *t->loudness);
    if (!t->segments || !t->voice || !t->loudness) {
        free(t->segments);
        timeline_free(t);
        return false;
    }
    return true;
}

int speaker_timeline(const float *const *levels, int participants, int window_count, speaker_segment **out)
{
    if (!out)
        return -1;
    *out = NULL;
    if (participants < 0 || window_count < 0 || (participants > 0 && window_count > 0 && !levels))
        return -1;
    if (window_count == 0)
        return 0;

    timeline t;
    if (!timeline_init(&t, levels, participants, window_count))
        return -1;
    for (int p = 0; p < participants; p++)
        detect_voice(levels[p], window_count, t.voice + (size_t)p * (size_t)window_count);
    for (int w = 0; w < window_count; w++)
        follow(&t, w);
    emit(&t, t.current, t.current_since, window_count);
    timeline_free(&t);
    *out = t.segments;
    return t.count;
}
