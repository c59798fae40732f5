/* A strict wrapper around libjwt 1.10: HS256 only, every claim checked by us.
 *
 * libjwt 1.10 trusts the token: it takes the algorithm from the header (case-
 * insensitively, "none" included), skips the signature when the key is empty
 * whatever the algorithm, upstream compares signatures with strcmp
 * (CVE-2024-25189, patched by Debian only) and it checks no claim. So before
 * jwt_decode we check the shape, the header and the signature (in constant time)
 * ourselves, and after it we check the algorithm again and every claim. */
#include "auth/jwt.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jwt.h>

#include "util/crypto.h"

#define JWT_AUDIENCE "zencast"
#define CLOCK_SKEW 60
#define HS256_SIG_B64_LEN 43
#define SUBJECT_SIZE sizeof(((jwt_claims *)0)->subject)
#define NAME_SIZE sizeof(((jwt_claims *)0)->name)

static const char *kind_name(jwt_kind kind) {
    switch (kind) {
    case JWT_KIND_ACCESS: return "access";
    case JWT_KIND_PARTICIPANT: return "participant";
    }
    return NULL;
}

static bool secret_ok(const uint8_t *secret, size_t secret_len) {
    return secret != NULL && secret_len >= JWT_MIN_SECRET_LEN && secret_len <= INT_MAX;
}

/* ---------------------------------------------------------------- signing */

static bool add_grants(jwt_t *jwt, const char *typ, const char *subject, const char *room_id,
                       const char *name, long iat, long exp, const char *jti) {
    return jwt_add_grant(jwt, "iss", JWT_ISSUER) == 0 &&
           jwt_add_grant(jwt, "aud", JWT_AUDIENCE) == 0 &&
           jwt_add_grant(jwt, "sub", subject) == 0 &&
           jwt_add_grant(jwt, "typ", typ) == 0 &&
           jwt_add_grant_int(jwt, "iat", iat) == 0 &&
           jwt_add_grant_int(jwt, "exp", exp) == 0 &&
           jwt_add_grant(jwt, "jti", jti) == 0 &&
           (room_id[0] == '\0' || jwt_add_grant(jwt, "room", room_id) == 0) &&
           (name[0] == '\0' || jwt_add_grant(jwt, "name", name) == 0);
}

char *jwt_sign_claims(const uint8_t *secret, size_t secret_len, jwt_kind kind,
                      const char *subject, const char *room_id, const char *name,
                      int64_t now, int64_t ttl_seconds) {
    const char *typ = kind_name(kind);
    char jti[32];
    jwt_t *jwt = NULL;
    char *token = NULL;

    if (!secret_ok(secret, secret_len) || typ == NULL) return NULL;
    if (subject == NULL || subject[0] == '\0' || strlen(subject) >= SUBJECT_SIZE) return NULL;
    if (room_id == NULL) room_id = "";
    if (name == NULL) name = "";
    /* Only participant tokens carry a room, and verification insists on both. */
    if (kind == JWT_KIND_PARTICIPANT ? !crypto_is_uuid(room_id) : room_id[0] != '\0') return NULL;
    if (strlen(name) >= NAME_SIZE) return NULL;
    /* jwt_add_grant_int takes a long. */
    if (ttl_seconds <= 0 || now < 0 || now > LONG_MAX - ttl_seconds) return NULL;
    if (crypto_random_token(16, jti, sizeof jti) != 0) return NULL;

    if (jwt_new(&jwt) != 0) return NULL;
    if (jwt_set_alg(jwt, JWT_ALG_HS256, secret, (int)secret_len) == 0 &&
        add_grants(jwt, typ, subject, room_id, name, (long)now, (long)(now + ttl_seconds), jti))
        token = jwt_encode_str(jwt);
    jwt_free(jwt);
    return token;
}

/* ----------------------------------------------------------- verification */

/* Three base64url parts; header and payload non-empty. The signature may be
 * empty here so that alg=none is reported as an algorithm error below. */
static jwt_status check_shape(const char *token, size_t *head_len, size_t *signed_len) {
    size_t len, dots = 0;

    if (token == NULL) return JWT_ERR_MALFORMED;
    len = strnlen(token, JWT_MAX_TOKEN_LEN + 1);
    if (len == 0 || len > JWT_MAX_TOKEN_LEN) return JWT_ERR_MALFORMED;
    for (size_t i = 0; i < len; i++) {
        if (token[i] != '.') {
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                        token[i]))
                return JWT_ERR_MALFORMED;
            continue;
        }
        if (++dots > 2) return JWT_ERR_MALFORMED;
        if (dots == 1) *head_len = i;
        else *signed_len = i;
    }
    if (dots != 2 || *head_len == 0 || *signed_len == *head_len + 1) return JWT_ERR_MALFORMED;
    return JWT_OK;
}

static bool json_str_is(json_t *v, const char *want) {
    return json_is_string(v) && json_string_length(v) == strlen(want) &&
           strcmp(json_string_value(v), want) == 0;
}

/* The header must be exactly {"alg":"HS256"}, optionally with "typ":"JWT". */
static jwt_status check_header(const char *head, size_t head_len) {
    uint8_t buf[JWT_MAX_TOKEN_LEN];
    json_t *h, *typ;
    jwt_status st = JWT_OK;
    long n = crypto_base64url_decode(head, head_len, buf, sizeof buf);

    if (n < 0) return JWT_ERR_MALFORMED;
    h = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(h)) {
        st = JWT_ERR_MALFORMED;
    } else if (!json_str_is(json_object_get(h, "alg"), "HS256")) {
        st = JWT_ERR_ALGORITHM;
    } else {
        typ = json_object_get(h, "typ");
        if ((typ != NULL && !json_str_is(typ, "JWT")) || json_object_size(h) != (typ ? 2u : 1u))
            st = JWT_ERR_MALFORMED;
    }
    json_decref(h);
    return st;
}

/* Upstream libjwt compares signatures with strcmp; do it in constant time first. */
static jwt_status check_signature(const uint8_t *key, size_t key_len, const char *token,
                                  size_t signed_len) {
    uint8_t mac[32];
    char want[HS256_SIG_B64_LEN + 1];

    crypto_hmac_sha256(key, key_len, token, signed_len, mac);
    crypto_base64url_encode(mac, sizeof mac, want, sizeof want);
    return crypto_equal_ct(want, token + signed_len + 1) ? JWT_OK : JWT_ERR_SIGNATURE;
}

/* Reads an optional or required string claim; embedded NULs are refused. */
static jwt_status get_str(json_t *c, const char *key, bool required, const char **out) {
    json_t *v = json_object_get(c, key);

    *out = NULL;
    if (v == NULL) return required ? JWT_ERR_MALFORMED : JWT_OK;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return JWT_ERR_MALFORMED;
    *out = json_string_value(v);
    return JWT_OK;
}

static jwt_status get_int(json_t *c, const char *key, bool required, bool *present,
                          int64_t *out) {
    json_t *v = json_object_get(c, key);

    *present = v != NULL;
    *out = 0;
    if (v == NULL) return required ? JWT_ERR_MALFORMED : JWT_OK;
    if (!json_is_integer(v)) return JWT_ERR_MALFORMED;
    *out = json_integer_value(v);
    return JWT_OK;
}

static jwt_status check_claims(json_t *c, jwt_kind expected, int64_t now, jwt_claims *out) {
    const char *iss, *aud, *typ, *sub, *room, *name;
    int64_t exp, iat, nbf;
    bool present, has_nbf;
    int64_t latest = now > INT64_MAX - CLOCK_SKEW ? INT64_MAX : now + CLOCK_SKEW;
    jwt_status st;

    if ((st = get_str(c, "iss", true, &iss)) || (st = get_str(c, "aud", true, &aud)) ||
        (st = get_str(c, "typ", true, &typ)) || (st = get_str(c, "sub", true, &sub)) ||
        (st = get_str(c, "room", false, &room)) || (st = get_str(c, "name", false, &name)) ||
        (st = get_int(c, "exp", true, &present, &exp)) ||
        (st = get_int(c, "iat", true, &present, &iat)) ||
        (st = get_int(c, "nbf", false, &has_nbf, &nbf)))
        return st;

    if (strcmp(iss, JWT_ISSUER) != 0 || strcmp(aud, JWT_AUDIENCE) != 0 ||
        strcmp(typ, kind_name(expected)) != 0)
        return JWT_ERR_CLAIMS;
    if (expected == JWT_KIND_PARTICIPANT && room == NULL) return JWT_ERR_MALFORMED;
    if (sub[0] == '\0' || strlen(sub) >= sizeof out->subject) return JWT_ERR_CLAIMS;
    if (room != NULL && (expected != JWT_KIND_PARTICIPANT || !crypto_is_uuid(room)))
        return JWT_ERR_CLAIMS;
    if (name != NULL && strlen(name) >= sizeof out->name) return JWT_ERR_CLAIMS;

    if (exp <= now) return JWT_ERR_EXPIRED;
    if (iat > latest || (has_nbf && nbf > latest)) return JWT_ERR_NOT_YET;

    out->kind = expected;
    strcpy(out->subject, sub);
    strcpy(out->room_id, room ? room : "");
    strcpy(out->name, name ? name : "");
    out->issued_at = iat;
    out->expires_at = exp;
    return JWT_OK;
}

/* Claims as libjwt parsed them, re-read with jansson for strict types:
 * jwt_get_grant_int returns 0 for a claim that is a string. */
static jwt_status check_grants(jwt_t *jwt, jwt_kind expected, int64_t now, jwt_claims *out) {
    char *text = jwt_get_grants_json(jwt, NULL);
    json_t *c;
    jwt_status st;

    if (text == NULL) return JWT_ERR_MALFORMED;
    c = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    st = json_is_object(c) ? check_claims(c, expected, now, out) : JWT_ERR_MALFORMED;
    json_decref(c);
    return st;
}

jwt_status jwt_verify_token(const uint8_t *secret, size_t secret_len, const char *token,
                            jwt_kind expected, int64_t now, jwt_claims *out) {
    jwt_claims scratch;
    size_t head_len = 0, signed_len = 0;
    jwt_t *jwt = NULL;
    jwt_status st;
    int rc;

    if (out == NULL) out = &scratch;
    memset(out, 0, sizeof *out);
    if (!secret_ok(secret, secret_len) || kind_name(expected) == NULL) return JWT_ERR_INTERNAL;

    if ((st = check_shape(token, &head_len, &signed_len)) ||
        (st = check_header(token, head_len)) ||
        (st = check_signature(secret, secret_len, token, signed_len)))
        return st;

    rc = jwt_decode(&jwt, token, secret, (int)secret_len);
    if (rc != 0) return rc == ENOMEM ? JWT_ERR_INTERNAL : JWT_ERR_MALFORMED;
    if (jwt_get_alg(jwt) != JWT_ALG_HS256)
        st = JWT_ERR_ALGORITHM;
    else
        st = check_grants(jwt, expected, now, out);
    jwt_free(jwt);
    return st;
}

const char *jwt_status_str(jwt_status s) {
    switch (s) {
    case JWT_OK: return "ok";
    case JWT_ERR_MALFORMED: return "malformed token";
    case JWT_ERR_ALGORITHM: return "algorithm not allowed";
    case JWT_ERR_SIGNATURE: return "bad signature";
    case JWT_ERR_EXPIRED: return "token expired";
    case JWT_ERR_NOT_YET: return "token not yet valid";
    case JWT_ERR_CLAIMS: return "wrong claims";
    case JWT_ERR_INTERNAL: return "internal error";
    }
    return "unknown";
}
