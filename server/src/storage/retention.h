/* Raw chunks are deleted RAW_RETENTION after their take rendered successfully (the
 * seed's 7 days). On S3 the bucket's lifecycle rule does it; on the local folder this
 * sweep does, every SWEEP interval. A deleted chunk's row stays, marked 'expired'. */
#ifndef ZC_RETENTION_H
#define ZC_RETENTION_H

#include <stdint.h>

#include "storage/storage.h"
#include "store/db.h"

typedef struct retention retention;

retention *retention_start(uv_loop_t *loop, db *d, storage *s, int64_t retention_ms, int64_t interval_ms);
/* Runs one sweep now; done (may be NULL) gets how many chunks were deleted. */
void retention_sweep(retention *r, void (*done)(int deleted, void *ctx), void *ctx);
/* Stops the timer; frees once a running sweep has finished. */
void retention_stop(retention *r);

#endif
