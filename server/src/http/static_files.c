#include "http/static_files.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
    const char *ext;
    const char *type;
} MIME_TYPES[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".json", "application/json" },
    { ".map", "application/json" },
    { ".webmanifest", "application/manifest+json" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".jpg", "image/jpeg" },
    { ".ico", "image/x-icon" },
    { ".woff2", "font/woff2" },
    { ".txt", "text/plain; charset=utf-8" },
    { ".mp4", "video/mp4" },
    { ".webm", "video/webm" },
};

const char *static_mime_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof MIME_TYPES / sizeof MIME_TYPES[0]; i++)
            if (strcmp(dot, MIME_TYPES[i].ext) == 0)
                return MIME_TYPES[i].type;
    return "application/octet-stream";
}

static int is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* True when path, once every link is resolved, still lies inside root. */
static int inside_root(const char *root, const char *path)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return 0;
    size_t n = strlen(root);
    return strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

int static_resolve(const char *root, const char *url_path, char *out, size_t out_size)
{
    int safe = url_path[0] == '/' && !strstr(url_path, "..") && !strchr(url_path, '\\');
    if (safe && strcmp(url_path, "/") != 0) {
        int n = snprintf(out, out_size, "%s%s", root, url_path);
        if (n > 0 && (size_t)n < out_size && is_regular_file(out) && inside_root(root, out))
            return 0;
    }
    int n = snprintf(out, out_size, "%s/index.html", root);
    if (n < 0 || (size_t)n >= out_size || !is_regular_file(out))
        return -1;
    return 0;
}
