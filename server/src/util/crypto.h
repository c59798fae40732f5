/* Small cryptographic helpers: randomness, encodings, hashes, identifiers. */
#ifndef ZC_CRYPTO_H
#define ZC_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Fills buf with len bytes from the kernel's CSPRNG (getrandom). Returns 0 or -1. */
int crypto_random_bytes(void *buf, size_t len);

/* Encodes len bytes as unpadded base64url into out (needs 4*ceil(len/3)+1 bytes).
 * Returns the string length. */
size_t crypto_base64url_encode(const uint8_t *in, size_t len, char *out, size_t out_size);

/* Decodes unpadded (or padded) base64url. Returns decoded length or -1 on bad input/overflow. */
long crypto_base64url_decode(const char *in, size_t len, uint8_t *out, size_t out_size);

/* A random opaque token: nbytes of randomness as base64url. out needs 2*nbytes+1. 0 or -1. */
int crypto_random_token(size_t nbytes, char *out, size_t out_size);

/* SHA-256 of data as 64 lowercase hex chars plus NUL (out must hold 65). */
void crypto_sha256_hex(const void *data, size_t len, char out[65]);

/* HMAC-SHA256 of data under key into out (32 bytes). */
void crypto_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32]);

/* Lowercase hex of len bytes into out (needs 2*len+1). */
void crypto_hex(const uint8_t *in, size_t len, char *out);

/* A random RFC 4122 version 4 UUID, lowercase, 36 chars plus NUL. 0 or -1. */
int crypto_uuid_v4(char out[37]);

/* True when s is a canonical lowercase-or-uppercase hyphenated UUID (36 chars). */
bool crypto_is_uuid(const char *s);

/* Compares two strings in time independent of where they differ. */
bool crypto_equal_ct(const char *a, const char *b);

#endif
