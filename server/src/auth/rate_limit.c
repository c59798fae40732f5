#include "auth/rate_limit.h"

#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024
#define KEY_MAX 256

typedef struct entry {
    struct entry *next;
    char key[KEY_MAX];
    int failures;
    int64_t window_start_ms;
} entry;

struct rate_limit {
    entry *buckets[BUCKETS];
    int max_failures;
    int64_t window_ms;
    int max_keys;
    int nkeys;
};

/* Keys are stored cut to KEY_MAX - 1 bytes, so hashing and comparing look at that
 * prefix only: a longer key must still find its own entry. */
static unsigned hash_key(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < KEY_MAX - 1 && s[i]; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h % BUCKETS;
}

rate_limit *rate_limit_new(int max_failures, int64_t window_ms, int max_keys)
{
    rate_limit *rl = calloc(1, sizeof *rl);
    if (rl) {
        rl->max_failures = max_failures;
        rl->window_ms = window_ms;
        rl->max_keys = max_keys;
    }
    return rl;
}

void rate_limit_free(rate_limit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < BUCKETS; i++)
        for (entry *e = rl->buckets[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(rl);
}

static entry **find_slot(rate_limit *rl, const char *key)
{
    entry **slot = &rl->buckets[hash_key(key)];
    while (*slot && strncmp((*slot)->key, key, KEY_MAX - 1) != 0)
        slot = &(*slot)->next;
    return slot;
}

/* Drops entries whose window has passed, so memory stays bounded under a flood. */
static void sweep_expired(rate_limit *rl, int64_t now_ms)
{
    for (int i = 0; i < BUCKETS; i++) {
        entry **slot = &rl->buckets[i];
        while (*slot) {
            entry *e = *slot;
            if (now_ms - e->window_start_ms >= rl->window_ms) {
                *slot = e->next;
                free(e);
                rl->nkeys--;
            } else {
                slot = &e->next;
            }
        }
    }
}

bool rate_limit_blocked(rate_limit *rl, const char *key, int64_t now_ms, int64_t *retry_after_s)
{
    entry *e = *find_slot(rl, key);
    if (!e || now_ms - e->window_start_ms >= rl->window_ms || e->failures < rl->max_failures)
        return false;
    *retry_after_s = (e->window_start_ms + rl->window_ms - now_ms + 999) / 1000;
    return true;
}

void rate_limit_fail(rate_limit *rl, const char *key, int64_t now_ms)
{
    entry **slot = find_slot(rl, key);
    entry *e = *slot;
    if (!e) {
        if (rl->nkeys >= rl->max_keys)
            sweep_expired(rl, now_ms);
        if (rl->nkeys >= rl->max_keys)
            return; /* still full: every tracked key is active; fail open for new keys */
        e = calloc(1, sizeof *e);
        if (!e)
            return;
        strncpy(e->key, key, KEY_MAX - 1);
        e->window_start_ms = now_ms;
        *slot = e;
        rl->nkeys++;
    }
    if (now_ms - e->window_start_ms >= rl->window_ms) {
        e->window_start_ms = now_ms;
        e->failures = 0;
    }
    e->failures++;
}

void rate_limit_clear(rate_limit *rl, const char *key)
{
    entry **slot = find_slot(rl, key);
    entry *e = *slot;
    if (e) {
        *slot = e->next;
        free(e);
        rl->nkeys--;
    }
}
