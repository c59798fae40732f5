/* The layout files, worker/layouts/<name>.json, built into the library by
 * worker/embed_layouts.cmake (layouts_embedded.c, generated). */
#ifndef ZC_LAYOUTS_EMBEDDED_H
#define ZC_LAYOUTS_EMBEDDED_H

typedef struct {
    const char *name; /* the file's name without .json */
    const char *json; /* its text, NUL-terminated */
} embedded_layout;

extern const embedded_layout EMBEDDED_LAYOUTS[];
extern const int EMBEDDED_LAYOUT_COUNT;

#endif
