/* The local folder back end: objects are files under root, written to a temporary file,
 * fsynced and renamed into place, so a reader never sees half an object. Disk work runs
 * on the thread pool. Browsers upload to this server itself through signed URLs
 * (storage/local_upload.c checks them). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "storage/storage.h"
#include "storage/storage_local.h"
#include "util/crypto.h"

#define LIST_MAX 100000

struct local_storage {
    char root[512];
    char public_url[512];
    uint8_t secret[32];
    int pending;
    bool closing;
};

/* ---- keys and paths --------------------------------------------------------------------- */

bool storage_key_is_valid(const char *key)
{
    size_t len = strlen(key);
    if (len == 0 || len >= STORAGE_KEY_MAX || key[0] == '/' || key[len - 1] == '/')
        return false;
    const char *segment = key;
    for (const char *p = key;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - segment);
            if (n == 0 || (n == 1 && segment[0] == '.') || (n == 2 && segment[0] == '.' && segment[1] == '.'))
                return false;
            if (*p == '\0')
                return true;
            segment = p + 1;
        } else if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
                   *p != '.' && *p != '_' && *p != '-') {
            return false;
        }
    }
}

int storage_local_path(const local_storage *ls, const char *key, char *out, size_t size)
{
    if (!storage_key_is_valid(key))
        return -1;
    int n = snprintf(out, size, "%s/%s", ls->root, key);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* mkdir -p for the folders of path (not the last part). */
int storage_local_make_parents(const char *path)
{
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, 0750) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

int storage_local_hash_file(const char *path, int64_t *size, char sha256[65])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    static __thread unsigned char buf[256 * 1024];
    ssize_t n;
    *size = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        EVP_DigestUpdate(md, buf, (size_t)n);
        *size += n;
    }
    unsigned char digest[32];
    EVP_DigestFinal_ex(md, digest, NULL);
    EVP_MD_CTX_free(md);
    close(fd);
    crypto_hex(digest, sizeof digest, sha256);
    return n < 0 ? -1 : 0;
}

/* ---- signed URLs -------------------------------------------------------------------------- */

int64_t storage_local_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

void storage_local_sign(const local_storage *ls, const char *canonical, char out[65])
{
    uint8_t mac[32];
    crypto_hmac_sha256(ls->secret, sizeof ls->secret, canonical, strlen(canonical), mac);
    crypto_hex(mac, sizeof mac, out);
}

static void url_encode(const char *in, char *out, size_t size)
{
    static const char HEX[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < size; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = HEX[*p >> 4];
            out[o++] = HEX[*p & 15];
        }
    }
    out[o] = '\0';
}

void storage_local_put_canonical(const char *key, int64_t expires, int64_t size, const char *sha256,
                                 const char *content_type, char *out, size_t out_size)
{
    snprintf(out, out_size, "PUT\n%s\n%lld\n%lld\n%s\n%s", key, (long long)expires, (long long)size, sha256,
             content_type);
}

void storage_local_get_canonical(const char *key, int64_t expires, char *out, size_t out_size)
{
    snprintf(out, out_size, "GET\n%s\n%lld", key, (long long)expires);
}

static int local_presign_put(storage *s, const char *key, const char *content_type, const char *sha256_hex,
                             int64_t size, int expires_s, storage_presigned *out)
{
    local_storage *ls = s->impl;
    if (!storage_key_is_valid(key) || expires_s <= 0 || size < 0 || strlen(sha256_hex) != 64)
        return -1;
    memset(out, 0, sizeof *out);
    out->expires_at = storage_local_now_s() + expires_s;
    char canonical[1024], sig[65], type[512];
    storage_local_put_canonical(key, out->expires_at, size, sha256_hex, content_type, canonical, sizeof canonical);
    storage_local_sign(ls, canonical, sig);
    url_encode(content_type, type, sizeof type);
    snprintf(out->url, sizeof out->url, "%s/storage/%s?expires=%lld&size=%lld&sha256=%s&type=%s&sig=%s",
             ls->public_url, key, (long long)out->expires_at, (long long)size, sha256_hex, type, sig);
    snprintf(out->method, sizeof out->method, "PUT");
    out->nheaders = 1;
    snprintf(out->header_names[0], sizeof out->header_names[0], "Content-Type");
    snprintf(out->header_values[0], sizeof out->header_values[0], "%s", content_type);
    return 0;
}

static int local_presign_get(storage *s, const char *key, int expires_s, storage_presigned *out)
{
    local_storage *ls = s->impl;
    if (!storage_key_is_valid(key) || expires_s <= 0)
        return -1;
    memset(out, 0, sizeof *out);
    out->expires_at = storage_local_now_s() + expires_s;
    char canonical[700], sig[65];
    storage_local_get_canonical(key, out->expires_at, canonical, sizeof canonical);
    storage_local_sign(ls, canonical, sig);
    snprintf(out->url, sizeof out->url, "%s/storage/%s?expires=%lld&sig=%s", ls->public_url, key,
             (long long)out->expires_at, sig);
    snprintf(out->method, sizeof out->method, "GET");
    return 0;
}

/* ---- disk work on the thread pool ----------------------------------------------------------- */

typedef enum { JOB_HEAD, JOB_PUT_FILE, JOB_LIST, JOB_REMOVE } job_kind;

typedef struct {
    uv_work_t work;
    storage *owner;
    job_kind kind;
    char key[STORAGE_KEY_MAX];
    char path[1024];
    char source[1024];
    bool hash;
    storage_status status;
    storage_object object;
    char **keys;
    int nkeys;
    storage_done_cb done_cb;
    storage_head_cb head_cb;
    storage_list_cb list_cb;
    void *ctx;
} local_job;

static void run_head(local_job *job)
{
    struct stat st;
    if (stat(job->path, &st) < 0 || !S_ISREG(st.st_mode)) {
        job->status = errno == ENOENT || !S_ISREG(st.st_mode) ? STORAGE_NOT_FOUND : STORAGE_ERROR;
        return;
    }
    job->object.size = st.st_size;
    if (job->hash) {
        int rc = storage_local_hash_file(job->path, &job->object.size, job->object.sha256);
        job->status = rc == 0 ? STORAGE_OK : rc > 0 ? STORAGE_NOT_FOUND : STORAGE_ERROR;
    }
}

/* Copies source to a temporary file next to path, fsyncs it and renames it into place. */
static int copy_durably(const char *source, const char *path)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp-%d-%lx", path, (int)getpid(), (unsigned long)pthread_self());
    int in = open(source, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    static __thread char buf[256 * 1024];
    ssize_t n = -1;
    bool ok = in >= 0 && out >= 0;
    while (ok && (n = read(in, buf, sizeof buf)) > 0)
        ok = write(out, buf, (size_t)n) == n;
    ok = ok && n == 0 && fsync(out) == 0;
    if (out >= 0)
        ok = close(out) == 0 && ok;
    if (in >= 0)
        close(in);
    if (!ok || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void run_put_file(local_job *job)
{
    job->status = storage_local_make_parents(job->path) == 0 && copy_durably(job->source, job->path) == 0
                      ? STORAGE_OK
                      : STORAGE_ERROR;
}

static void add_key(local_job *job, const char *key)
{
    if (job->nkeys >= LIST_MAX)
        return;
    if (job->nkeys % 256 == 0) {
        char **grown = realloc(job->keys, sizeof *grown * (size_t)(job->nkeys + 256));
        if (!grown)
            return;
        job->keys = grown;
    }
    job->keys[job->nkeys++] = strdup(key);
}

/* Walks dir (whose key prefix is rel, "" for the root) adding files whose key starts with prefix. */
static void walk(local_job *job, const char *dir, const char *rel, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp-"))
            continue; /* ., .., and files still being written */
        char child[1024], key[STORAGE_KEY_MAX];
        snprintf(child, sizeof child, "%s/%s", dir, e->d_name);
        snprintf(key, sizeof key, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        size_t klen = strlen(key), plen = strlen(prefix);
        struct stat st;
        if (stat(child, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode) && (strncmp(prefix, key, klen < plen ? klen : plen) == 0))
            walk(job, child, key, prefix);
        else if (S_ISREG(st.st_mode) && strncmp(key, prefix, plen) == 0)
            add_key(job, key);
    }
    closedir(d);
}

static void run_list(local_job *job)
{
    local_storage *ls = job->owner->impl;
    walk(job, ls->root, "", job->key);
}

static void run_remove(local_job *job)
{
    job->status = unlink(job->path) == 0 ? STORAGE_OK : errno == ENOENT ? STORAGE_NOT_FOUND : STORAGE_ERROR;
}

static void job_run(uv_work_t *w)
{
    local_job *job = w->data;
    switch (job->kind) {
    case JOB_HEAD: run_head(job); break;
    case JOB_PUT_FILE: run_put_file(job); break;
    case JOB_LIST: run_list(job); break;
    case JOB_REMOVE: run_remove(job); break;
    }
}

static void local_free(storage *s)
{
    free(s->impl);
    free(s);
}

static void job_done(uv_work_t *w, int status)
{
    local_job *job = w->data;
    storage *s = job->owner;
    local_storage *ls = s->impl;
    if (status != 0)
        job->status = STORAGE_ERROR;
    if (job->kind == JOB_HEAD)
        job->head_cb(job->status, job->status == STORAGE_OK ? &job->object : NULL, job->ctx);
    else if (job->kind == JOB_LIST)
        job->list_cb(job->status, (const char *const *)job->keys, job->nkeys, job->ctx);
    else if (job->done_cb)
        job->done_cb(job->status, job->ctx);
    for (int i = 0; i < job->nkeys; i++)
        free(job->keys[i]);
    free(job->keys);
    free(job);
    if (--ls->pending == 0 && ls->closing)
        local_free(s);
}

static local_job *job_new(storage *s, job_kind kind, const char *key, void *ctx)
{
    local_job *job = calloc(1, sizeof *job);
    if (!job)
        abort(); /* a few hundred bytes; nothing sensible to answer with */
    job->work.data = job;
    job->owner = s;
    job->kind = kind;
    job->ctx = ctx;
    snprintf(job->key, sizeof job->key, "%s", key);
    if (kind != JOB_LIST && storage_local_path(s->impl, key, job->path, sizeof job->path) < 0)
        job->status = STORAGE_ERROR;
    return job;
}

static void job_queue(storage *s, local_job *job)
{
    local_storage *ls = s->impl;
    ls->pending++;
    bool bad = job->status != STORAGE_OK; /* an invalid key: answer without touching the disk */
    if (uv_queue_work(s->loop, &job->work, bad ? NULL : job_run, job_done) != 0)
        abort();
}

static void local_head(storage *s, const char *key, bool hash, storage_head_cb cb, void *ctx)
{
    local_job *job = job_new(s, JOB_HEAD, key, ctx);
    job->hash = hash;
    job->head_cb = cb;
    job_queue(s, job);
}

static void local_put_file(storage *s, const char *key, const char *path, const char *content_type,
                           storage_done_cb cb, void *ctx)
{
    (void)content_type; /* files carry no type; the extension tells it when served */
    local_job *job = job_new(s, JOB_PUT_FILE, key, ctx);
    snprintf(job->source, sizeof job->source, "%s", path);
    job->done_cb = cb;
    job_queue(s, job);
}

static void local_list(storage *s, const char *prefix, storage_list_cb cb, void *ctx)
{
    local_job *job = job_new(s, JOB_LIST, prefix, ctx);
    job->list_cb = cb;
    job_queue(s, job);
}

static void local_remove(storage *s, const char *key, storage_done_cb cb, void *ctx)
{
    local_job *job = job_new(s, JOB_REMOVE, key, ctx);
    job->done_cb = cb;
    job_queue(s, job);
}

static storage_status local_read_range(storage *s, const char *key, int64_t offset, void *buf, size_t len,
                                       size_t *got)
{
    char path[1024];
    *got = 0;
    if (storage_local_path(s->impl, key, path, sizeof path) < 0)
        return STORAGE_ERROR;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? STORAGE_NOT_FOUND : STORAGE_ERROR;
    ssize_t n = pread(fd, buf, len, offset);
    close(fd);
    if (n < 0)
        return STORAGE_ERROR;
    *got = (size_t)n;
    return STORAGE_OK;
}

static void local_close(storage *s)
{
    local_storage *ls = s->impl;
    ls->closing = true;
    if (ls->pending == 0)
        local_free(s);
}

static const storage_backend LOCAL_BACKEND = {
    .name = "local",
    .head = local_head,
    .put_file = local_put_file,
    .list = local_list,
    .remove = local_remove,
    .presign_put = local_presign_put,
    .presign_get = local_presign_get,
    .read_range = local_read_range,
    .close = local_close,
};

const local_storage *storage_local_impl(const storage *s)
{
    return s && s->backend == &LOCAL_BACKEND ? s->impl : NULL;
}

const char *storage_local_root(const local_storage *ls) { return ls->root; }

storage *storage_local_open(uv_loop_t *loop, const char *root, const char *public_url, const uint8_t *secret,
                            size_t secret_len, char *err, size_t err_size)
{
    char probe[600];
    snprintf(probe, sizeof probe, "%s/", root);
    if (storage_local_make_parents(probe) < 0 || access(root, W_OK) < 0) {
        snprintf(err, err_size, "DATA_DIR: cannot create or write %s: %s", root, strerror(errno));
        return NULL;
    }
    storage *s = calloc(1, sizeof *s);
    local_storage *ls = calloc(1, sizeof *ls);
    if (!s || !ls) {
        free(s);
        free(ls);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    snprintf(ls->root, sizeof ls->root, "%s", root);
    snprintf(ls->public_url, sizeof ls->public_url, "%s", public_url);
    /* A key of its own, derived from the server's secret, for signing upload URLs. */
    crypto_hmac_sha256(secret, secret_len, "zencast local storage v1", 24, ls->secret);
    s->backend = &LOCAL_BACKEND;
    s->loop = loop;
    s->impl = ls;
    return s;
}
