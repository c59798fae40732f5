#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/rate_limit.h"

#define T0 1700000000000LL /* an arbitrary "now" in milliseconds */
#define WINDOW_MS (15 * 60 * 1000LL)

static bool blocked(rate_limit *rl, const char *key, int64_t now_ms)
{
    int64_t retry = -1;
    return rate_limit_blocked(rl, key, now_ms, &retry);
}

static void test_blocked_after_max_failures(void **state)
{
    (void)state;
    rate_limit *rl = rate_limit_new(3, WINDOW_MS, 100);
    assert_non_null(rl);
    assert_false(blocked(rl, "a@b.c", T0));
    rate_limit_fail(rl, "a@b.c", T0);
    assert_false(blocked(rl, "a@b.c", T0 + 1));
    rate_limit_fail(rl, "a@b.c", T0 + 1000);
    assert_false(blocked(rl, "a@b.c", T0 + 1000));
    rate_limit_fail(rl, "a@b.c", T0 + 2000);
    assert_true(blocked(rl, "a@b.c", T0 + 2000));
    /* Further failures keep it blocked. */
    rate_limit_fail(rl, "a@b.c", T0 + 3000);
    assert_true(blocked(rl, "a@b.c", T0 + 3000));
    rate_limit_free(rl);
}

static void test_retry_after_seconds(void **state)
{
    (void)state;
    rate_limit *rl = rate_limit_new(1, WINDOW_MS, 100);
    assert_non_null(rl);
    rate_limit_fail(rl, "k", T0);
    int64_t retry = -1;
    assert_true(rate_limit_blocked(rl, "k", T0, &retry));
    assert_int_equal(retry, 900);
    /* The window is fixed from the first failure, rounded up to whole seconds. */
    assert_true(rate_limit_blocked(rl, "k", T0 + 1, &retry));
    assert_int_equal(retry, 900);
    assert_true(rate_limit_blocked(rl, "k", T0 + 1000, &retry));
    assert_int_equal(retry, 899);
    assert_true(rate_limit_blocked(rl, "k", T0 + 60500, &retry));
    assert_int_equal(retry, 840);
    assert_true(rate_limit_blocked(rl, "k", T0 + WINDOW_MS - 1, &retry));
    assert_int_equal(retry, 1);
    rate_limit_free(rl);
}

static void test_window_expiry_unblocks(void **state)
{
    (void)state;
    rate_limit *rl = rate_limit_new(2, WINDOW_MS, 100);
    assert_non_null(rl);
    rate_limit_fail(rl, "k", T0);
    rate_limit_fail(rl, "k", T0 + 10);
    assert_true(blocked(rl, "k", T0 + WINDOW_MS - 1));
    assert_false(blocked(rl, "k", T0 + WINDOW_MS));
    assert_false(blocked(rl, "k", T0 + 10 * WINDOW_MS));

    /* A failure after the window starts a fresh count. */
    rate_limit_fail(rl, "k", T0 + WINDOW_MS);
    assert_false(blocked(rl, "k", T0 + WINDOW_MS));
    rate_limit_fail(rl, "k", T0 + WINDOW_MS + 5);
    assert_true(blocked(rl, "k", T0 + WINDOW_MS + 5));
    int64_t retry;
    assert_true(rate_limit_blocked(rl, "k", T0 + WINDOW_MS + 5, &retry));
    assert_int_equal(retry, 900);

    /* Failures spread over two windows do not add up. */
    rate_limit_fail(rl, "s", T0);
    rate_limit_fail(rl, "s", T0 + WINDOW_MS + 1);
    assert_false(blocked(rl, "s", T0 + WINDOW_MS + 1));
    rate_limit_free(rl);
}

static void test_clear_resets(void **state)
{
    (void)state;
    rate_limit *rl = rate_limit_new(2, WINDOW_MS, 100);
    assert_non_null(rl);
    rate_limit_fail(rl, "k", T0);
    rate_limit_fail(rl, "k", T0);
    assert_true(blocked(rl, "k", T0));
    rate_limit_clear(rl, "k");
    assert_false(blocked(rl, "k", T0));
    rate_limit_fail(rl, "k", T0);
    assert_false(blocked(rl, "k", T0));
    rate_limit_fail(rl, "k", T0);
    assert_true(blocked(rl, "k", T0));
    /* Clearing an unknown key is harmless, twice too. */
    rate_limit_clear(rl, "unknown");
    rate_limit_clear(rl, "k");
    rate_limit_clear(rl, "k");
    assert_false(blocked(rl, "k", T0));
    rate_limit_free(rl);
}

static void test_keys_independent(void **state)
{
    (void)state;
    rate_limit *rl = rate_limit_new(2, WINDOW_MS, 100);
    assert_non_null(rl);
    rate_limit_fail(rl, "alice@example.com", T0);
    rate_limit_fail(rl, "alice@example.com", T0);
    rate_limit_fail(rl, "bob@example.com", T0);
    assert_true(blocked(rl, "alice@example.com", T0));
    assert_false(blocked(rl, "bob@example.com", T0));
    assert_false(blocked(rl, "alice@example.co", T0));
    assert_false(blocked(rl, "Alice@example.com", T0));
    assert_false(blocked(rl, "", T0));
    rate_limit_clear(rl, "bob@example.com");
    assert_true(blocked(rl, "alice@example.com", T0));
    rate_limit_clear(rl, "alice@example.com");
    assert_false(blocked(rl, "alice@example.com", T0));

    /* Many keys, some sharing hash buckets: each keeps its own count. */
    char key[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        rate_limit_fail(rl, key, T0);
        if (i % 2 == 0)
            rate_limit_fail(rl, key, T0);
    }
    rate_limit_free(rl);

    rl = rate_limit_new(2, WINDOW_MS, 5000);
    assert_non_null(rl);
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        rate_limit_fail(rl, key, T0);
        if (i % 2 == 0)
            rate_limit_fail(rl, key, T0);
    }
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        if (blocked(rl, key, T0) != (i % 2 == 0))
            fail_msg("key %s: wrong state", key);
    }
    for (int i = 0; i < 3000; i += 3) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        rate_limit_clear(rl, key);
    }
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        if (blocked(rl, key, T0) != (i % 2 == 0 && i % 3 != 0))
            fail_msg("key %s: wrong state after clear", key);
    }
    rate_limit_free(rl);
}

static void test_max_keys_bound(void **state)
{
    (void)state;
    rate_limit *rl = rate_limit_new(1, WINDOW_MS, 3);
    assert_non_null(rl);
    rate_limit_fail(rl, "k1", T0);
    rate_limit_fail(rl, "k2", T0 + 100);
    rate_limit_fail(rl, "k3", T0 + 200);
    assert_true(blocked(rl, "k1", T0 + 300));
    assert_true(blocked(rl, "k2", T0 + 300));
    assert_true(blocked(rl, "k3", T0 + 300));

    /* Full of active keys: a new key is not tracked, and nothing is evicted. */
    rate_limit_fail(rl, "k4", T0 + 300);
    assert_false(blocked(rl, "k4", T0 + 300));
    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof key, "flood%d", i);
        rate_limit_fail(rl, key, T0 + 400);
        assert_false(blocked(rl, key, T0 + 400));
    }
    assert_true(blocked(rl, "k1", T0 + 500));
    assert_true(blocked(rl, "k2", T0 + 500));
    assert_true(blocked(rl, "k3", T0 + 500));

    /* Tracked keys still count while full. */
    rate_limit_fail(rl, "k1", T0 + 600);
    assert_true(blocked(rl, "k1", T0 + 600));

    /* Clearing a key frees its place. */
    rate_limit_clear(rl, "k3");
    rate_limit_fail(rl, "k4", T0 + 700);
    assert_true(blocked(rl, "k4", T0 + 700));
    rate_limit_fail(rl, "k5", T0 + 700);
    assert_false(blocked(rl, "k5", T0 + 700));

    /* Once k1 and k2 expire they are swept to make room for new keys. */
    int64_t later = T0 + 100 + WINDOW_MS; /* k1 and k2 expired, k4 still active */
    rate_limit_fail(rl, "k5", later);
    assert_true(blocked(rl, "k5", later));
    assert_false(blocked(rl, "k1", later));
    assert_false(blocked(rl, "k2", later));
    assert_true(blocked(rl, "k4", later));
    rate_limit_fail(rl, "k6", later);
    assert_true(blocked(rl, "k6", later));
    /* Now k4, k5, k6: full again. */
    rate_limit_fail(rl, "k7", later);
    assert_false(blocked(rl, "k7", later));
    rate_limit_free(rl);
}

static void test_max_keys_flood_stays_bounded(void **state)
{
    (void)state;
    /* Under a flood of distinct keys that expire, the table recycles its places:
     * new keys keep being tracked, and free() under ASan finds no leak. */
    rate_limit *rl = rate_limit_new(1, 1000, 50);
    assert_non_null(rl);
    char key[32];
    for (int round = 0; round < 20; round++) {
        int64_t now = T0 + round * 1000LL;
        for (int i = 0; i < 50; i++) {
            snprintf(key, sizeof key, "r%d-k%d", round, i);
            rate_limit_fail(rl, key, now);
            if (!blocked(rl, key, now))
                fail_msg("round %d key %d not tracked", round, i);
        }
        snprintf(key, sizeof key, "r%d-extra", round);
        rate_limit_fail(rl, key, now);
        assert_false(blocked(rl, key, now));
    }
    rate_limit_free(rl);
    rate_limit_free(NULL);
}

static void test_long_keys(void **state)
{
    (void)state;
    /* Keys longer than the stored length still count as one key. */
    char key[600];
    memset(key, 'x', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    rate_limit *rl = rate_limit_new(3, WINDOW_MS, 2);
    assert_non_null(rl);
    rate_limit_fail(rl, key, T0);
    rate_limit_fail(rl, key, T0);
    assert_false(blocked(rl, key, T0));
    rate_limit_fail(rl, key, T0);
    assert_true(blocked(rl, key, T0));
    /* It took one place: another key still fits. */
    rate_limit_fail(rl, "short", T0);
    rate_limit_fail(rl, "short", T0);
    rate_limit_fail(rl, "short", T0);
    assert_true(blocked(rl, "short", T0));
    rate_limit_clear(rl, key);
    assert_false(blocked(rl, key, T0));
    rate_limit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocked_after_max_failures),
        cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_window_expiry_unblocks),
        cmocka_unit_test(test_clear_resets),
        cmocka_unit_test(test_keys_independent),
        cmocka_unit_test(test_max_keys_bound),
        cmocka_unit_test(test_max_keys_flood_stays_bounded),
        cmocka_unit_test(test_long_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
