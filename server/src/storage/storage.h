/* Object storage: one interface, two implementations. The local folder (embedded
 * default, DATA_DIR/objects) and S3 or an S3-compatible server (AWS_S3_BUCKET). Keys are
 * the seed's: recordings/{roomId}/{userId}/{chunkIndex}.{ext}, processed/{roomId}/...
 *
 * The asynchronous calls run on the loop thread and call back later (never inside the
 * call). read_range is blocking and meant for worker threads, never the loop. */
#ifndef ZC_STORAGE_H
#define ZC_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define STORAGE_KEY_MAX 512
#define STORAGE_URL_MAX 4096
#define STORAGE_MAX_HEADERS 4

typedef enum { STORAGE_OK = 0, STORAGE_NOT_FOUND, STORAGE_ERROR } storage_status;

typedef struct {
    int64_t size;
    char sha256[65]; /* lowercase hex of the content; "" unless the caller asked for it */
} storage_object;

/* A URL a browser uses directly, and the headers it must send with it. */
typedef struct {
    char url[STORAGE_URL_MAX];
    char method[8];
    int nheaders;
    char header_names[STORAGE_MAX_HEADERS][64];
    char header_values[STORAGE_MAX_HEADERS][256];
    int64_t expires_at; /* epoch seconds */
} storage_presigned;

typedef void (*storage_done_cb)(storage_status status, void *ctx);
typedef void (*storage_head_cb)(storage_status status, const storage_object *object, void *ctx);
/* keys are valid during the callback only. */
typedef void (*storage_list_cb)(storage_status status, const char *const *keys, int count, void *ctx);

typedef struct storage storage;

typedef struct storage_backend {
    const char *name;
    /* Size of the object, and with hash its SHA-256 (read through, off the loop). */
    void (*head)(storage *self, const char *key, bool hash, storage_head_cb cb, void *ctx);
    /* Stores the file at path under key (used for render outputs). */
    void (*put_file)(storage *self, const char *key, const char *path, const char *content_type,
                     storage_done_cb cb, void *ctx);
    /* Every key that starts with prefix. */
    void (*list)(storage *self, const char *prefix, storage_list_cb cb, void *ctx);
    void (*remove)(storage *self, const char *key, storage_done_cb cb, void *ctx);
    /* A URL to PUT exactly size bytes of content_type whose SHA-256 is sha256_hex, valid for
     * expires_s seconds. Pure computation. 0 or -1. */
    int (*presign_put)(storage *self, const char *key, const char *content_type, const char *sha256_hex,
                       int64_t size, int expires_s, storage_presigned *out);
    int (*presign_get)(storage *self, const char *key, int expires_s, storage_presigned *out);
    /* Blocking: up to len bytes from offset into buf; *got is 0 at the end. Worker threads only. */
    storage_status (*read_range)(storage *self, const char *key, int64_t offset, void *buf, size_t len,
                                 size_t *got);
    /* Frees once pending operations have called back (keep running the loop). */
    void (*close)(storage *self);
} storage_backend;

struct storage {
    const storage_backend *backend;
    uv_loop_t *loop;
    void *impl;
};

typedef struct {
    const char *bucket;
    const char *region;
    const char *endpoint;          /* "" for AWS; else e.g. http://127.0.0.1:4568 (path-style) */
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;     /* may be "" */
} storage_s3_options;

/* root: the folder (created if missing). public_url: where browsers reach this server.
 * secret: signs the local upload URLs. */
storage *storage_local_open(uv_loop_t *loop, const char *root, const char *public_url, const uint8_t *secret,
                            size_t secret_len, char *err, size_t err_size);
storage *storage_s3_open(uv_loop_t *loop, const storage_s3_options *opts, char *err, size_t err_size);

/* True for keys we produce: [A-Za-z0-9._-] segments joined by '/', no "." or ".." segment,
 * no leading or trailing '/', at most STORAGE_KEY_MAX-1 bytes. */
bool storage_key_is_valid(const char *key);

#endif
