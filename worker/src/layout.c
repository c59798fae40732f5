/* layout: where each participant's picture goes, from data. A layout is a JSON file in
 * worker/layouts/ (its schema: worker/layouts/README.md), embedded at build time. Loading
 * parses and checks it into a plain struct of the caller's; placing is then arithmetic on
 * that struct, so threads need no locks (the embedded texts are const).
 *
 * In brief: {"name", "kind": "grid"|"stage", "fit": "cover"|"contain", "background":
 * "0xRRGGBB", "tile_aspect": [w, h] | null, "gap", "margin"} plus, for a grid, "rows":
 * {"<count>": [tiles per row, top to bottom]} and, for a stage, "strip": {"height",
 * "max_tiles"}. Lengths are pixels of a frame whose shorter side is 720, scaled. */
#include "layout.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "layouts_embedded.h"

#define PARTICIPANTS_LIMIT 16 /* the most a layout file may place: a bound for the struct */
#define UNIT_SIDE 720         /* lengths in the files are pixels of a frame with this shorter side */
#define LENGTH_MAX 720        /* a gap, margin or strip taller than the unit frame is a typo */
#define ASPECT_MAX 100

typedef enum { KIND_GRID, KIND_STAGE } layout_kind;

struct layout {
    char name[32];
    layout_kind kind;
    layout_fit fit;
    char background[9];     /* "0xRRGGBB" */
    int aspect_w, aspect_h; /* 0: a tile takes its whole cell */
    int gap, margin;        /* in UNIT_SIDE pixels */
    int max_participants;
    int row_count[PARTICIPANTS_LIMIT + 1];                /* grid, per count; 0: cannot place */
    int rows[PARTICIPANTS_LIMIT + 1][PARTICIPANTS_LIMIT]; /* grid: tiles per row, top to bottom */
    int strip_height;                                     /* stage, in UNIT_SIDE pixels */
};

/* ---- loading ------------------------------------------------------------------------------ */

static void set_error(char *err, size_t err_size, const char *fmt, ...)
{
    if (!err || err_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
}

static const char *embedded_text(const char *name)
{
    for (int i = 0; i < EMBEDDED_LAYOUT_COUNT; i++)
        if (strcmp(EMBEDDED_LAYOUTS[i].name, name) == 0)
            return EMBEDDED_LAYOUTS[i].json;
    return NULL;
}

/* A field that must be an integer in [min, max]. */
static bool parse_int(json_t *obj, const char *key, int min, int max, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return false;
    *out = (int)json_integer_value(v);
    return true;
}

/* Misspelt fields are refused rather than ignored: a layout that silently loses its gap
 * would be found late, in a rendered video. */
static const char *unknown_field(json_t *root, const char *const *known)
{
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        (void)value;
        bool found = false;
        for (int i = 0; known[i] && !found; i++)
            found = strcmp(key, known[i]) == 0;
        if (!found)
            return key;
    }
    return NULL;
}

static bool parse_kind(layout *l, json_t *root)
{
    const char *kind = json_string_value(json_object_get(root, "kind"));
    if (kind && strcmp(kind, "grid") == 0)
        l->kind = KIND_GRID;
    else if (kind && strcmp(kind, "stage") == 0)
        l->kind = KIND_STAGE;
    else
        return false;
    return true;
}

static bool parse_fit(layout *l, json_t *root)
{
    const char *fit = json_string_value(json_object_get(root, "fit"));
    if (fit && strcmp(fit, "cover") == 0)
        l->fit = LAYOUT_FIT_COVER;
    else if (fit && strcmp(fit, "contain") == 0)
        l->fit = LAYOUT_FIT_CONTAIN;
    else
        return false;
    return true;
}

static bool parse_background(layout *l, json_t *root)
{
    const char *bg = json_string_value(json_object_get(root, "background"));
    if (!bg || strlen(bg) != 8 || strncmp(bg, "0x", 2) != 0 || strspn(bg + 2, "0123456789abcdefABCDEF") != 6)
        return false;
    memcpy(l->background, bg, sizeof l->background);
    return true;
}

/* [w, h], or null: a tile takes its whole cell. */
static bool parse_aspect(layout *l, json_t *root)
{
    json_t *aspect = json_object_get(root, "tile_aspect");
    if (json_is_null(aspect))
        return true;
    json_t *w = json_array_get(aspect, 0), *h = json_array_get(aspect, 1);
    if (json_array_size(aspect) != 2 || !json_is_integer(w) || !json_is_integer(h))
        return false;
    if (json_integer_value(w) < 1 || json_integer_value(w) > ASPECT_MAX || json_integer_value(h) < 1 ||
        json_integer_value(h) > ASPECT_MAX)
        return false;
    l->aspect_w = (int)json_integer_value(w);
    l->aspect_h = (int)json_integer_value(h);
    return true;
}

/* "<count>": [tiles per row], the rows adding up to count. */
static bool parse_arrangement(layout *l, const char *key, json_t *rows)
{
    char *end;
    long n = strtol(key, &end, 10);
    if (*key < '1' || *key > '9' || *end != '\0' || n < 1 || n > PARTICIPANTS_LIMIT)
        return false;
    size_t count = json_array_size(rows);
    int sum = 0;
    if (count == 0 || count > (size_t)n)
        return false;
    for (size_t r = 0; r < count; r++) {
        json_t *v = json_array_get(rows, r);
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > n)
            return false;
        l->rows[n][r] = (int)json_integer_value(v);
        sum += l->rows[n][r];
    }
    if (sum != n)
        return false;
    l->row_count[n] = (int)count;
    if (n > l->max_participants)
        l->max_participants = (int)n;
    return true;
}

static int parse_grid(layout *l, json_t *root, char *err, size_t err_size)
{
    json_t *rows = json_object_get(root, "rows");
    const char *key;
    json_t *value;
    if (!json_is_object(rows) || json_object_size(rows) == 0) {
        set_error(err, err_size, "layout %s: \"rows\" must be an object of counts", l->name);
        return -1;
    }
    json_object_foreach(rows, key, value) {
        if (!parse_arrangement(l, key, value)) {
            set_error(err, err_size, "layout %s: rows \"%s\": a count 1..%d of tiles per row adding up to it",
                      l->name, key, PARTICIPANTS_LIMIT);
            return -1;
        }
    }
    return 0;
}

static int parse_stage(layout *l, json_t *root, char *err, size_t err_size)
{
    json_t *strip = json_object_get(root, "strip");
    int max_tiles;
    if (!json_is_object(strip) || json_object_size(strip) != 2 ||
        !parse_int(strip, "height", 2, LENGTH_MAX, &l->strip_height) ||
        !parse_int(strip, "max_tiles", 1, PARTICIPANTS_LIMIT - 1, &max_tiles)) {
        set_error(err, err_size, "layout %s: \"strip\" must be {\"height\": 2..%d, \"max_tiles\": 1..%d}", l->name,
                  LENGTH_MAX, PARTICIPANTS_LIMIT - 1);
        return -1;
    }
    l->max_participants = 1 + max_tiles;
    return 0;
}

/* The fields every kind has; which failed goes to err. */
static int parse_common(layout *l, json_t *root, char *err, size_t err_size)
{
    const char *field = NULL;
    if (!parse_kind(l, root))
        field = "kind: \"grid\" or \"stage\"";
    else if (!parse_fit(l, root))
        field = "fit: \"cover\" or \"contain\"";
    else if (!parse_background(l, root))
        field = "background: \"0xRRGGBB\"";
    else if (!parse_aspect(l, root))
        field = "tile_aspect: [w, h] or null";
    else if (!parse_int(root, "gap", 0, LENGTH_MAX, &l->gap))
        field = "gap: pixels";
    else if (!parse_int(root, "margin", 0, LENGTH_MAX, &l->margin))
        field = "margin: pixels";
    if (field) {
        set_error(err, err_size, "layout %s: %s", l->name, field);
        return -1;
    }
    return 0;
}

static int parse_layout(layout *l, json_t *root, char *err, size_t err_size)
{
    static const char *const grid_fields[] = { "name", "kind", "fit", "background", "tile_aspect",
                                               "gap",  "margin", "rows", NULL };
    static const char *const stage_fields[] = { "name", "kind", "fit", "background", "tile_aspect",
                                                "gap",  "margin", "strip", NULL };
    const char *name = json_string_value(json_object_get(root, "name"));
    if (!name || strcmp(name, l->name) != 0) {
        set_error(err, err_size, "layout %s: \"name\" must be \"%s\", the file's name", l->name, l->name);
        return -1;
    }
    if (parse_common(l, root, err, err_size) < 0)
        return -1;
    const char *unknown = unknown_field(root, l->kind == KIND_GRID ? grid_fields : stage_fields);
    if (unknown) {
        set_error(err, err_size, "layout %s: unknown field \"%s\"", l->name, unknown);
        return -1;
    }
    return l->kind == KIND_GRID ? parse_grid(l, root, err, err_size) : parse_stage(l, root, err, err_size);
}

layout *layout_load(const char *name, char *err, size_t err_size)
{
    const char *text = name ? embedded_text(name) : NULL;
    if (!text) {
        set_error(err, err_size, "no layout called \"%s\"", name ? name : "(null)");
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        set_error(err, err_size, "layout %s: line %d: %s", name, jerr.line, root ? "not an object" : jerr.text);
        json_decref(root);
        return NULL;
    }
    layout *l = calloc(1, sizeof *l);
    if (!l) {
        set_error(err, err_size, "layout %s: out of memory", name);
    } else {
        snprintf(l->name, sizeof l->name, "%s", name);
        if (parse_layout(l, root, err, err_size) < 0) {
            free(l);
            l = NULL;
        }
    }
    json_decref(root);
    return l;
}

void layout_free(layout *l)
{
    free(l);
}

const char *layout_name(const layout *l)
{
    return l->name;
}

bool layout_follows_speaker(const layout *l)
{
    return l->kind == KIND_STAGE;
}

layout_fit layout_fit_mode(const layout *l)
{
    return l->fit;
}

const char *layout_background(const layout *l)
{
    return l->background;
}

int layout_max_participants(const layout *l)
{
    return l->max_participants;
}

/* ---- placing ------------------------------------------------------------------------------ */

static int even_down(int v)
{
    return v < 0 ? 0 : v & ~1;
}

/* A length of the file, in pixels of this frame: scaled by its shorter side, even. */
static int scaled(int unit_px, int width, int height)
{
    int side = width < height ? width : height;
    return 2 * (int)lround((double)unit_px * side / UNIT_SIDE / 2.0);
}

/* The largest tile of the layout's aspect inside avail_w x avail_h (all of it when the
 * layout has no aspect), even; 0 x 0 when nothing fits. */
static void fit_tile(const layout *l, int avail_w, int avail_h, int *w, int *h)
{
    *w = even_down(avail_w);
    *h = even_down(avail_h);
    if (l->aspect_w == 0 || *w == 0 || *h == 0)
        return;
    if ((int64_t)*w * l->aspect_h > (int64_t)*h * l->aspect_w)
        *w = even_down((int)((int64_t)*h * l->aspect_w / l->aspect_h));
    int aspect_h = 2 * (int)lround((double)*w * l->aspect_h / l->aspect_w / 2.0);
    if (aspect_h < *h)
        *h = aspect_h;
}

/* count tiles of w x h in a row, gap apart, centred across the frame, from out[0]. */
static void place_row(int count, int w, int h, int gap, int width, int y, layout_rect *out)
{
    int x = even_down((width - (count * w + (count - 1) * gap)) / 2);
    for (int i = 0; i < count; i++, x += w + gap)
        out[i] = (layout_rect){ x, y, w, h };
}

static int place_grid(const layout *l, int n, int width, int height, layout_rect *out)
{
    int rows = l->row_count[n], cols = 0;
    for (int r = 0; r < rows; r++)
        cols = l->rows[n][r] > cols ? l->rows[n][r] : cols;
    int gap = scaled(l->gap, width, height), margin = scaled(l->margin, width, height);
    int w, h;
    fit_tile(l, (width - 2 * margin - (cols - 1) * gap) / cols, (height - 2 * margin - (rows - 1) * gap) / rows,
             &w, &h);
    if (w < 2 || h < 2)
        return -1;
    int y = even_down((height - (rows * h + (rows - 1) * gap)) / 2);
    for (int r = 0, first = 0; r < rows; first += l->rows[n][r], r++, y += h + gap)
        place_row(l->rows[n][r], w, h, gap, width, y, out + first);
    return 0;
}

/* The speaker (participant 0 before anyone spoke) large above a strip that holds the
 * others, in their order. The strip's band has a fixed height, so the stage keeps its
 * size whatever the count. */
static int place_stage(const layout *l, int n, int speaker, int width, int height, layout_rect *out)
{
    int gap = scaled(l->gap, width, height), margin = scaled(l->margin, width, height);
    int band = scaled(l->strip_height, width, height), others = n - 1;
    int stage_h_avail = height - 2 * margin - band - gap;
    int sw, sh, tw, th;
    fit_tile(l, width - 2 * margin, stage_h_avail, &sw, &sh);
    fit_tile(l, (width - 2 * margin - (others - 1) * gap) / others, band, &tw, &th);
    if (sw < 2 || sh < 2 || tw < 2 || th < 2)
        return -1;

    int star = speaker < 0 ? 0 : speaker;
    out[star] = (layout_rect){ even_down((width - sw) / 2), margin + even_down((stage_h_avail - sh) / 2), sw, sh };
    int strip_x = even_down((width - (others * tw + (others - 1) * gap)) / 2);
    int strip_y = height - margin - band + even_down((band - th) / 2);
    for (int i = 0, slot = 0; i < n; i++) {
        if (i == star)
            continue;
        out[i] = (layout_rect){ strip_x + slot * (tw + gap), strip_y, tw, th };
        slot++;
    }
    return 0;
}

int layout_place(const layout *l, int n, int speaker, int width, int height, layout_rect *out)
{
    if (!l || !out || n < 1 || n > l->max_participants || speaker < -1 || speaker >= n || width < 2 || height < 2)
        return -1;
    if (l->kind == KIND_GRID && l->row_count[n] == 0)
        return -1;
    width = even_down(width);
    height = even_down(height);
    if (n == 1) { /* alone, a participant fills the frame: margins are there to separate */
        out[0] = (layout_rect){ 0, 0, width, height };
        return 0;
    }
    return l->kind == KIND_GRID ? place_grid(l, n, width, height, out) : place_stage(l, n, speaker, width, height, out);
}
