/* Password hashing with argon2id, always on the thread pool, never on the loop. */
#ifndef ZC_PASSWORD_H
#define ZC_PASSWORD_H

#include <stdbool.h>
#include <uv.h>

#define PASSWORD_MIN_LEN 8
#define PASSWORD_MAX_LEN 256
#define PASSWORD_HASH_MAX 160

/* hash is the encoded argon2id string ("$argon2id$v=19$..."), or NULL on failure. */
typedef void (*password_hash_cb)(const char *hash, void *ctx);
typedef void (*password_verify_cb)(bool match, void *ctx);

int password_hash_async(uv_loop_t *loop, const char *password, password_hash_cb cb, void *ctx);

/* When hash is NULL a dummy hash is checked, so an unknown account takes as long
 * as a known one; the result is then always false. */
int password_verify_async(uv_loop_t *loop, const char *hash, const char *password,
                          password_verify_cb cb, void *ctx);

#endif
