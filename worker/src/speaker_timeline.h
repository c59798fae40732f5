/* Who is the active speaker, and when: from each participant's audio level, measured in
 * short windows on the take's timeline. Voice activity is smoothed (a cough is not speech,
 * a breath between words is not silence) and the speaker changes with hysteresis, so a
 * layout that follows the speaker never flickers. */
#ifndef ZC_SPEAKER_TIMELINE_H
#define ZC_SPEAKER_TIMELINE_H

#include <stdint.h>

#define SPEAKER_WINDOW_MS 50

typedef struct {
    int64_t start_ms, end_ms; /* [start, end) on the take's timeline */
    int speaker;              /* 0..participants-1, or -1: nobody has spoken yet */
} speaker_segment;

/* levels[i][w]: participant i's RMS level in dBFS in window w (w * SPEAKER_WINDOW_MS on
 * the timeline); -100 or lower is silence. Writes a malloc'd array of segments to *out
 * (the caller frees it) that covers [0, window_count * SPEAKER_WINDOW_MS) without gaps or
 * overlaps, two neighbours never having the same speaker, and returns how many; -1 when
 * out of memory. A NULL levels[i] is a participant without audio (silent throughout);
 * window_count 0 gives no segments (*out NULL); a negative count is refused (-1). */
int speaker_timeline(const float *const *levels, int participants, int window_count, speaker_segment **out);

#endif
