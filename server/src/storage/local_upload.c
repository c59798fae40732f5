/* The HTTP side of the local folder: browsers PUT chunks to /storage/{key} with a signed
 * URL (storage_local.c makes them) and GET results the same way. The body is streamed
 * to a temporary file on the thread pool, hashed on the way, checked against the signed
 * size and SHA-256, fsynced and renamed into place. A stored object is never replaced by
 * other bytes: the same bytes again are fine, different ones get 409. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "http/static_files.h"
#include "log.h"
#include "storage/local_upload.h"
#include "storage/storage_local.h"
#include "util/crypto.h"

#define PREFIX "/storage/"

typedef struct {
    char key[STORAGE_KEY_MAX];
    int64_t expires;
    int64_t size;
    char sha256[65];
    char type[256];
    char sig[65];
} signed_url;

typedef struct {
    uv_work_t work;
    http_request *req;
    char path[1024];
    char tmp[1100];
    signed_url url;
    int fd;
    EVP_MD_CTX *md;
    int64_t received;
    unsigned char *piece;     /* the body piece being written */
    size_t piece_len;
    bool job_running;
    bool ended;               /* the whole body arrived */
    bool aborted;             /* the client went */
    bool finishing;
    int status;               /* the final answer */
    const char *code;
    const char *message;
} upload;

/* ---- the signed URL ------------------------------------------------------------------ */

static const char *query_value(const char *query, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            size_t len = strcspn(p + n + 1, "&");
            if (len >= size)
                return NULL;
            memcpy(out, p + n + 1, len);
            out[len] = '\0';
            return out;
        }
    }
    return NULL;
}

static bool read_signed_url(const http_request *req, bool put, signed_url *u)
{
    char expires[24], size[24];
    memset(u, 0, sizeof *u);
    snprintf(u->key, sizeof u->key, "%s", req->path + strlen(PREFIX));
    if (!storage_key_is_valid(u->key) || !query_value(req->query, "expires", expires, sizeof expires) ||
        !query_value(req->query, "sig", u->sig, sizeof u->sig))
        return false;
    u->expires = strtoll(expires, NULL, 10);
    if (!put)
        return true;
    if (!query_value(req->query, "size", size, sizeof size) ||
        !query_value(req->query, "sha256", u->sha256, sizeof u->sha256) ||
        !query_value(req->query, "type", u->type, sizeof u->type))
        return false;
    u->size = strtoll(size, NULL, 10);
    return true;
}

/* Answers and returns false unless the URL is signed by us, unexpired, and for key. */
static bool check_signature(http_request *req, const local_storage *ls, const signed_url *u, bool put)
{
    char canonical[1024], expected[65];
    if (put)
        storage_local_put_canonical(u->key, u->expires, u->size, u->sha256, u->type, canonical, sizeof canonical);
    else
        storage_local_get_canonical(u->key, u->expires, canonical, sizeof canonical);
    storage_local_sign(ls, canonical, expected);
    if (!crypto_equal_ct(expected, u->sig)) {
        http_respond_error(req, 403, "invalid_signature", "this storage URL is not valid");
        return false;
    }
    if (u->expires <= storage_local_now_s()) { /* valid until, not including, that second */
        http_respond_error(req, 403, "url_expired", "this storage URL has expired; ask for a new one");
        return false;
    }
    return true;
}

static const local_storage *local_of(http_request *req)
{
    app *a = req->app;
    return storage_local_impl(a->storage);
}

/* ---- the body, on the thread pool ------------------------------------------------------ */

static void write_piece(uv_work_t *w)
{
    upload *up = w->data;
    if (up->fd == -1) { /* first piece; -2 means an earlier write failed */
        storage_local_make_parents(up->tmp);
        up->fd = open(up->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    }
    size_t done = 0;
    while (up->fd >= 0 && done < up->piece_len) {
        ssize_t n = write(up->fd, up->piece + done, up->piece_len - done);
        if (n <= 0) {
            close(up->fd);
            up->fd = -2; /* failed: reported at the end */
            break;
        }
        done += (size_t)n;
    }
    EVP_DigestUpdate(up->md, up->piece, up->piece_len);
}

static void set_answer(upload *up, int status, const char *code, const char *message)
{
    up->status = status;
    up->code = code;
    up->message = message;
}

/* The bytes are all in the temporary file: check them and put them in place. */
static void finish_on_pool(uv_work_t *w)
{
    upload *up = w->data;
    unsigned char digest[32];
    char sha[65], existing[65];
    EVP_DigestFinal_ex(up->md, digest, NULL);
    crypto_hex(digest, sizeof digest, sha);
    bool written = up->fd >= 0 && fsync(up->fd) == 0; /* -2: a write failed; -1: nothing came */
    if (up->fd >= 0)
        written = close(up->fd) == 0 && written;
    up->fd = -1;
    int64_t existing_size;
    if (!written) {
        set_answer(up, 500, "internal_error", "the chunk could not be written");
    } else if (up->received != up->url.size || strcmp(sha, up->url.sha256) != 0) {
        set_answer(up, 400, "checksum_mismatch", "the body does not match the signed size and SHA-256");
    } else if (storage_local_hash_file(up->path, &existing_size, existing) == 0) {
        bool same = strcmp(existing, sha) == 0;
        set_answer(up, same ? 200 : 409, same ? "ok" : "conflict",
                   same ? "stored already" : "another chunk is stored under this key");
    } else if (storage_local_make_parents(up->path) < 0 || rename(up->tmp, up->path) < 0) {
        set_answer(up, 500, "internal_error", "the chunk could not be stored");
    } else {
        set_answer(up, 201, "ok", "stored");
        return; /* the temporary file is the object now */
    }
    unlink(up->tmp);
}

static void upload_free(upload *up)
{
    EVP_MD_CTX_free(up->md);
    free(up->piece);
    free(up);
}

static void answer(upload *up)
{
    http_request *req = up->req;
    http_stream_resume(req); /* a paused connection would not write the answer either */
    if (up->status == 200 || up->status == 201) {
        log_info("storage: %s %s (%lld bytes)", up->status == 201 ? "stored" : "kept", up->url.key,
                 (long long)up->received);
        http_respond_json(req, up->status, json_pack("{s:s, s:I, s:s}", "key", up->url.key, "size",
                                                     (json_int_t)up->received, "sha256", up->url.sha256));
    } else {
        log_warn("storage: refused %s: %s", up->url.key, up->message);
        http_respond_error(req, up->status, up->code, up->message);
    }
    upload_free(up);
}

static void finish_done(uv_work_t *w, int status)
{
    upload *up = w->data;
    if (status != 0)
        set_answer(up, 500, "internal_error", "the chunk could not be stored");
    answer(up);
}

static void start_finish(upload *up)
{
    up->finishing = true;
    if (up->aborted) { /* nothing to check: drop the partial file */
        if (up->fd >= 0)
            close(up->fd);
        unlink(up->tmp);
        set_answer(up, 400, "aborted", "the upload was cut off");
        answer(up);
        return;
    }
    if (uv_queue_work(((app *)up->req->app)->loop, &up->work, finish_on_pool, finish_done) != 0) {
        set_answer(up, 500, "internal_error", "the chunk could not be stored");
        answer(up);
    }
}

static void piece_written(uv_work_t *w, int status)
{
    upload *up = w->data;
    up->job_running = false;
    if (status != 0 && up->fd >= 0) {
        close(up->fd);
        up->fd = -2;
    }
    if (up->ended || up->aborted)
        start_finish(up);
    else
        http_stream_resume(up->req);
}

/* ---- the stream handler ------------------------------------------------------------------ */

static void *put_begin(http_request *req, int64_t content_length)
{
    const local_storage *ls = local_of(req);
    upload *up = calloc(1, sizeof *up);
    if (!ls || !up) {
        free(up);
        http_respond_error(req, 404, "not_found", "uploads go to object storage, not to this server");
        return NULL;
    }
    if (!read_signed_url(req, true, &up->url)) {
        free(up);
        http_respond_error(req, 403, "invalid_signature", "this storage URL is not valid");
        return NULL;
    }
    if (!check_signature(req, ls, &up->url, true)) {
        free(up);
        return NULL;
    }
    if (strcmp(req->content_type, up->url.type) != 0) {
        free(up);
        http_respond_error(req, 415, "unsupported_media_type", "send the Content-Type the URL was signed for");
        return NULL;
    }
    if (content_length != up->url.size) {
        free(up);
        http_respond_error(req, 400, "size_mismatch", "Content-Length is not the signed size");
        return NULL;
    }
    storage_local_path(ls, up->url.key, up->path, sizeof up->path);
    char id[37];
    crypto_uuid_v4(id);
    snprintf(up->tmp, sizeof up->tmp, "%s/.uploads/%s.part", storage_local_root(ls), id);
    up->req = req;
    up->fd = -1;
    up->work.data = up;
    up->md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(up->md, EVP_sha256(), NULL);
    return up;
}

static int put_data(void *sink, const void *data, size_t len)
{
    upload *up = sink;
    if (up->received + (int64_t)len > up->url.size)
        return -1; /* more than Content-Length: lws would not do it, a broken client might */
    unsigned char *piece = realloc(up->piece, len);
    if (!piece)
        return -1;
    up->piece = piece;
    memcpy(up->piece, data, len);
    up->piece_len = len;
    up->received += (int64_t)len;
    up->job_running = true;
    if (uv_queue_work(((app *)up->req->app)->loop, &up->work, write_piece, piece_written) != 0)
        return -1;
    return 1; /* no more until this piece is on disk */
}

static void put_end(void *sink)
{
    upload *up = sink;
    up->ended = true;
    if (!up->job_running)
        start_finish(up);
}

static void put_abort(void *sink)
{
    upload *up = sink;
    up->aborted = true;
    log_info("storage: upload of %s cut off after %lld of %lld bytes", up->url.key, (long long)up->received,
             (long long)up->url.size);
    if (!up->job_running && !up->finishing)
        start_finish(up);
}

static int get_file(http_request *req, char *path, size_t size, const char **mime)
{
    const local_storage *ls = local_of(req);
    signed_url u;
    if (!ls) {
        http_respond_error(req, 404, "not_found", "downloads come from object storage, not from this server");
        return -1;
    }
    if (!read_signed_url(req, false, &u)) {
        http_respond_error(req, 403, "invalid_signature", "this storage URL is not valid");
        return -1;
    }
    if (!check_signature(req, ls, &u, false))
        return -1;
    if (storage_local_path(ls, u.key, path, size) < 0 || access(path, R_OK) < 0) {
        http_respond_error(req, 404, "not_found", "no such object");
        return -1;
    }
    *mime = static_mime_type(path);
    return 0;
}

static const http_stream_handler LOCAL_UPLOADS = {
    .prefix = PREFIX,
    .put_begin = put_begin,
    .put_data = put_data,
    .put_end = put_end,
    .put_abort = put_abort,
    .get_file = get_file,
};

const http_stream_handler *local_upload_handler(void) { return &LOCAL_UPLOADS; }
