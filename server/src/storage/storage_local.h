/* What the local folder back end shares with the HTTP side of local uploads. */
#ifndef ZC_STORAGE_LOCAL_H
#define ZC_STORAGE_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "storage/storage.h"

typedef struct local_storage local_storage;

/* The local back end behind s, or NULL when s is another back end. */
const local_storage *storage_local_impl(const storage *s);
const char *storage_local_root(const local_storage *ls);
/* root/key, refusing keys that are not storage_key_is_valid. 0 or -1. */
int storage_local_path(const local_storage *ls, const char *key, char *out, size_t size);
int storage_local_make_parents(const char *path);
/* 0, 1 when the file does not exist, -1 on error. Blocking. */
int storage_local_hash_file(const char *path, int64_t *size, char sha256[65]);

/* Epoch seconds from the precise clock. time() reads a coarse clock that can lag a few
 * milliseconds behind, which would let a URL live into the second it expires at. */
int64_t storage_local_now_s(void);

/* The signed strings of upload and download URLs, and their signature (hex HMAC). */
void storage_local_put_canonical(const char *key, int64_t expires, int64_t size, const char *sha256,
                                 const char *content_type, char *out, size_t out_size);
void storage_local_get_canonical(const char *key, int64_t expires, char *out, size_t out_size);
void storage_local_sign(const local_storage *ls, const char *canonical, char out[65]);

#endif
