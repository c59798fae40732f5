/* `zencast storage init` on S3: the bucket's CORS rules (browsers PUT chunks straight to it)
 * and its lifecycle rule (raw chunks under recordings/ expire), applied through the S3 API.
 * Blocking: for the command line only, never the server's loop. */
#ifndef ZC_S3_BUCKET_RULES_H
#define ZC_S3_BUCKET_RULES_H

#include <stddef.h>

#include "storage/storage.h"

/* The XML bodies, for the tests and for the command. 0 or -1 (too small). */
int s3_cors_xml(const char *origins_csv, char *out, size_t size);
int s3_lifecycle_xml(int raw_days, char *out, size_t size);

/* PUTs ?cors and ?lifecycle to the bucket. Returns 0, or -1 with err saying which failed. */
int s3_apply_bucket_rules(const storage_s3_options *opts, const char *origins_csv, int raw_days, char *err,
                          size_t err_size);

#endif
