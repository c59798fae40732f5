/* ICE servers handed to browsers: STUN as configured, TURN with coturn's REST API
 * credentials (expected values computed independently with Python's hmac module). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rtc/rtc_internal.h"

static void test_stun_only(void **state)
{
    (void)state;
    config cfg = { 0 };
    strcpy(cfg.stun_urls, "stun:a.example:3478, stun:b.example:19302");
    json_t *servers = rtc_ice_servers(&cfg, "p", 1000);
    assert_int_equal(json_array_size(servers), 1);
    json_t *urls = json_object_get(json_array_get(servers, 0), "urls");
    assert_int_equal(json_array_size(urls), 2);
    assert_string_equal(json_string_value(json_array_get(urls, 1)), "stun:b.example:19302");
    assert_null(json_object_get(json_array_get(servers, 0), "credential"));
    json_decref(servers);
}

static void test_no_servers(void **state)
{
    (void)state;
    config cfg = { 0 };
    json_t *servers = rtc_ice_servers(&cfg, "p", 1000);
    assert_int_equal(json_array_size(servers), 0);
    json_decref(servers);
}

static void test_turn_rest_credentials(void **state)
{
    (void)state;
    config cfg = { 0 };
    strcpy(cfg.turn_urls, "turn:turn.example:3478?transport=udp");
    strcpy(cfg.turn_secret, "turn-secret-0123456789");
    cfg.turn_ttl_s = 43200;
    json_t *servers = rtc_ice_servers(&cfg, "5b6f0f1e-2d3c-4b5a-9e8f-7a6b5c4d3e2f", 1800000000);
    assert_int_equal(json_array_size(servers), 1);
    json_t *turn = json_array_get(servers, 0);
    assert_string_equal(json_string_value(json_object_get(turn, "username")),
                        "1800043200:5b6f0f1e-2d3c-4b5a-9e8f-7a6b5c4d3e2f");
    assert_string_equal(json_string_value(json_object_get(turn, "credential")), "M8QRNmmeJb5Y0/UI7Kj4GXDtkuk=");
    assert_string_equal(json_string_value(json_array_get(json_object_get(turn, "urls"), 0)),
                        "turn:turn.example:3478?transport=udp");
    json_decref(servers);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stun_only),
        cmocka_unit_test(test_no_servers),
        cmocka_unit_test(test_turn_rest_credentials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
