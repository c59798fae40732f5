/* AWS Signature Version 4 query-string presigning ("presigned URLs") for S3. */
#ifndef ZC_SIGV4_H
#define ZC_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* may be NULL: no X-Amz-Security-Token */
    const char *region;
    const char *service; /* "s3" */
} sigv4_credentials;

typedef struct {
    const char *method; /* "GET", "PUT", ... */
    const char *scheme; /* "https" or "http" */
    /* host[:port] as sent in the Host header. It is lowercased and a default port
     * (:443 for https, :80 for http) is dropped, as browsers do. */
    const char *host;
    /* Starts with '/', not yet encoded: each segment is URI-encoded, '/' kept. */
    const char *path;
    /* Extra headers to sign besides host (lowercase names, no duplicates). When
     * x-amz-content-sha256 is among them its value is the payload hash, as AWS
     * SDKs and botocore do; otherwise the payload hash is UNSIGNED-PAYLOAD. */
    const char *const *signed_header_names;
    const char *const *signed_header_values;
    int nheaders;
    /* Extra query parameters, raw (encoded here). */
    const char *const *query_names;
    const char *const *query_values;
    int nquery;
    time_t now;
    int expires_seconds; /* 1..604800 */
} sigv4_request;

#define SIGV4_MAX_EXPIRES 604800

/* Writes the presigned URL: scheme://host/encoded-path?canonical-query&X-Amz-Signature=...
 * (the query sorted as signed, the signature last). Returns 0, or -1 on bad input,
 * allocation failure or a too small buffer (out is then ""). */
int sigv4_presign_url(const sigv4_credentials *cred, const sigv4_request *req, char *out,
                      size_t out_size);

/* Same signing, but fills the canonical request and the string to sign (either
 * buffer may be NULL) so a mismatch can be located. Returns 0 or -1. */
int sigv4_presign_debug(const sigv4_credentials *cred, const sigv4_request *req,
                        char *canonical_request, size_t canonical_size, char *string_to_sign,
                        size_t string_to_sign_size);

/* URI-encodes in per SigV4: A-Z a-z 0-9 - _ . ~ kept, every other byte %XX (uppercase);
 * '/' is kept when keep_slash. Returns the encoded length, or -1 when out is too small. */
int sigv4_uri_encode(const char *in, bool keep_slash, char *out, size_t out_size);

/* kSigning = HMAC chain of "AWS4"+secret over date8 (YYYYMMDD), region, service,
 * "aws4_request". */
void sigv4_signing_key(const char *secret, const char *date8, const char *region,
                       const char *service, uint8_t out[32]);

#endif
