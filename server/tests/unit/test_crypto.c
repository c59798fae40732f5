#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/crypto.h"

/* RFC 4648 section 10 vectors; without padding they read the same in base64url. */
static const char *const rfc4648[][2] = {
    {"", ""},          {"f", "Zg"},         {"fo", "Zm8"},      {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

static void test_base64url_encode_vectors(void **state) {
    (void)state;
    char out[16];

    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        size_t n = crypto_base64url_encode((const uint8_t *)rfc4648[i][0],
                                           strlen(rfc4648[i][0]), out, sizeof out);
        assert_string_equal(out, rfc4648[i][1]);
        assert_int_equal(n, strlen(rfc4648[i][1]));
    }
    /* Bytes that use the two alphabet-specific characters ("+/" in plain base64). */
    const uint8_t special[] = {0xfb, 0xff};
    assert_int_equal(crypto_base64url_encode(special, 2, out, sizeof out), 3);
    assert_string_equal(out, "-_8");
    const uint8_t ones[] = {0xff, 0xff, 0xfe};
    crypto_base64url_encode(ones, 3, out, sizeof out);
    assert_string_equal(out, "___-");
}

static void test_base64url_encode_small_buffer(void **state) {
    (void)state;
    char out[4] = "xyz";

    assert_int_equal(crypto_base64url_encode((const uint8_t *)"foo", 3, out, sizeof out), 0);
    assert_string_equal(out, "");
    char fits[5];
    assert_int_equal(crypto_base64url_encode((const uint8_t *)"foo", 3, fits, sizeof fits), 4);
    assert_string_equal(fits, "Zm9v");
}

static void test_base64url_decode_vectors(void **state) {
    (void)state;
    uint8_t out[16];

    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const char *enc = rfc4648[i][1];
        long n = crypto_base64url_decode(enc, strlen(enc), out, sizeof out);
        assert_int_equal(n, strlen(rfc4648[i][0]));
        assert_memory_equal(out, rfc4648[i][0], (size_t)n);
    }
    assert_int_equal(crypto_base64url_decode("-_8", 3, out, sizeof out), 2);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    /* Padded input is accepted too. */
    assert_int_equal(crypto_base64url_decode("Zg==", 4, out, sizeof out), 1);
    assert_int_equal(out[0], 'f');
    assert_int_equal(crypto_base64url_decode("Zm8=", 4, out, sizeof out), 2);
    assert_memory_equal(out, "fo", 2);
}

static void test_base64url_decode_invalid(void **state) {
    (void)state;
    uint8_t out[16];
    const char *bad[] = {
        "Z",      /* a single leftover character cannot be */
        "Zm9vY",  /* same, after a full group */
        "Zm+v",   /* plain base64 alphabet */
        "Zm/v",
        "Zm9v!",
        "Zm 9v",
        "Zg=",    /* padding that does not complete a group */
        "Zg===",
        "Z===",
        "Zg=a",   /* padding in the middle */
        "=Zg",
        "Zh",     /* non-zero leftover bits */
        "Zm9=",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(crypto_base64url_decode(bad[i], strlen(bad[i]), out, sizeof out), -1);
    /* Output buffer too small. */
    assert_int_equal(crypto_base64url_decode("Zm9vYmFy", 8, out, 5), -1);
    assert_int_equal(crypto_base64url_decode("Zm9vYmFy", 8, out, 6), 6);
    /* Embedded NUL inside the given length. */
    assert_int_equal(crypto_base64url_decode("Zm\0v", 4, out, sizeof out), -1);
}

static void test_sha256_hex(void **state) {
    (void)state;
    char hex[65];

    crypto_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hmac_sha256_rfc4231_case2(void **state) {
    (void)state;
    const char *data = "what do ya want for nothing?";
    uint8_t mac[32];
    char hex[65];

    crypto_hmac_sha256("Jefe", 4, data, strlen(data), mac);
    crypto_hex(mac, sizeof mac, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_hex(void **state) {
    (void)state;
    const uint8_t in[] = {0x00, 0x0f, 0xa5, 0xff};
    char out[9];

    crypto_hex(in, sizeof in, out);
    assert_string_equal(out, "000fa5ff");
    crypto_hex(in, 0, out);
    assert_string_equal(out, "");
}

static void test_random_bytes_and_token(void **state) {
    (void)state;
    uint8_t a[64] = {0}, b[64] = {0};
    char t1[33], t2[33], small[10];

    assert_int_equal(crypto_random_bytes(a, sizeof a), 0);
    assert_int_equal(crypto_random_bytes(b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);

    assert_int_equal(crypto_random_token(16, t1, sizeof t1), 0);
    assert_int_equal(crypto_random_token(16, t2, sizeof t2), 0);
    assert_int_equal(strlen(t1), 22);
    assert_string_not_equal(t1, t2);
    for (size_t i = 0; t1[i]; i++) assert_non_null(strchr(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", t1[i]));
    assert_int_equal(crypto_random_token(16, small, sizeof small), -1);
    assert_int_equal(crypto_random_token(0, t1, sizeof t1), -1);
}

static void test_uuid_v4_format(void **state) {
    (void)state;
    char u1[37], u2[37];

    for (int round = 0; round < 64; round++) {
        assert_int_equal(crypto_uuid_v4(u1), 0);
        assert_int_equal(strlen(u1), 36);
        assert_true(crypto_is_uuid(u1));
        assert_int_equal(u1[8], '-');
        assert_int_equal(u1[13], '-');
        assert_int_equal(u1[18], '-');
        assert_int_equal(u1[23], '-');
        assert_int_equal(u1[14], '4');
        assert_non_null(strchr("89ab", u1[19]));
        for (int i = 0; i < 36; i++) assert_non_null(strchr("0123456789abcdef-", u1[i]));
    }
    assert_int_equal(crypto_uuid_v4(u2), 0);
    assert_string_not_equal(u1, u2);
}

static void test_is_uuid(void **state) {
    (void)state;
    assert_true(crypto_is_uuid("123e4567-e89b-12d3-a456-426614174000"));
    assert_true(crypto_is_uuid("123E4567-E89B-12D3-A456-426614174000"));
    assert_true(crypto_is_uuid("00000000-0000-0000-0000-000000000000"));

    assert_false(crypto_is_uuid(NULL));
    assert_false(crypto_is_uuid(""));
    assert_false(crypto_is_uuid("123e4567-e89b-12d3-a456-42661417400"));   /* 35 chars */
    assert_false(crypto_is_uuid("123e4567-e89b-12d3-a456-4266141740000")); /* 37 chars */
    assert_false(crypto_is_uuid("123e4567e89b12d3a456426614174000"));       /* no hyphens */
    assert_false(crypto_is_uuid("123e456-7e89b-12d3-a456-426614174000"));   /* hyphen moved */
    assert_false(crypto_is_uuid("123e4567-e89b-12d3-a456_426614174000"));
    assert_false(crypto_is_uuid("123g4567-e89b-12d3-a456-426614174000"));   /* not hex */
    assert_false(crypto_is_uuid("{23e4567-e89b-12d3-a456-42661417400}"));
    assert_false(crypto_is_uuid(" 23e4567-e89b-12d3-a456-426614174000"));
}

static void test_equal_ct(void **state) {
    (void)state;
    assert_true(crypto_equal_ct("", ""));
    assert_true(crypto_equal_ct("secret-token", "secret-token"));
    assert_false(crypto_equal_ct("secret-token", "secret-tokeN"));
    assert_false(crypto_equal_ct("Secret-token", "secret-token"));
    assert_false(crypto_equal_ct("abc", "abcd"));
    assert_false(crypto_equal_ct("abcd", "abc"));
    assert_false(crypto_equal_ct("", "a"));
    assert_false(crypto_equal_ct("a", ""));
    assert_false(crypto_equal_ct(NULL, "a"));
    assert_false(crypto_equal_ct("a", NULL));
    assert_false(crypto_equal_ct(NULL, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64url_encode_vectors),
        cmocka_unit_test(test_base64url_encode_small_buffer),
        cmocka_unit_test(test_base64url_decode_vectors),
        cmocka_unit_test(test_base64url_decode_invalid),
        cmocka_unit_test(test_sha256_hex),
        cmocka_unit_test(test_hmac_sha256_rfc4231_case2),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_random_bytes_and_token),
        cmocka_unit_test(test_uuid_v4_format),
        cmocka_unit_test(test_is_uuid),
        cmocka_unit_test(test_equal_ct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
