/* A strict wrapper around libjwt 1.10: HS256 only, every claim checked by us.
 *
 * libjwt 1.10 accepts alg=none with an empty key, takes the algorithm from the
 * token header and checks no claim. This wrapper refuses all of that. */
#ifndef ZC_JWT_H
#define ZC_JWT_H

#include <stddef.h>
#include <stdint.h>

#define JWT_MIN_SECRET_LEN 32
#define JWT_MAX_TOKEN_LEN 4096
#define JWT_ISSUER "zencast"

/* What a token is for; stored in the "typ" claim. */
typedef enum { JWT_KIND_ACCESS = 1, JWT_KIND_PARTICIPANT = 2 } jwt_kind;

typedef struct {
    jwt_kind kind;
    char subject[64];  /* "sub": user id (access) or participant id (participant) */
    char room_id[40];  /* "room": only for participant tokens, else "" */
    char name[128];    /* "name": display name, may be "" */
    int64_t issued_at; /* seconds since the epoch */
    int64_t expires_at;
} jwt_claims;

typedef enum {
    JWT_OK = 0,
    JWT_ERR_MALFORMED,   /* too long, not three parts, bad JSON, missing claims */
    JWT_ERR_ALGORITHM,   /* anything but HS256, alg=none included */
    JWT_ERR_SIGNATURE,   /* wrong key or altered token */
    JWT_ERR_EXPIRED,     /* exp <= now */
    JWT_ERR_NOT_YET,     /* nbf or iat in the future (beyond 60 s of skew) */
    JWT_ERR_CLAIMS,      /* wrong iss, aud, typ, or sub */
    JWT_ERR_INTERNAL
} jwt_status;

/* Signs claims (kind, subject, room_id, name; issued_at = now, expires_at = now + ttl)
 * with HS256. Returns a malloc'd token or NULL. secret must be >= JWT_MIN_SECRET_LEN. */
char *jwt_sign_claims(const uint8_t *secret, size_t secret_len, jwt_kind kind,
                      const char *subject, const char *room_id, const char *name,
                      int64_t now, int64_t ttl_seconds);

/* Verifies token against secret at time now (seconds) and fills out. Checks length,
 * alg == HS256, signature, exp, nbf, iat, iss == aud == "zencast", typ == expected kind. */
jwt_status jwt_verify_token(const uint8_t *secret, size_t secret_len, const char *token,
                            jwt_kind expected, int64_t now, jwt_claims *out);

const char *jwt_status_str(jwt_status s);

#endif
