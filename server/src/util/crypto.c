/* Small cryptographic helpers: randomness, encodings, hashes, identifiers. */
#include "util/crypto.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int crypto_random_bytes(void *buf, size_t len) {
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        /* Requests over 256 bytes may be satisfied only partially. */
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

size_t crypto_base64url_encode(const uint8_t *in, size_t len, char *out, size_t out_size) {
    size_t need = len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
    size_t i, o = 0;

    if (out_size == 0) return 0;
    if (need >= out_size) {
        out[0] = '\0';
        return 0;
    }
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
        out[o++] = b64url_alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64url_alphabet[v >> 18 & 63];
        out[o++] = b64url_alphabet[v >> 12 & 63];
        out[o++] = b64url_alphabet[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64url_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

long crypto_base64url_decode(const char *in, size_t len, uint8_t *out, size_t out_size) {
    size_t i, o = 0, pad = 0;
    uint32_t acc = 0;
    int bits = 0;

    if (in == NULL && len > 0) return -1;
    while (len > 0 && pad < 2 && in[len - 1] == '=') {
        len--;
        pad++;
    }
    if (pad > 0 && (len + pad) % 4 != 0) return -1;
    if (len % 4 == 1) return -1;
    if (len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > out_size) return -1;
    if (len > LONG_MAX) return -1;

    for (i = 0; i < len; i++) {
        int v = b64url_value(in[i]);
        if (v < 0) return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero, so every byte string has exactly one encoding. */
    if (acc != 0) return -1;
    return (long)o;
}

int crypto_random_token(size_t nbytes, char *out, size_t out_size) {
    uint8_t *raw;
    int rc = -1;

    if (nbytes == 0 || out == NULL || out_size == 0) return -1;
    raw = malloc(nbytes);
    if (raw == NULL) return -1;
    if (crypto_random_bytes(raw, nbytes) == 0 &&
        crypto_base64url_encode(raw, nbytes, out, out_size) > 0)
        rc = 0;
    explicit_bzero(raw, nbytes);
    free(raw);
    return rc;
}

void crypto_hex(const uint8_t *in, size_t len, char *out) {
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

void crypto_sha256_hex(const void *data, size_t len, char out[65]) {
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (data == NULL) data = "";
    /* A silently wrong digest would be worse than stopping: these back token lookups. */
    if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) || md_len != 32) abort();
    crypto_hex(md, 32, out);
}

void crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                        uint8_t out[32]) {
    static const uint8_t empty = 0;
    unsigned int out_len = 0;

    if (key_len > INT_MAX) abort();
    if (key == NULL) key = &empty;
    if (data == NULL) data = &empty;
    if (HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len) == NULL || out_len != 32)
        abort();
}

int crypto_uuid_v4(char out[37]) {
    uint8_t b[16];

    if (crypto_random_bytes(b, sizeof b) != 0) return -1;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
             b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool crypto_is_uuid(const char *s) {
    if (s == NULL) return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
    }
    return s[36] == '\0';
}

bool crypto_equal_ct(const char *a, const char *b) {
    size_t la, lb, n, diff;

    if (a == NULL || b == NULL) return false;
    la = strlen(a);
    lb = strlen(b);
    n = la > lb ? la : lb;
    diff = la ^ lb;
    /* Walk the longer length whatever the content, so only lengths affect timing. */
    for (size_t i = 0; i < n; i++) {
        unsigned char ca = i < la ? (unsigned char)a[i] : 0;
        unsigned char cb = i < lb ? (unsigned char)b[i] : 0;
        diff |= (size_t)(ca ^ cb);
    }
    return diff == 0;
}
