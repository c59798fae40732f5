/* The S3 back end: AWS S3 or an S3-compatible server (MinIO, s3rver, ...).
 *
 * Server-side calls go through libcurl's multi interface driven by the libuv loop (one
 * uv_poll_t per socket curl wants watched, one uv_timer_t for curl's timeouts), so the
 * loop never blocks on the network. curl signs them itself (CURLOPT_AWS_SIGV4). Browsers
 * get presigned URLs from storage/sigv4.c instead. read_range is the one blocking call,
 * for worker threads: it uses easy handles of its own, kept in a small pool so that the
 * connections (and TLS sessions) are reused. Every read_range must have returned before
 * close is called.
 *
 * curl 7.88's SigV4 has traps that shape the requests below:
 *  - it does not add x-amz-content-sha256, which S3 requires: we add it, and curl then
 *    signs it and uses it as the payload hash;
 *  - it signs every custom header, even a removal such as "Expect:" (fixed in 8.3), so
 *    we only ever add headers, never remove curl's own;
 *  - it does not canonicalise the query (before 8.3/8.5): we pass it sorted,
 *    RFC 3986-encoded and with "name=" for empty values;
 *  - it does not encode the path (before 8.9): object keys are pre-encoded.
 *
 * Addressing: without an endpoint, https://BUCKET.s3.REGION.amazonaws.com/KEY
 * (virtual-hosted); with one, ENDPOINT/BUCKET/KEY (path-style). Presigned URLs use the
 * same host and path.
 *
 * Never logged: the secret key, the session token, and presigned URLs (they are
 * credentials). Failures log the method, the key, the HTTP status and S3's error code. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "storage/sigv4.h"
#include "storage/storage.h"
#include "util/crypto.h"

#define LIST_MAX 100000                   /* keys per list call */
#define LIST_PAGE_MAX (16 * 1024 * 1024)  /* bytes of one ListObjectsV2 answer */
#define ERROR_BODY_MAX 4096               /* bytes of an error answer kept to find <Code> */
#define CONNECT_TIMEOUT_MS 10000L
#define TRANSFER_TIMEOUT_MS 120000L       /* GET and PUT */
#define SHORT_TIMEOUT_MS 30000L           /* HEAD, DELETE, list */
#define POOL_MAX 4                        /* idle easy handles kept for read_range */
#define HOST_CONNECTIONS 16               /* at once; further transfers wait in curl's queue */
#define PUT_MAX ((int64_t)5 * 1024 * 1024 * 1024) /* S3's limit for a single PUT */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- a growable byte buffer with a ceiling ------------------------------------------------ */

typedef struct {
    char *data;
    size_t len, cap;
} bytes;

/* Appends n bytes (keeping a NUL after them) unless that would pass max. 0 or -1. */
static int bytes_append(bytes *b, const char *p, size_t n, size_t max)
{
    if (n > max || b->len > max - n)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static void bytes_free(bytes *b)
{
    free(b->data);
    *b = (bytes){0};
}

/* ---- state ------------------------------------------------------------------------------------ */

typedef enum { OP_HEAD, OP_HEAD_HASH, OP_PUT, OP_LIST, OP_REMOVE } op_kind;

typedef struct s3_impl s3_impl;

typedef struct s3_op {
    struct s3_op *prev, *next; /* in s3->active, then in the done queue (next only) */
    s3_impl *s3;
    op_kind kind;
    storage_head_cb head_cb;
    storage_done_cb done_cb;
    storage_list_cb list_cb;
    void *ctx;
    char key[STORAGE_KEY_MAX]; /* the key, or the prefix of a list */
    storage_status status;

    /* The transfer in flight. */
    CURL *easy;
    struct curl_slist *headers;
    bool in_multi;
    char errbuf[CURL_ERROR_SIZE];
    bytes body; /* a list page, or the start of an error answer */
    bool body_too_big;

    /* head */
    EVP_MD_CTX *md;
    storage_object object;

    /* put_file: the file is hashed on the thread pool first. */
    uv_work_t work;
    bool working;
    char *path;
    char content_type[256];
    FILE *file;
    int64_t file_size;
    char file_sha256[65];
    int file_errno;

    /* list */
    char **keys;
    int nkeys, keys_cap;
    char *token; /* the next page's continuation token */
} s3_op;

typedef struct s3_socket {
    uv_poll_t poll; /* first: the close callback gets it */
    curl_socket_t fd;
    s3_impl *s3;
    struct s3_socket *prev, *next;
} s3_socket;

struct s3_impl {
    storage pub;
    CURLM *multi;
    uv_timer_t timer; /* curl's timeout */
    uv_timer_t defer; /* runs completions on a later loop turn, never inside a call */
    int open_handles; /* initialised uv handles whose close callback has not run */
    s3_socket *sockets;
    s3_op *active; /* hashing or in flight */
    s3_op *done_head, *done_tail;
    bool closing, dispatching, torn_down;

    char scheme[8];
    char host[256];      /* host[:port] */
    char base_path[512]; /* raw: "" (virtual-hosted) or [endpoint path]/BUCKET (path-style) */
    char bucket[64];
    char region[64];
    char aws_sigv4[96]; /* "aws:amz:REGION:s3" */
    char *access_key_id, *secret_access_key, *session_token; /* token may be "" */

    pthread_mutex_t pool_lock; /* guards the three below: read_range runs on other threads */
    CURL *pool[POOL_MAX];
    int npool;
    bool pool_closed;
};

static const char *op_method(const s3_op *op)
{
    switch (op->kind) {
    case OP_HEAD: return "HEAD";
    case OP_HEAD_HASH: return "GET";
    case OP_PUT: return "PUT";
    case OP_LIST: return "LIST";
    case OP_REMOVE: return "DELETE";
    }
    return "?";
}

/* ---- addressing --------------------------------------------------------------------------------- */

/* scheme://host + the encoded path of key (NULL: the bucket itself) + "?" query. 0 or -1. */
static int build_url(const s3_impl *s3, const char *key, const char *query, char *out, size_t size)
{
    char raw[STORAGE_KEY_MAX + 600], path[3 * sizeof raw];
    int n;
    if (key)
        n = snprintf(raw, sizeof raw, "%s/%s", s3->base_path, key);
    else
        n = snprintf(raw, sizeof raw, "%s", s3->base_path[0] ? s3->base_path : "/");
    if (n < 0 || (size_t)n >= sizeof raw || sigv4_uri_encode(raw, true, path, sizeof path) < 0)
        return -1;
    n = snprintf(out, size, "%s://%s%s%s%s", s3->scheme, s3->host, path, query ? "?" : "", query ? query : "");
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* ---- the libuv <-> curl multi plumbing ------------------------------------------------------ */

static void check_multi_info(s3_impl *s3);
static void maybe_teardown(s3_impl *s3);

static void free_impl(s3_impl *s3)
{
    free(s3->access_key_id);
    if (s3->secret_access_key) {
        explicit_bzero(s3->secret_access_key, strlen(s3->secret_access_key));
        free(s3->secret_access_key);
    }
    if (s3->session_token) {
        explicit_bzero(s3->session_token, strlen(s3->session_token));
        free(s3->session_token);
    }
    pthread_mutex_destroy(&s3->pool_lock);
    free(s3);
    curl_global_cleanup();
}

static void on_handle_closed(uv_handle_t *h)
{
    s3_impl *s3 = h->data;
    if (h->type == UV_POLL) {
        s3_socket *sock = (s3_socket *)h;
        if (sock->prev)
            sock->prev->next = sock->next;
        else
            s3->sockets = sock->next;
        if (sock->next)
            sock->next->prev = sock->prev;
        free(sock);
    }
    if (--s3->open_handles == 0 && s3->torn_down)
        free_impl(s3);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
    s3_socket *sock = (s3_socket *)poll;
    s3_impl *s3 = sock->s3;
    curl_socket_t fd = sock->fd; /* sock may be closed during the call */
    int flags = 0, running = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(s3->multi, fd, flags, &running);
    check_multi_info(s3);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    s3_impl *s3 = userp;
    s3_socket *sock = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sock) {
            if (!s3->torn_down)
                curl_multi_assign(s3->multi, fd, NULL);
            uv_close((uv_handle_t *)&sock->poll, on_handle_closed);
        }
        return 0;
    }
    if (!sock) {
        sock = calloc(1, sizeof *sock);
        if (!sock)
            return -1;
        if (uv_poll_init_socket(s3->pub.loop, &sock->poll, fd) != 0) {
            free(sock);
            return -1;
        }
        sock->poll.data = s3;
        sock->fd = fd;
        sock->s3 = s3;
        sock->next = s3->sockets;
        if (s3->sockets)
            s3->sockets->prev = sock;
        s3->sockets = sock;
        s3->open_handles++;
        curl_multi_assign(s3->multi, fd, sock);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&sock->poll, events, on_poll) == 0 ? 0 : -1;
}

static void on_timeout(uv_timer_t *timer)
{
    s3_impl *s3 = timer->data;
    int running = 0;
    curl_multi_socket_action(s3->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(s3);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    s3_impl *s3 = userp;
    if (s3->torn_down)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&s3->timer);
    else /* 0 too: curl wants a call soon, and never from inside its own callback */
        uv_timer_start(&s3->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- operations: start, finish, dispatch -------------------------------------------------------- */

static void op_free(s3_op *op)
{
    if (op->easy)
        curl_easy_cleanup(op->easy);
    curl_slist_free_all(op->headers);
    bytes_free(&op->body);
    EVP_MD_CTX_free(op->md);
    if (op->file)
        fclose(op->file);
    free(op->path);
    for (int i = 0; i < op->nkeys; i++)
        free(op->keys[i]);
    free(op->keys);
    free(op->token);
    free(op);
}

/* Ends the transfer in flight, if any: the easy handle goes, the buffers stay. */
static void op_end_transfer(s3_op *op)
{
    if (op->in_multi) {
        curl_multi_remove_handle(op->s3->multi, op->easy);
        op->in_multi = false;
    }
    if (op->easy) {
        curl_easy_cleanup(op->easy);
        op->easy = NULL;
    }
    curl_slist_free_all(op->headers);
    op->headers = NULL;
}

static void on_defer(uv_timer_t *timer)
{
    s3_impl *s3 = timer->data;
    s3->dispatching = true;
    s3_op *op;
    while ((op = s3->done_head)) {
        s3->done_head = op->next;
        if (!s3->done_head)
            s3->done_tail = NULL;
        switch (op->kind) {
        case OP_HEAD:
        case OP_HEAD_HASH:
            op->head_cb(op->status, op->status == STORAGE_OK ? &op->object : NULL, op->ctx);
            break;
        case OP_LIST: /* on failure, keys gathered so far are freed unseen */
            op->list_cb(op->status, op->status == STORAGE_OK ? (const char *const *)op->keys : NULL,
                        op->status == STORAGE_OK ? op->nkeys : 0, op->ctx);
            break;
        case OP_PUT:
        case OP_REMOVE:
            if (op->done_cb)
                op->done_cb(op->status, op->ctx);
            break;
        }
        op_free(op);
    }
    s3->dispatching = false;
    maybe_teardown(s3);
}

/* The operation is over: its callback runs on a later loop turn. */
static void op_finish(s3_op *op, storage_status status)
{
    s3_impl *s3 = op->s3;
    op_end_transfer(op);
    if (op->file) {
        fclose(op->file);
        op->file = NULL;
    }
    op->status = status;
    if (op->prev)
        op->prev->next = op->next;
    else
        s3->active = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
    if (s3->done_tail)
        s3->done_tail->next = op;
    else
        s3->done_head = op;
    s3->done_tail = op;
    if (!s3->dispatching)
        uv_timer_start(&s3->defer, on_defer, 0, 0);
}

static s3_op *op_new(s3_impl *s3, op_kind kind, const char *key, void *ctx)
{
    s3_op *op = calloc(1, sizeof *op);
    if (!op)
        abort(); /* a few KiB; nothing sensible to answer with */
    op->s3 = s3;
    op->kind = kind;
    op->ctx = ctx;
    snprintf(op->key, sizeof op->key, "%s", key ? key : "");
    op->next = s3->active;
    if (s3->active)
        s3->active->prev = op;
    s3->active = op;
    return op;
}

/* The value of <name>...</name> in xml (the first at or after from), raw; NULL when absent. */
static const char *xml_find(const char *from, const char *end, const char *name, const char **value_end)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", name);
    snprintf(close, sizeof close, "</%s>", name);
    const char *p = memmem(from, (size_t)(end - from), open, strlen(open));
    if (!p)
        return NULL;
    p += strlen(open);
    const char *q = memmem(p, (size_t)(end - p), close, strlen(close));
    if (!q)
        return NULL;
    *value_end = q;
    return p;
}

/* Decodes XML character data (the five entities and numeric references) into a new string. */
static char *xml_unescape(const char *p, const char *end)
{
    char *out = malloc((size_t)(end - p) + 1), *o = out;
    if (!out)
        return NULL;
    while (p < end) {
        if (*p != '&') {
            *o++ = *p++;
            continue;
        }
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi)
            goto bad;
        size_t n = (size_t)(semi - p - 1);
        const char *name = p + 1;
        if (n == 3 && memcmp(name, "amp", 3) == 0) {
            *o++ = '&';
        } else if (n == 2 && memcmp(name, "lt", 2) == 0) {
            *o++ = '<';
        } else if (n == 2 && memcmp(name, "gt", 2) == 0) {
            *o++ = '>';
        } else if (n == 4 && memcmp(name, "quot", 4) == 0) {
            *o++ = '"';
        } else if (n == 4 && memcmp(name, "apos", 4) == 0) {
            *o++ = '\'';
        } else if (n >= 2 && name[0] == '#') {
            bool hex = name[1] == 'x' || name[1] == 'X';
            const char *digits = name + (hex ? 2 : 1);
            if (digits >= semi || semi - digits > 8)
                goto bad;
            unsigned long cp = 0;
            for (const char *d = digits; d < semi; d++) {
                int v = isdigit((unsigned char)*d)                ? *d - '0'
                        : hex && isxdigit((unsigned char)*d) ? (tolower((unsigned char)*d) - 'a' + 10)
                                                                  : -1;
                if (v < 0)
                    goto bad;
                cp = cp * (hex ? 16 : 10) + (unsigned long)v;
            }
            /* UTF-8; the reference is at least as long as its encoding. */
            if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                goto bad;
            if (cp < 0x80) {
                *o++ = (char)cp;
            } else if (cp < 0x800) {
                *o++ = (char)(0xC0 | (cp >> 6));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                *o++ = (char)(0xE0 | (cp >> 12));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *o++ = (char)(0xF0 | (cp >> 18));
                *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
                *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *o++ = (char)(0x80 | (cp & 0x3F));
            }
        } else {
            goto bad;
        }
        p = semi + 1;
    }
    *o = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

/* S3's error code from an error answer, for the log ("" when there is none). */
static void error_code(const s3_op *op, char *out, size_t size)
{
    out[0] = '\0';
    if (!op->body.data)
        return;
    const char *end = op->body.data + op->body.len, *value_end;
    const char *value = xml_find(op->body.data, end, "Code", &value_end);
    if (!value || value_end - value > 64)
        return;
    size_t n = 0;
    for (; value < value_end && n + 1 < size; value++)
        out[n++] = isalnum((unsigned char)*value) ? *value : '?';
    out[n] = '\0';
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    s3_op *op = userp;
    size_t n = size * nmemb;
    long code = 0;
    curl_easy_getinfo(op->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code > 299) {
        if (op->body.len < ERROR_BODY_MAX)
            bytes_append(&op->body, data, n < ERROR_BODY_MAX - op->body.len ? n : ERROR_BODY_MAX - op->body.len,
                         ERROR_BODY_MAX);
        return n;
    }
    if (op->kind == OP_HEAD_HASH) {
        if (EVP_DigestUpdate(op->md, data, n) != 1)
            return 0;
        op->object.size += (int64_t)n;
    } else if (op->kind == OP_LIST) {
        if (bytes_append(&op->body, data, n, LIST_PAGE_MAX) != 0) {
            op->body_too_big = true;
            return 0;
        }
    }
    return n;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *userp)
{
    s3_op *op = userp;
    size_t n = fread(buf, size, nmemb, op->file);
    if (n == 0 && ferror(op->file))
        return CURL_READFUNC_ABORT;
    return n;
}

/* The options every request has: credentials, signing, timeouts, no redirects. */
static int easy_setup(const s3_impl *s3, CURL *e, const char *url, long timeout_ms, char *errbuf)
{
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, url);
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    bad |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    bad |= curl_easy_setopt(e, CURLOPT_AWS_SIGV4, s3->aws_sigv4);
    bad |= curl_easy_setopt(e, CURLOPT_USERNAME, s3->access_key_id);
    bad |= curl_easy_setopt(e, CURLOPT_PASSWORD, s3->secret_access_key);
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    errbuf[0] = '\0';
    return bad ? -1 : 0;
}

/* x-amz-content-sha256 (curl 7.88 does not add it; it signs it and uses it as the payload
 * hash) and, with temporary credentials, x-amz-security-token. */
static struct curl_slist *auth_headers(const s3_impl *s3, const char *payload_sha256)
{
    char line[128];
    struct curl_slist *list = NULL, *next;
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", payload_sha256);
    if (!(next = curl_slist_append(list, line)))
        return NULL;
    list = next;
    if (s3->session_token[0]) {
        size_t n = strlen(s3->session_token) + 32;
        char *token_line = malloc(n);
        if (!token_line) {
            curl_slist_free_all(list);
            return NULL;
        }
        snprintf(token_line, n, "x-amz-security-token: %s", s3->session_token);
        next = curl_slist_append(list, token_line);
        explicit_bzero(token_line, n);
        free(token_line);
        if (!next) {
            curl_slist_free_all(list);
            return NULL;
        }
        list = next;
    }
    return list;
}

static int add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *next = curl_slist_append(*list, line);
    if (!next)
        return -1;
    *list = next;
    return 0;
}

/* Starts op's request (a list page for OP_LIST). 0, or -1 with nothing started. */
static int op_start(s3_op *op)
{
    s3_impl *s3 = op->s3;
    char url[STORAGE_URL_MAX];
    char *query = NULL;
    long timeout = SHORT_TIMEOUT_MS;
    const char *payload = EMPTY_SHA256;

    if (op->kind == OP_LIST) {
        /* Sorted and encoded by hand (curl 7.88 signs the query as given). */
        char prefix[3 * STORAGE_KEY_MAX + 1];
        if (sigv4_uri_encode(op->key, false, prefix, sizeof prefix) < 0)
            return -1;
        char *token = NULL;
        if (op->token) {
            size_t tn = 3 * strlen(op->token) + 1;
            if (!(token = malloc(tn)) || sigv4_uri_encode(op->token, false, token, tn) < 0) {
                free(token);
                return -1;
            }
        }
        size_t qn = strlen(prefix) + (token ? strlen(token) : 0) + 64;
        if (!(query = malloc(qn))) {
            free(token);
            return -1;
        }
        snprintf(query, qn, "%s%s%slist-type=2&prefix=%s", token ? "continuation-token=" : "", token ? token : "",
                 token ? "&" : "", prefix);
        free(token);
    }
    int rc = build_url(s3, op->kind == OP_LIST ? NULL : op->key, query, url, sizeof url);
    free(query);
    if (rc != 0)
        return -1;

    if (op->kind == OP_PUT) {
        payload = op->file_sha256;
        timeout = TRANSFER_TIMEOUT_MS;
    } else if (op->kind == OP_HEAD_HASH) {
        timeout = TRANSFER_TIMEOUT_MS;
    }
    bytes_free(&op->body);
    op->body_too_big = false;
    if (!(op->easy = curl_easy_init()) || easy_setup(s3, op->easy, url, timeout, op->errbuf) != 0 ||
        !(op->headers = auth_headers(s3, payload)))
        goto fail;

    int bad = 0;
    bad |= curl_easy_setopt(op->easy, CURLOPT_PRIVATE, op);
    bad |= curl_easy_setopt(op->easy, CURLOPT_WRITEFUNCTION, on_write);
    bad |= curl_easy_setopt(op->easy, CURLOPT_WRITEDATA, op);
    switch (op->kind) {
    case OP_HEAD:
        bad |= curl_easy_setopt(op->easy, CURLOPT_NOBODY, 1L);
        break;
    case OP_HEAD_HASH:
        EVP_MD_CTX_free(op->md);
        op->object.size = 0;
        if (!(op->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(op->md, EVP_sha256(), NULL) != 1)
            goto fail;
        break;
    case OP_PUT: {
        char line[300];
        snprintf(line, sizeof line, "Content-Type: %s", op->content_type);
        if (add_header(&op->headers, line) != 0)
            goto fail;
        bad |= curl_easy_setopt(op->easy, CURLOPT_UPLOAD, 1L);
        bad |= curl_easy_setopt(op->easy, CURLOPT_READFUNCTION, on_read);
        bad |= curl_easy_setopt(op->easy, CURLOPT_READDATA, op);
        bad |= curl_easy_setopt(op->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)op->file_size);
        /* curl adds "Expect: 100-continue" (unsigned, fine with S3); do not wait long for it. */
        bad |= curl_easy_setopt(op->easy, CURLOPT_EXPECT_100_TIMEOUT_MS, 1000L);
        break;
    }
    case OP_REMOVE:
        bad |= curl_easy_setopt(op->easy, CURLOPT_CUSTOMREQUEST, "DELETE");
        break;
    case OP_LIST:
        break;
    }
    bad |= curl_easy_setopt(op->easy, CURLOPT_HTTPHEADER, op->headers);
    if (bad || curl_multi_add_handle(s3->multi, op->easy) != CURLM_OK)
        goto fail;
    op->in_multi = true;
    return 0;
fail:
    op_end_transfer(op);
    return -1;
}

static void log_failure(const s3_op *op, long code)
{
    char s3code[80];
    error_code(op, s3code, sizeof s3code);
    log_warn("s3: %s %s%s: HTTP %ld%s%s%s", op_method(op), op->kind == OP_LIST ? "prefix " : "", op->key, code,
             s3code[0] ? " (" : "", s3code, s3code[0] ? ")" : "");
}

static int list_add_key(s3_op *op, char *key)
{
    if (op->nkeys == op->keys_cap) {
        int cap = op->keys_cap ? op->keys_cap * 2 : 256;
        char **grown = realloc(op->keys, sizeof *grown * (size_t)cap);
        if (!grown)
            return -1;
        op->keys = grown;
        op->keys_cap = cap;
    }
    op->keys[op->nkeys++] = key;
    return 0;
}

/* Takes the keys of one ListObjectsV2 page. 1 when another page follows, 0 at the end, -1. */
static int list_parse_page(s3_op *op)
{
    const char *p = op->body.data ? op->body.data : "", *end = p + op->body.len, *value_end;
    const char *contents;
    while ((contents = xml_find(p, end, "Contents", &value_end))) {
        const char *contents_end = value_end, *key_end;
        const char *key = xml_find(contents, contents_end, "Key", &key_end);
        if (!key)
            return -1;
        if (op->nkeys >= LIST_MAX) {
            log_warn("s3: LIST prefix %s: more than %d keys, refusing a partial answer", op->key, LIST_MAX);
            return -1;
        }
        char *k = xml_unescape(key, key_end);
        if (!k || list_add_key(op, k) != 0) {
            free(k);
            return -1;
        }
        p = contents_end;
    }
    free(op->token);
    op->token = NULL;
    const char *v = xml_find(op->body.data ? op->body.data : "", end, "IsTruncated", &value_end);
    if (!v || value_end - v != 4 || memcmp(v, "true", 4) != 0)
        return 0;
    v = xml_find(op->body.data, end, "NextContinuationToken", &value_end);
    if (!v || v == value_end || !(op->token = xml_unescape(v, value_end)))
        return -1;
    return 1;
}

/* A transfer ended: decide what it means and finish the operation (or start the next page). */
static void op_transfer_done(s3_op *op, CURLcode res)
{
    long code = 0;
    curl_easy_getinfo(op->easy, CURLINFO_RESPONSE_CODE, &code);
    if (res != CURLE_OK) {
        log_warn("s3: %s %s%s: %s", op_method(op), op->kind == OP_LIST ? "prefix " : "", op->key,
                 op->body_too_big ? "answer too large" : op->errbuf[0] ? op->errbuf : curl_easy_strerror(res));
        op_finish(op, STORAGE_ERROR);
        return;
    }
    if (code == 404 && op->kind != OP_LIST && op->kind != OP_PUT) {
        op_finish(op, STORAGE_NOT_FOUND);
        return;
    }
    bool ok = code >= 200 && code <= 299;
    if (!ok) {
        log_failure(op, code);
        op_finish(op, STORAGE_ERROR);
        return;
    }
    switch (op->kind) {
    case OP_HEAD: {
        curl_off_t len = -1;
        curl_easy_getinfo(op->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
        if (len < 0) {
            log_warn("s3: HEAD %s: no Content-Length", op->key);
            op_finish(op, STORAGE_ERROR);
            return;
        }
        op->object.size = (int64_t)len;
        break;
    }
    case OP_HEAD_HASH: {
        unsigned char digest[32];
        unsigned int dn = 0;
        if (EVP_DigestFinal_ex(op->md, digest, &dn) != 1 || dn != 32) {
            op_finish(op, STORAGE_ERROR);
            return;
        }
        crypto_hex(digest, sizeof digest, op->object.sha256);
        break;
    }
    case OP_LIST: {
        int more = list_parse_page(op);
        if (more < 0) {
            log_warn("s3: LIST prefix %s: unreadable answer", op->key);
            op_finish(op, STORAGE_ERROR);
            return;
        }
        if (more > 0) {
            op_end_transfer(op);
            if (op_start(op) != 0) {
                log_warn("s3: LIST prefix %s: cannot request the next page", op->key);
                op_finish(op, STORAGE_ERROR);
            }
            return;
        }
        break;
    }
    case OP_PUT:
    case OP_REMOVE:
        break;
    }
    op_finish(op, STORAGE_OK);
}

static void check_multi_info(s3_impl *s3)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s3->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode res = msg->data.result; /* msg is invalid once the handle leaves the multi */
        s3_op *op = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&op);
        if (op)
            op_transfer_done(op, res);
    }
}

/* ---- teardown -------------------------------------------------------------------------------- */

static void maybe_teardown(s3_impl *s3)
{
    if (!s3->closing || s3->torn_down || s3->dispatching || s3->active || s3->done_head)
        return;
    s3->torn_down = true;
    /* May report CURL_POLL_REMOVE for sockets still watched: their polls close then. */
    curl_multi_cleanup(s3->multi);
    s3->multi = NULL;
    for (s3_socket *sock = s3->sockets; sock; sock = sock->next)
        if (!uv_is_closing((uv_handle_t *)&sock->poll))
            uv_close((uv_handle_t *)&sock->poll, on_handle_closed);
    pthread_mutex_lock(&s3->pool_lock);
    for (int i = 0; i < s3->npool; i++)
        curl_easy_cleanup(s3->pool[i]);
    s3->npool = 0;
    s3->pool_closed = true;
    pthread_mutex_unlock(&s3->pool_lock);
    uv_close((uv_handle_t *)&s3->timer, on_handle_closed);
    uv_close((uv_handle_t *)&s3->defer, on_handle_closed);
}

static void s3_close(storage *s)
{
    s3_impl *s3 = s->impl;
    if (s3->closing)
        return;
    s3->closing = true;
    s3_op *next;
    for (s3_op *op = s3->active; op; op = next) {
        next = op->next;
        if (op->working)
            uv_cancel((uv_req_t *)&op->work); /* on_hashed finishes it, cancelled or not */
        else
            op_finish(op, STORAGE_ERROR);
    }
    maybe_teardown(s3);
}

/* ---- the asynchronous calls ------------------------------------------------------------------ */

/* Starts op, or answers STORAGE_ERROR on a later turn. */
static void op_submit(s3_op *op, bool valid)
{
    if (!valid || op->s3->closing) {
        op_finish(op, STORAGE_ERROR);
        return;
    }
    if (op_start(op) != 0) {
        log_warn("s3: %s %s: cannot start the request", op_method(op), op->key);
        op_finish(op, STORAGE_ERROR);
    }
}

static void s3_head(storage *s, const char *key, bool hash, storage_head_cb cb, void *ctx)
{
    s3_op *op = op_new(s->impl, hash ? OP_HEAD_HASH : OP_HEAD, key, ctx);
    op->head_cb = cb;
    op_submit(op, storage_key_is_valid(key));
}

static void s3_remove(storage *s, const char *key, storage_done_cb cb, void *ctx)
{
    s3_op *op = op_new(s->impl, OP_REMOVE, key, ctx);
    op->done_cb = cb;
    op_submit(op, storage_key_is_valid(key));
}

/* A prefix is a key's beginning: any bytes a key may hold, possibly ending in '/'. */
static bool prefix_is_valid(const char *prefix)
{
    size_t n = strlen(prefix);
    if (n >= STORAGE_KEY_MAX)
        return false;
    for (const char *p = prefix; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-/", *p))
            return false;
    return true;
}

static void s3_list(storage *s, const char *prefix, storage_list_cb cb, void *ctx)
{
    s3_op *op = op_new(s->impl, OP_LIST, prefix, ctx);
    op->list_cb = cb;
    op_submit(op, prefix_is_valid(prefix));
}

/* On the thread pool: opens the file and hashes it; the PUT then streams it from the start. */
static void hash_file(uv_work_t *work)
{
    s3_op *op = work->data;
    FILE *f = fopen(op->path, "rbe");
    if (!f) {
        op->file_errno = errno;
        return;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char digest[32], *buf = malloc(256 * 1024);
    size_t n;
    int64_t size = 0;
    bool ok = md && buf && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    while (ok && (n = fread(buf, 1, 256 * 1024, f)) > 0) {
        ok = EVP_DigestUpdate(md, buf, n) == 1;
        size += (int64_t)n;
    }
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(md, digest, NULL) == 1 && fseeko(f, 0, SEEK_SET) == 0;
    EVP_MD_CTX_free(md);
    free(buf);
    if (!ok) {
        op->file_errno = errno ? errno : EIO;
        fclose(f);
        return;
    }
    crypto_hex(digest, sizeof digest, op->file_sha256);
    op->file_size = size;
    op->file = f;
}

static void on_hashed(uv_work_t *work, int status)
{
    s3_op *op = work->data;
    op->working = false;
    if (status != 0 || op->s3->closing) {
        op_finish(op, STORAGE_ERROR);
        maybe_teardown(op->s3);
        return;
    }
    if (!op->file) {
        log_warn("s3: PUT %s: cannot read %s: %s", op->key, op->path, strerror(op->file_errno));
        op_finish(op, STORAGE_ERROR);
        return;
    }
    if (op->file_size > PUT_MAX) {
        log_warn("s3: PUT %s: %" PRId64 " bytes is more than one PUT may carry", op->key, op->file_size);
        op_finish(op, STORAGE_ERROR);
        return;
    }
    if (op_start(op) != 0) {
        log_warn("s3: PUT %s: cannot start the request", op->key);
        op_finish(op, STORAGE_ERROR);
    }
}

static bool header_value_is_safe(const char *v, size_t max)
{
    size_t n = strlen(v);
    if (n == 0 || n >= max)
        return false;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p >= 0x7f)
            return false;
    return true;
}

static void s3_put_file(storage *s, const char *key, const char *path, const char *content_type,
                        storage_done_cb cb, void *ctx)
{
    s3_impl *s3 = s->impl;
    s3_op *op = op_new(s3, OP_PUT, key, ctx);
    op->done_cb = cb;
    const char *type = content_type && content_type[0] ? content_type : "application/octet-stream";
    if (!storage_key_is_valid(key) || !path || !header_value_is_safe(type, sizeof op->content_type) ||
        s3->closing || !(op->path = strdup(path))) {
        op_finish(op, STORAGE_ERROR);
        return;
    }
    snprintf(op->content_type, sizeof op->content_type, "%s", type);
    op->work.data = op;
    op->working = true;
    if (uv_queue_work(s->loop, &op->work, hash_file, on_hashed) != 0) {
        op->working = false;
        op_finish(op, STORAGE_ERROR);
    }
}

/* ---- presigned URLs -------------------------------------------------------------------------- */

static int presign(const s3_impl *s3, const char *method, const char *key, const char *const *names,
                   const char *const *values, int nheaders, int expires_s, storage_presigned *out)
{
    memset(out, 0, sizeof *out);
    if (!storage_key_is_valid(key) || expires_s < 1 || expires_s > SIGV4_MAX_EXPIRES)
        return -1;
    char path[STORAGE_KEY_MAX + 600];
    int n = snprintf(path, sizeof path, "%s/%s", s3->base_path, key);
    if (n < 0 || (size_t)n >= sizeof path)
        return -1;
    sigv4_credentials cred = {
        .access_key_id = s3->access_key_id,
        .secret_access_key = s3->secret_access_key,
        .session_token = s3->session_token[0] ? s3->session_token : NULL,
        .region = s3->region,
        .service = "s3",
    };
    time_t now = time(NULL);
    sigv4_request req = {
        .method = method,
        .scheme = s3->scheme,
        .host = s3->host,
        .path = path,
        .signed_header_names = names,
        .signed_header_values = values,
        .nheaders = nheaders,
        .now = now,
        .expires_seconds = expires_s,
    };
    if (sigv4_presign_url(&cred, &req, out->url, sizeof out->url) != 0) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    snprintf(out->method, sizeof out->method, "%s", method);
    out->expires_at = (int64_t)now + expires_s;
    return 0;
}

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int s3_presign_put(storage *s, const char *key, const char *content_type, const char *sha256_hex, int64_t size,
                          int expires_s, storage_presigned *out)
{
    memset(out, 0, sizeof *out);
    if (!content_type || !header_value_is_safe(content_type, sizeof out->header_values[0]) || !sha256_hex ||
        strlen(sha256_hex) != 64 || size < 0 || size > PUT_MAX)
        return -1;
    unsigned char digest[32];
    for (int i = 0; i < 32; i++) {
        int hi = hex_value(sha256_hex[2 * i]), lo = hex_value(sha256_hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        digest[i] = (unsigned char)(hi << 4 | lo);
    }
    char checksum[48]; /* standard base64 of the raw digest: 44 characters */
    EVP_EncodeBlock((unsigned char *)checksum, digest, sizeof digest);
    /* S3 refuses a body whose SHA-256 is not x-amz-checksum-sha256, and the signature pins
     * that header and the type. Content-Length cannot be signed usefully (browsers set it),
     * but the checksum fixes the content and with it the size.
     * `if-none-match: *` (refuse to overwrite) is deliberately not signed: s3rver and some
     * S3-compatible servers reject or ignore it, and keys are never reused anyway. */
    const char *names[] = {"content-type", "x-amz-checksum-sha256"};
    const char *values[] = {content_type, checksum};
    if (presign(s->impl, "PUT", key, names, values, 2, expires_s, out) != 0)
        return -1;
    out->nheaders = 2;
    snprintf(out->header_names[0], sizeof out->header_names[0], "Content-Type");
    snprintf(out->header_values[0], sizeof out->header_values[0], "%s", content_type);
    snprintf(out->header_names[1], sizeof out->header_names[1], "x-amz-checksum-sha256");
    snprintf(out->header_values[1], sizeof out->header_values[1], "%s", checksum);
    return 0;
}

static int s3_presign_get(storage *s, const char *key, int expires_s, storage_presigned *out)
{
    return presign(s->impl, "GET", key, NULL, NULL, 0, expires_s, out);
}

/* ---- read_range: blocking, for worker threads ------------------------------------------------ */

typedef struct {
    CURL *easy;
    unsigned char *buf;
    size_t len, got;
    int64_t skip; /* bytes still to skip when the server ignored Range (200) */
    bool enough;  /* stopped on purpose once buf was full */
    int64_t offset;
    int64_t total;  /* the object's size from Content-Range, -1 when not told */
    bool past_end;  /* stopped on purpose: the range starts at or past the end */
    char error[256];
    size_t error_len;
} range_read;

static size_t on_range_write(char *data, size_t size, size_t nmemb, void *userp)
{
    range_read *r = userp;
    size_t n = size * nmemb, used = 0;
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200 && code != 206) {
        size_t room = sizeof r->error - 1 - r->error_len, take = n < room ? n : room;
        memcpy(r->error + r->error_len, data, take);
        r->error_len += take;
        r->error[r->error_len] = '\0';
        return n;
    }
    if (code == 200 && r->skip > 0) {
        used = (int64_t)n < r->skip ? n : (size_t)r->skip;
        r->skip -= (int64_t)used;
    }
    size_t take = n - used < r->len - r->got ? n - used : r->len - r->got;
    memcpy(r->buf + r->got, data + used, take);
    r->got += take;
    if (code == 200 && r->got == r->len) {
        r->enough = true; /* the whole object is coming: stop here */
        return 0;
    }
    return n; /* 206: anything past the range (there should be none) is dropped */
}

/* Content-Range: bytes FIRST-LAST/TOTAL gives the object's size. A range at or past the
 * end ends here: S3 answers 416, but s3rver answers an empty object's range with "206,
 * Content-Range: bytes 0-0/0, Content-Length: 1" and then no body, which would leave us
 * waiting for the byte until its keep-alive timeout. */
static size_t on_range_header(char *data, size_t size, size_t nmemb, void *userp)
{
    range_read *r = userp;
    size_t n = size * nmemb;
    static const char name[] = "content-range:";
    if (n > sizeof name && n < 200 && strncasecmp(data, name, sizeof name - 1) == 0) {
        char line[200];
        memcpy(line, data, n);
        line[n] = '\0';
        const char *slash = strchr(line, '/');
        char *end;
        long code = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code == 206 && slash && isdigit((unsigned char)slash[1])) {
            long long total = strtoll(slash + 1, &end, 10);
            if (total >= 0 && (*end == '\r' || *end == '\n' || *end == '\0'))
                r->total = total;
            if (r->total >= 0 && r->offset >= r->total) {
                r->past_end = true;
                return 0;
            }
        }
    }
    return n;
}

static CURL *pool_take(s3_impl *s3)
{
    CURL *e = NULL;
    pthread_mutex_lock(&s3->pool_lock);
    if (s3->npool > 0)
        e = s3->pool[--s3->npool];
    pthread_mutex_unlock(&s3->pool_lock);
    if (e)
        curl_easy_reset(e); /* keeps its connection */
    else
        e = curl_easy_init();
    return e;
}

static void pool_give(s3_impl *s3, CURL *e)
{
    pthread_mutex_lock(&s3->pool_lock);
    if (s3->npool < POOL_MAX && !s3->pool_closed) {
        s3->pool[s3->npool++] = e;
        e = NULL;
    }
    pthread_mutex_unlock(&s3->pool_lock);
    if (e)
        curl_easy_cleanup(e);
}

static storage_status s3_read_range(storage *s, const char *key, int64_t offset, void *buf, size_t len, size_t *got)
{
    s3_impl *s3 = s->impl;
    *got = 0;
    if (!storage_key_is_valid(key) || offset < 0 || (len > 0 && !buf) || len > (size_t)INT64_MAX - (size_t)offset)
        return STORAGE_ERROR;
    if (len == 0)
        return STORAGE_OK;
    char url[STORAGE_URL_MAX], errbuf[CURL_ERROR_SIZE], range[96];
    if (build_url(s3, key, NULL, url, sizeof url) != 0)
        return STORAGE_ERROR;
    snprintf(range, sizeof range, "Range: bytes=%" PRId64 "-%" PRId64, offset, offset + (int64_t)len - 1);
    range_read r = {.buf = buf, .len = len, .skip = offset, .offset = offset, .total = -1};
    struct curl_slist *headers = auth_headers(s3, EMPTY_SHA256);
    CURL *e = headers && add_header(&headers, range) == 0 ? pool_take(s3) : NULL;
    if (!e || easy_setup(s3, e, url, TRANSFER_TIMEOUT_MS, errbuf) != 0) {
        curl_slist_free_all(headers);
        if (e)
            curl_easy_cleanup(e);
        return STORAGE_ERROR;
    }
    r.easy = e;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_range_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_range_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &r);
    CURLcode res = curl_easy_perform(e);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    storage_status status = STORAGE_ERROR;
    if (r.past_end) {
        status = STORAGE_OK;
    } else if (res == CURLE_OK || (res == CURLE_WRITE_ERROR && r.enough)) {
        if (code == 200 || code == 206) {
            *got = r.got;
            status = STORAGE_OK;
        } else if (code == 416) {
            status = STORAGE_OK; /* past the end (or an empty object) */
        } else if (code == 404) {
            status = STORAGE_NOT_FOUND;
        } else {
            s3_op fake = {.kind = OP_HEAD_HASH};
            fake.body = (bytes){.data = r.error, .len = r.error_len};
            char s3code[80];
            error_code(&fake, s3code, sizeof s3code);
            log_warn("s3: GET %s (range): HTTP %ld%s%s%s", key, code, s3code[0] ? " (" : "", s3code,
                     s3code[0] ? ")" : "");
        }
    } else {
        log_warn("s3: GET %s (range): %s", key, errbuf[0] ? errbuf : curl_easy_strerror(res));
    }
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL); /* errbuf dies with this frame */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    if (res == CURLE_OK)
        pool_give(s3, e);
    else
        curl_easy_cleanup(e); /* its connection may be half-read */
    return status;
}

/* ---- opening ---------------------------------------------------------------------------------- */

static const storage_backend S3_BACKEND = {
    .name = "s3",
    .head = s3_head,
    .put_file = s3_put_file,
    .list = s3_list,
    .remove = s3_remove,
    .presign_put = s3_presign_put,
    .presign_get = s3_presign_get,
    .read_range = s3_read_range,
    .close = s3_close,
};

/* For AWS the name becomes a host name under *.s3.REGION.amazonaws.com, whose TLS
 * certificate covers one label only: no dots (use an endpoint, path-style, for those). */
static bool bucket_is_valid(const char *b, bool aws)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return false;
    for (const char *p = b; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                  (!aws && (*p == '.' || (*p >= 'A' && *p <= 'Z') || *p == '_'));
        if (!ok)
            return false;
    }
    return true;
}

/* http[s]://host[:port][/path] into scheme, host and base path (no trailing '/'). */
static int parse_endpoint(s3_impl *s3, const char *endpoint, char *err, size_t err_size)
{
    const char *rest;
    if (strncasecmp(endpoint, "http://", 7) == 0) {
        snprintf(s3->scheme, sizeof s3->scheme, "http");
        rest = endpoint + 7;
    } else if (strncasecmp(endpoint, "https://", 8) == 0) {
        snprintf(s3->scheme, sizeof s3->scheme, "https");
        rest = endpoint + 8;
    } else {
        snprintf(err, err_size, "S3 endpoint must start with http:// or https://");
        return -1;
    }
    size_t host_len = strcspn(rest, "/");
    const char *path = rest + host_len;
    if (host_len == 0 || host_len >= sizeof s3->host) {
        snprintf(err, err_size, "S3 endpoint has no usable host");
        return -1;
    }
    for (const char *p = rest; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f || strchr("?#@\\", *p)) {
            snprintf(err, err_size, "S3 endpoint must be scheme://host[:port][/path], without credentials or query");
            return -1;
        }
    }
    memcpy(s3->host, rest, host_len);
    s3->host[host_len] = '\0';
    size_t path_len = strlen(path);
    while (path_len > 0 && path[path_len - 1] == '/')
        path_len--;
    int n = snprintf(s3->base_path, sizeof s3->base_path, "%.*s/%s", (int)path_len, path, s3->bucket);
    if (n < 0 || (size_t)n >= sizeof s3->base_path) {
        snprintf(err, err_size, "S3 endpoint path too long");
        return -1;
    }
    return 0;
}

storage *storage_s3_open(uv_loop_t *loop, const storage_s3_options *opts, char *err, size_t err_size)
{
    const char *endpoint = opts->endpoint ? opts->endpoint : "";
    const char *region = opts->region && opts->region[0] ? opts->region : "us-east-1";
    const char *token = opts->session_token ? opts->session_token : "";
    bool aws = endpoint[0] == '\0';

    if (!opts->bucket || !bucket_is_valid(opts->bucket, aws)) {
        snprintf(err, err_size, "S3 bucket name is not valid%s",
                 aws && opts->bucket && strchr(opts->bucket, '.')
                     ? " for virtual-hosted addressing (dots); set the endpoint https://s3.REGION.amazonaws.com"
                     : "");
        return NULL;
    }
    if (strlen(region) >= 64 || !header_value_is_safe(region, 64) || strchr(region, '/') || strchr(region, ':')) {
        snprintf(err, err_size, "S3 region is not valid");
        return NULL;
    }
    if (!opts->access_key_id || !header_value_is_safe(opts->access_key_id, 256) || !opts->secret_access_key ||
        !opts->secret_access_key[0] || strchr(opts->access_key_id, '/')) {
        snprintf(err, err_size, "S3 credentials are missing or not valid");
        return NULL;
    }
    if (token[0] && !header_value_is_safe(token, 16384)) {
        snprintf(err, err_size, "S3 session token is not valid");
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, err_size, "libcurl failed to initialise");
        return NULL;
    }
    s3_impl *s3 = calloc(1, sizeof *s3);
    if (!s3) {
        curl_global_cleanup();
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s3->pool_lock, NULL);
    snprintf(s3->bucket, sizeof s3->bucket, "%s", opts->bucket);
    snprintf(s3->region, sizeof s3->region, "%s", region);
    snprintf(s3->aws_sigv4, sizeof s3->aws_sigv4, "aws:amz:%s:s3", region);
    if (aws) {
        snprintf(s3->scheme, sizeof s3->scheme, "https");
        int n = snprintf(s3->host, sizeof s3->host, "%s.s3.%s.amazonaws.com", s3->bucket, s3->region);
        if (n < 0 || (size_t)n >= sizeof s3->host) {
            snprintf(err, err_size, "S3 bucket and region too long");
            free_impl(s3);
            return NULL;
        }
        s3->base_path[0] = '\0';
    } else if (parse_endpoint(s3, endpoint, err, err_size) != 0) {
        free_impl(s3);
        return NULL;
    }
    s3->access_key_id = strdup(opts->access_key_id);
    s3->secret_access_key = strdup(opts->secret_access_key);
    s3->session_token = strdup(token);
    s3->multi = curl_multi_init();
    if (!s3->access_key_id || !s3->secret_access_key || !s3->session_token || !s3->multi) {
        if (s3->multi)
            curl_multi_cleanup(s3->multi);
        snprintf(err, err_size, "out of memory");
        free_impl(s3);
        return NULL;
    }
    curl_multi_setopt(s3->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(s3->multi, CURLMOPT_SOCKETDATA, s3);
    curl_multi_setopt(s3->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(s3->multi, CURLMOPT_TIMERDATA, s3);
    curl_multi_setopt(s3->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)HOST_CONNECTIONS);
    uv_timer_init(loop, &s3->timer);
    uv_timer_init(loop, &s3->defer);
    s3->timer.data = s3;
    s3->defer.data = s3;
    s3->open_handles = 2;
    s3->pub.backend = &S3_BACKEND;
    s3->pub.loop = loop;
    s3->pub.impl = s3;
    return &s3->pub;
}
