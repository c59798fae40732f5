/* Mapping request paths to files of the built web app, safely. */
#ifndef ZC_STATIC_FILES_H
#define ZC_STATIC_FILES_H

#include <stddef.h>

/* Resolves url_path under root (a realpath). Writes the file to serve into out: the
 * file itself when it exists and is a regular file inside root, else root/index.html
 * (the single-page-app fallback). Returns 0, or -1 when not even index.html exists. */
int static_resolve(const char *root, const char *url_path, char *out, size_t out_size);

/* The Content-Type for a file name, by its extension. */
const char *static_mime_type(const char *path);

#endif
