/* Fixed-window failure counters by key (an email, an address), in memory. */
#ifndef ZC_RATE_LIMIT_H
#define ZC_RATE_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rate_limit rate_limit;

/* At most max_failures per window_ms for one key; at most max_keys keys tracked. */
rate_limit *rate_limit_new(int max_failures, int64_t window_ms, int max_keys);
void rate_limit_free(rate_limit *rl);

/* True when key is blocked at now_ms; *retry_after_s tells for how long. */
bool rate_limit_blocked(rate_limit *rl, const char *key, int64_t now_ms, int64_t *retry_after_s);
void rate_limit_fail(rate_limit *rl, const char *key, int64_t now_ms);
void rate_limit_clear(rate_limit *rl, const char *key);

#endif
