/* Layouts: where each participant's picture goes in the frame. The layouts themselves are
 * data, worker/layouts/<name>.json, built into the binary (no files needed beside it). */
#ifndef ZC_LAYOUT_H
#define ZC_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    int x, y, w, h; /* pixels, all even; w == 0 && h == 0: not shown */
} layout_rect;

typedef enum {
    LAYOUT_FIT_CONTAIN, /* the whole picture, bars around it */
    LAYOUT_FIT_COVER    /* the tile filled, the picture cropped */
} layout_fit;

typedef struct layout layout;

/* The layout called name ("grid", "speaker", "side-by-side"), parsed from its embedded
 * JSON; NULL with err set when there is no such layout or its file is wrong. */
layout *layout_load(const char *name, char *err, size_t err_size);
void layout_free(layout *l);

const char *layout_name(const layout *l);
/* Whether the places depend on who is speaking (the speaker layout). */
bool layout_follows_speaker(const layout *l);
layout_fit layout_fit_mode(const layout *l);
/* The frame's background as libavfilter writes colours: "0xRRGGBB". */
const char *layout_background(const layout *l);
/* The most participants the layout can place. */
int layout_max_participants(const layout *l);

/* Where each of n participants goes in a width x height frame while participant speaker
 * (0..n-1, or -1: nobody has spoken yet) is the active speaker. out has n entries. 0, or
 * -1 when the layout cannot place n participants (side-by-side with three, say), speaker
 * is out of range or the frame is too small. Alone, a participant fills the frame. */
int layout_place(const layout *l, int n, int speaker, int width, int height, layout_rect *out);

#endif
