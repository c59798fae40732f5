/* AWS Signature Version 4 query-string presigning ("presigned URLs") for S3.
 * Follows https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html */
#include "storage/sigv4.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/crypto.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define CONTENT_SHA256_HEADER "x-amz-content-sha256"
#define MAX_EXTRAS 64 /* extra headers or query parameters per request */

/* ---- growable string; err sticks after an allocation failure ---- */

typedef struct {
    char *s;
    size_t len, cap;
    bool err;
} sbuf;

/* Makes room for n more bytes plus NUL; returns where they go, or NULL. */
static char *sb_reserve(sbuf *b, size_t n) {
    if (b->err) return NULL;
    if (n > SIZE_MAX / 2 - b->len) {
        b->err = true;
        return NULL;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (p == NULL) {
            b->err = true;
            return NULL;
        }
        b->s = p;
        b->cap = cap;
    }
    return b->s + b->len;
}

static void sb_putn(sbuf *b, const char *s, size_t n) {
    char *dst = sb_reserve(b, n);
    if (dst == NULL) return;
    memcpy(dst, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }

static const char *sb_str(const sbuf *b) { return b->s ? b->s : ""; }

static void sb_free(sbuf *b) {
    if (b->s) explicit_bzero(b->s, b->cap);
    free(b->s);
    *b = (sbuf){0};
}

/* ---- URI encoding ---- */

static bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

static bool kept(unsigned char c, bool keep_slash) {
    return is_unreserved(c) || (keep_slash && c == '/');
}

static size_t encoded_length(const char *in, bool keep_slash) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++)
        n += kept(*p, keep_slash) ? 1 : 3;
    return n;
}

/* Writes the encoding of in plus NUL to out, which must be large enough. */
static void encode_into(const char *in, bool keep_slash, char *out) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if (kept(*p, keep_slash)) {
            *out++ = (char)*p;
        } else {
            *out++ = '%';
            *out++ = hex[*p >> 4];
            *out++ = hex[*p & 15];
        }
    }
    *out = '\0';
}

static void sb_encode(sbuf *b, const char *s, bool keep_slash) {
    size_t n = encoded_length(s, keep_slash);
    char *dst = sb_reserve(b, n);
    if (dst == NULL) return;
    encode_into(s, keep_slash, dst);
    b->len += n;
}

int sigv4_uri_encode(const char *in, bool keep_slash, char *out, size_t out_size) {
    if (out != NULL && out_size > 0) out[0] = '\0';
    if (in == NULL || out == NULL) return -1;
    size_t n = encoded_length(in, keep_slash);
    if (n >= out_size || n > INT_MAX) return -1;
    encode_into(in, keep_slash, out);
    return (int)n;
}

/* ---- keys and hashes ---- */

static void hmac_str(const uint8_t *key, size_t key_len, const char *msg, uint8_t out[32]) {
    crypto_hmac_sha256(key, key_len, msg, strlen(msg), out);
}

void sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, uint8_t out[32]) {
    char stack[128];
    size_t n = strlen(secret) + 4;
    char *k = n <= sizeof stack ? stack : malloc(n);
    uint8_t a[32], b[32];

    if (k == NULL) abort(); /* like crypto.c: a silently wrong key would be worse */
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, n - 4);
    hmac_str((const uint8_t *)k, n, date8, a);
    hmac_str(a, 32, region, b);
    hmac_str(b, 32, service, a);
    hmac_str(a, 32, "aws4_request", out);
    explicit_bzero(k, n);
    if (k != stack) free(k);
    explicit_bzero(a, sizeof a);
    explicit_bzero(b, sizeof b);
}

/* ---- input validation ---- */

/* Printable ASCII without '/': safe inside the credential scope. */
static bool valid_scope_part(const char *s) {
    if (s == NULL || *s == '\0') return false;
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f || *s == '/') return false;
    return true;
}

static bool valid_method(const char *s) {
    if (s == NULL || *s == '\0') return false;
    for (; *s; s++)
        if (*s < 'A' || *s > 'Z') return false;
    return true;
}

static bool valid_host(const char *s) {
    if (s == NULL || *s == '\0') return false;
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f || strchr("/?#@\\", *s)) return false;
    return true;
}

/* An RFC 7230 token in lowercase. */
static bool valid_header_name(const char *s) {
    if (s == NULL || *s == '\0') return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *s)))
            return false;
    return true;
}

/* No CR, LF or other control bytes (tab allowed): nothing that could split a header. */
static bool valid_header_value(const char *s) {
    if (s == NULL) return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) return false;
    return true;
}

/* The presigner sets these itself; a caller-supplied copy would be ambiguous. */
static bool is_auth_param(const char *name) {
    static const char *const names[] = {"X-Amz-Algorithm",     "X-Amz-Credential",
                                        "X-Amz-Date",          "X-Amz-Expires",
                                        "X-Amz-SignedHeaders", "X-Amz-Security-Token",
                                        "X-Amz-Signature"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i]) == 0) return true;
    return false;
}

static bool valid_credentials(const sigv4_credentials *c) {
    return c != NULL && valid_scope_part(c->access_key_id) && c->secret_access_key != NULL &&
           c->secret_access_key[0] != '\0' && valid_scope_part(c->region) &&
           valid_scope_part(c->service);
}

static bool valid_headers(const sigv4_request *r) {
    if (r->nheaders < 0 || r->nheaders > MAX_EXTRAS) return false;
    if (r->nheaders > 0 && (r->signed_header_names == NULL || r->signed_header_values == NULL))
        return false;
    for (int i = 0; i < r->nheaders; i++)
        if (!valid_header_name(r->signed_header_names[i]) ||
            strcmp(r->signed_header_names[i], "host") == 0 ||
            !valid_header_value(r->signed_header_values[i]))
            return false;
    return true;
}

static bool valid_query(const sigv4_request *r) {
    if (r->nquery < 0 || r->nquery > MAX_EXTRAS) return false;
    if (r->nquery > 0 && (r->query_names == NULL || r->query_values == NULL)) return false;
    for (int i = 0; i < r->nquery; i++)
        if (r->query_names[i] == NULL || r->query_names[i][0] == '\0' ||
            r->query_values[i] == NULL || is_auth_param(r->query_names[i]))
            return false;
    return true;
}

static bool valid_request(const sigv4_request *r) {
    return r != NULL && valid_method(r->method) && r->scheme != NULL &&
           (strcmp(r->scheme, "https") == 0 || strcmp(r->scheme, "http") == 0) &&
           valid_host(r->host) && r->path != NULL && r->path[0] == '/' &&
           r->expires_seconds >= 1 && r->expires_seconds <= SIGV4_MAX_EXPIRES &&
           valid_headers(r) && valid_query(r);
}

/* ---- the signer ---- */

typedef struct {
    const char *name, *value;
} header;

typedef struct {
    char *name, *value; /* both encoded, owned */
} param;

typedef struct {
    const sigv4_credentials *cred;
    const sigv4_request *req;
    char amz_date[17], date8[9];
    sbuf host; /* normalized Host header value */
    header *headers;
    int nheaders;
    param *params;
    int nparams;
    sbuf signed_headers, canonical_query, canonical, to_sign;
    char signature[65];
} signer;

static void signer_free(signer *s) {
    for (int i = 0; i < s->nparams; i++) {
        free(s->params[i].name);
        free(s->params[i].value);
    }
    free(s->params);
    free(s->headers);
    sb_free(&s->host);
    sb_free(&s->signed_headers);
    sb_free(&s->canonical_query);
    sb_free(&s->canonical);
    sb_free(&s->to_sign);
    explicit_bzero(s->signature, sizeof s->signature);
}

static int format_dates(signer *s) {
    struct tm tm;
    if (s->req->now < 0 || gmtime_r(&s->req->now, &tm) == NULL || tm.tm_year + 1900 > 9999)
        return -1;
    strftime(s->amz_date, sizeof s->amz_date, "%Y%m%dT%H%M%SZ", &tm);
    memcpy(s->date8, s->amz_date, 8);
    s->date8[8] = '\0';
    return 0;
}

/* Lowercases the host and drops the scheme's default port, as a browser's Host header does. */
static int normalize_host(signer *s) {
    const char *host = s->req->host;
    const char *dflt = strcmp(s->req->scheme, "https") == 0 ? ":443" : ":80";
    size_t n = strlen(host), dn = strlen(dflt);

    if (n > dn && strcmp(host + n - dn, dflt) == 0) n -= dn;
    sb_putn(&s->host, host, n);
    if (s->host.err) return -1;
    for (char *p = s->host.s; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    return 0;
}

static int cmp_header(const void *a, const void *b) {
    return strcmp(((const header *)a)->name, ((const header *)b)->name);
}

/* host plus the extra headers, sorted and checked for duplicates; builds SignedHeaders. */
static int collect_headers(signer *s) {
    const sigv4_request *r = s->req;

    s->headers = calloc((size_t)r->nheaders + 1, sizeof *s->headers);
    if (s->headers == NULL) return -1;
    s->headers[0] = (header){"host", sb_str(&s->host)};
    for (int i = 0; i < r->nheaders; i++)
        s->headers[i + 1] = (header){r->signed_header_names[i], r->signed_header_values[i]};
    s->nheaders = r->nheaders + 1;
    qsort(s->headers, (size_t)s->nheaders, sizeof *s->headers, cmp_header);
    for (int i = 0; i < s->nheaders; i++) {
        if (i > 0 && strcmp(s->headers[i - 1].name, s->headers[i].name) == 0) return -1;
        if (i > 0) sb_puts(&s->signed_headers, ";");
        sb_puts(&s->signed_headers, s->headers[i].name);
    }
    return s->signed_headers.err ? -1 : 0;
}

static char *encode_dup(const char *in) {
    char *out = malloc(encoded_length(in, false) + 1);
    if (out != NULL) encode_into(in, false, out);
    return out;
}

static int add_param(signer *s, const char *name, const char *value) {
    param *p = &s->params[s->nparams];
    p->name = encode_dup(name);
    p->value = encode_dup(value);
    s->nparams++; /* counted even on failure so signer_free releases what was made */
    return p->name != NULL && p->value != NULL ? 0 : -1;
}

static int add_auth_params(signer *s) {
    const sigv4_credentials *c = s->cred;
    char expires[16];
    sbuf credential = {0};
    int rc;

    snprintf(expires, sizeof expires, "%d", s->req->expires_seconds);
    sb_puts(&credential, c->access_key_id);
    sb_puts(&credential, "/");
    sb_puts(&credential, s->date8);
    sb_puts(&credential, "/");
    sb_puts(&credential, c->region);
    sb_puts(&credential, "/");
    sb_puts(&credential, c->service);
    sb_puts(&credential, "/aws4_request");
    rc = credential.err ? -1 : 0;
    if (rc == 0) rc = add_param(s, "X-Amz-Algorithm", SIGV4_ALGORITHM);
    if (rc == 0) rc = add_param(s, "X-Amz-Credential", credential.s);
    if (rc == 0) rc = add_param(s, "X-Amz-Date", s->amz_date);
    if (rc == 0) rc = add_param(s, "X-Amz-Expires", expires);
    if (rc == 0) rc = add_param(s, "X-Amz-SignedHeaders", sb_str(&s->signed_headers));
    if (rc == 0 && c->session_token != NULL && c->session_token[0] != '\0')
        rc = add_param(s, "X-Amz-Security-Token", c->session_token);
    sb_free(&credential);
    return rc;
}

static int cmp_param(const void *a, const void *b) {
    const param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->value, y->value);
}

/* Extra and auth parameters, encoded and sorted by name then value (all but the signature). */
static int collect_query(signer *s) {
    const sigv4_request *r = s->req;

    s->params = calloc((size_t)r->nquery + 6, sizeof *s->params);
    if (s->params == NULL) return -1;
    for (int i = 0; i < r->nquery; i++)
        if (add_param(s, r->query_names[i], r->query_values[i]) != 0) return -1;
    if (add_auth_params(s) != 0) return -1;
    qsort(s->params, (size_t)s->nparams, sizeof *s->params, cmp_param);
    for (int i = 0; i < s->nparams; i++) {
        if (i > 0) sb_puts(&s->canonical_query, "&");
        sb_puts(&s->canonical_query, s->params[i].name);
        sb_puts(&s->canonical_query, "=");
        sb_puts(&s->canonical_query, s->params[i].value);
    }
    return s->canonical_query.err ? -1 : 0;
}

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* Appends value with leading/trailing blanks removed and inner runs collapsed to one space. */
static void sb_put_trimmed(sbuf *b, const char *value) {
    const char *p = value;
    bool first = true;

    while (*p) {
        while (is_space(*p)) p++;
        if (*p == '\0') break;
        const char *word = p;
        while (*p && !is_space(*p)) p++;
        if (!first) sb_puts(b, " ");
        sb_putn(b, word, (size_t)(p - word));
        first = false;
    }
}

static const char *find_header(const signer *s, const char *name) {
    for (int i = 0; i < s->nheaders; i++)
        if (strcmp(s->headers[i].name, name) == 0) return s->headers[i].value;
    return NULL;
}

static int build_canonical_request(signer *s) {
    sbuf *b = &s->canonical;
    const char *content_sha256 = find_header(s, CONTENT_SHA256_HEADER);

    sb_puts(b, s->req->method);
    sb_puts(b, "\n");
    sb_encode(b, s->req->path, true);
    sb_puts(b, "\n");
    sb_puts(b, sb_str(&s->canonical_query));
    sb_puts(b, "\n");
    for (int i = 0; i < s->nheaders; i++) {
        sb_puts(b, s->headers[i].name);
        sb_puts(b, ":");
        sb_put_trimmed(b, s->headers[i].value);
        sb_puts(b, "\n");
    }
    sb_puts(b, "\n");
    sb_puts(b, sb_str(&s->signed_headers));
    sb_puts(b, "\n");
    if (content_sha256 != NULL)
        sb_put_trimmed(b, content_sha256);
    else
        sb_puts(b, UNSIGNED_PAYLOAD);
    return b->err ? -1 : 0;
}

static int build_string_to_sign(signer *s) {
    sbuf *b = &s->to_sign;
    char hash[65];

    crypto_sha256_hex(s->canonical.s, s->canonical.len, hash);
    sb_puts(b, SIGV4_ALGORITHM "\n");
    sb_puts(b, s->amz_date);
    sb_puts(b, "\n");
    sb_puts(b, s->date8);
    sb_puts(b, "/");
    sb_puts(b, s->cred->region);
    sb_puts(b, "/");
    sb_puts(b, s->cred->service);
    sb_puts(b, "/aws4_request\n");
    sb_puts(b, hash);
    return b->err ? -1 : 0;
}

static void compute_signature(signer *s) {
    uint8_t key[32], mac[32];

    sigv4_signing_key(s->cred->secret_access_key, s->date8, s->cred->region, s->cred->service,
                      key);
    crypto_hmac_sha256(key, sizeof key, s->to_sign.s, s->to_sign.len, mac);
    crypto_hex(mac, sizeof mac, s->signature);
    explicit_bzero(key, sizeof key);
}

static int sign(signer *s, const sigv4_credentials *cred, const sigv4_request *req) {
    *s = (signer){.cred = cred, .req = req};
    if (!valid_credentials(cred) || !valid_request(req)) return -1;
    if (format_dates(s) != 0 || normalize_host(s) != 0 || collect_headers(s) != 0 ||
        collect_query(s) != 0 || build_canonical_request(s) != 0 || build_string_to_sign(s) != 0)
        return -1;
    compute_signature(s);
    return 0;
}

/* Copies src into out when it fits; otherwise leaves out empty. */
static int copy_out(const char *src, size_t len, char *out, size_t size) {
    if (out == NULL || len >= size) return -1;
    memcpy(out, src, len + 1);
    return 0;
}

static int build_url(const signer *s, char *out, size_t out_size) {
    sbuf url = {0};
    int rc;

    sb_puts(&url, s->req->scheme);
    sb_puts(&url, "://");
    sb_puts(&url, sb_str(&s->host));
    sb_encode(&url, s->req->path, true);
    sb_puts(&url, "?");
    sb_puts(&url, sb_str(&s->canonical_query));
    sb_puts(&url, "&X-Amz-Signature=");
    sb_puts(&url, s->signature);
    rc = url.err ? -1 : copy_out(url.s, url.len, out, out_size);
    sb_free(&url);
    return rc;
}

int sigv4_presign_url(const sigv4_credentials *cred, const sigv4_request *req, char *out,
                      size_t out_size) {
    signer s;
    int rc;

    if (out != NULL && out_size > 0) out[0] = '\0';
    rc = sign(&s, cred, req);
    if (rc == 0) rc = build_url(&s, out, out_size);
    signer_free(&s);
    return rc;
}

int sigv4_presign_debug(const sigv4_credentials *cred, const sigv4_request *req,
                        char *canonical_request, size_t canonical_size, char *string_to_sign,
                        size_t string_to_sign_size) {
    signer s;
    int rc;

    if (canonical_request != NULL && canonical_size > 0) canonical_request[0] = '\0';
    if (string_to_sign != NULL && string_to_sign_size > 0) string_to_sign[0] = '\0';
    rc = sign(&s, cred, req);
    if (rc == 0 && canonical_request != NULL)
        rc = copy_out(s.canonical.s, s.canonical.len, canonical_request, canonical_size);
    if (rc == 0 && string_to_sign != NULL)
        rc = copy_out(s.to_sign.s, s.to_sign.len, string_to_sign, string_to_sign_size);
    signer_free(&s);
    return rc;
}
