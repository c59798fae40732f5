#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>

#include "auth/jwt.h"
#include "util/crypto.h"

#define NOW 1700000000
#define ROOM "123e4567-e89b-42d3-a456-426614174000"

static const uint8_t SECRET[] = "test-secret-0123456789abcdefghijklmnop";
#define SECRET_LEN (sizeof SECRET - 1)
static const uint8_t OTHER[] = "another-secret-0123456789abcdefghijklm";
#define OTHER_LEN (sizeof OTHER - 1)

/* Claims as jwt_sign_claims would write them, for tokens built by hand. */
#define ACCESS_CLAIMS(extra)                                                              \
    "{\"iss\":\"zencast\",\"aud\":\"zencast\",\"typ\":\"access\",\"sub\":\"user-1\","     \
    "\"iat\":1700000000,\"exp\":1700000600" extra "}"
#define PARTICIPANT_CLAIMS(extra)                                                         \
    "{\"iss\":\"zencast\",\"aud\":\"zencast\",\"typ\":\"participant\",\"sub\":\"p-1\","   \
    "\"iat\":1700000000,\"exp\":1700000600" extra "}"

static jwt_status verify(const char *token, jwt_kind kind) {
    jwt_claims c;
    return jwt_verify_token(SECRET, SECRET_LEN, token, kind, NOW, &c);
}

/* A token made by libjwt itself, with whatever algorithm and claims. */
static char *libjwt_token(jwt_alg_t alg, const uint8_t *key, size_t key_len, const char *claims) {
    jwt_t *jwt = NULL;
    char *token;

    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_set_alg(jwt, alg, key, (int)key_len), 0);
    assert_int_equal(jwt_add_grants_json(jwt, claims), 0);
    token = jwt_encode_str(jwt);
    jwt_free(jwt);
    assert_non_null(token);
    return token;
}

/* A token built byte by byte, HMAC-SHA256 signed under key (no signature if key is NULL). */
static char *craft(const char *header, const char *payload, const uint8_t *key, size_t key_len) {
    size_t hl = strlen(header), pl = strlen(payload);
    size_t cap = (hl + pl) * 2 + 64;
    char *token = malloc(cap);
    uint8_t mac[32];
    size_t n;

    assert_non_null(token);
    n = crypto_base64url_encode((const uint8_t *)header, hl, token, cap);
    token[n++] = '.';
    n += crypto_base64url_encode((const uint8_t *)payload, pl, token + n, cap - n);
    if (key != NULL) {
        crypto_hmac_sha256(key, key_len, token, n, mac);
        token[n++] = '.';
        crypto_base64url_encode(mac, sizeof mac, token + n, cap - n);
    } else {
        strcpy(token + n, ".");
    }
    return token;
}

static jwt_status verify_crafted(const char *header, const char *payload, jwt_kind kind) {
    char *token = craft(header, payload, SECRET, SECRET_LEN);
    jwt_status st = verify(token, kind);
    free(token);
    return st;
}

static jwt_status verify_libjwt(const char *claims, jwt_kind kind) {
    char *token = libjwt_token(JWT_ALG_HS256, SECRET, SECRET_LEN, claims);
    jwt_status st = verify(token, kind);
    free(token);
    return st;
}

static void test_round_trip_access(void **state) {
    (void)state;
    jwt_claims c;
    char *token = jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "user-42", NULL, "Ada",
                                  NOW, 900);

    assert_non_null(token);
    memset(&c, 0x55, sizeof c);
    assert_int_equal(jwt_verify_token(SECRET, SECRET_LEN, token, JWT_KIND_ACCESS, NOW + 10, &c),
                     JWT_OK);
    assert_int_equal(c.kind, JWT_KIND_ACCESS);
    assert_string_equal(c.subject, "user-42");
    assert_string_equal(c.room_id, "");
    assert_string_equal(c.name, "Ada");
    assert_int_equal(c.issued_at, NOW);
    assert_int_equal(c.expires_at, NOW + 900);
    free(token);
}

static void test_round_trip_participant(void **state) {
    (void)state;
    jwt_claims c;
    char *token = jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_PARTICIPANT, "p-7", ROOM, "",
                                  NOW, 3600);

    assert_non_null(token);
    assert_int_equal(jwt_verify_token(SECRET, SECRET_LEN, token, JWT_KIND_PARTICIPANT, NOW, &c),
                     JWT_OK);
    assert_int_equal(c.kind, JWT_KIND_PARTICIPANT);
    assert_string_equal(c.subject, "p-7");
    assert_string_equal(c.room_id, ROOM);
    assert_string_equal(c.name, "");
    assert_int_equal(c.expires_at, NOW + 3600);
    /* out may be NULL when only validity matters. */
    assert_int_equal(jwt_verify_token(SECRET, SECRET_LEN, token, JWT_KIND_PARTICIPANT, NOW, NULL),
                     JWT_OK);
    free(token);
}

static void test_same_second_tokens_differ(void **state) {
    (void)state;
    char *a = jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, NULL, NOW, 60);
    char *b = jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, NULL, NOW, 60);

    assert_non_null(a);
    assert_non_null(b);
    assert_string_not_equal(a, b);
    free(a);
    free(b);
}

static void test_alg_none_refused(void **state) {
    (void)state;
    char payload[512], token[1024];
    const char *claims = ACCESS_CLAIMS("");

    /* {"alg":"none"} with an empty signature, the classic forgery. */
    crypto_base64url_encode((const uint8_t *)claims, strlen(claims), payload, sizeof payload);
    snprintf(token, sizeof token, "eyJhbGciOiJub25lIn0.%s.", payload);
    assert_int_equal(verify(token, JWT_KIND_ACCESS), JWT_ERR_ALGORITHM);

    /* The same with typ, and as libjwt itself writes alg=none tokens. */
    char *crafted = craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, NULL, 0);
    assert_int_equal(verify(crafted, JWT_KIND_ACCESS), JWT_ERR_ALGORITHM);
    free(crafted);
    char *made = libjwt_token(JWT_ALG_NONE, NULL, 0, claims);
    assert_int_equal(verify(made, JWT_KIND_ACCESS), JWT_ERR_ALGORITHM);
    free(made);
}

static void test_hs512_same_secret_refused(void **state) {
    (void)state;
    char *token = libjwt_token(JWT_ALG_HS512, SECRET, SECRET_LEN, ACCESS_CLAIMS(""));

    assert_int_equal(verify(token, JWT_KIND_ACCESS), JWT_ERR_ALGORITHM);
    free(token);
    token = libjwt_token(JWT_ALG_HS384, SECRET, SECRET_LEN, ACCESS_CLAIMS(""));
    assert_int_equal(verify(token, JWT_KIND_ACCESS), JWT_ERR_ALGORITHM);
    free(token);
}

static void test_header_must_be_exact(void **state) {
    (void)state;
    const char *claims = ACCESS_CLAIMS("");

    assert_int_equal(verify_crafted("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, JWT_KIND_ACCESS),
                     JWT_OK);
    assert_int_equal(verify_crafted("{\"alg\":\"HS256\"}", claims, JWT_KIND_ACCESS), JWT_OK);
    /* libjwt compares the algorithm name case-insensitively; we do not. */
    assert_int_equal(verify_crafted("{\"alg\":\"hs256\"}", claims, JWT_KIND_ACCESS),
                     JWT_ERR_ALGORITHM);
    assert_int_equal(verify_crafted("{\"typ\":\"JWT\"}", claims, JWT_KIND_ACCESS),
                     JWT_ERR_ALGORITHM);
    assert_int_equal(verify_crafted("{\"alg\":256}", claims, JWT_KIND_ACCESS), JWT_ERR_ALGORITHM);
    /* jansson refuses \u0000 in strings unless asked, so this never reaches the alg check. */
    assert_int_equal(verify_crafted("{\"alg\":\"HS256\\u0000\"}", claims, JWT_KIND_ACCESS),
                     JWT_ERR_MALFORMED);
    assert_int_equal(verify_crafted("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", claims, JWT_KIND_ACCESS),
                     JWT_ERR_MALFORMED);
    assert_int_equal(verify_crafted("{\"alg\":\"HS256\",\"kid\":\"x\"}", claims, JWT_KIND_ACCESS),
                     JWT_ERR_MALFORMED);
    assert_int_equal(verify_crafted("{\"alg\":\"HS256\",\"alg\":\"none\"}", claims,
                                    JWT_KIND_ACCESS),
                     JWT_ERR_MALFORMED);
    assert_int_equal(verify_crafted("[\"HS256\"]", claims, JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    assert_int_equal(verify_crafted("not json", claims, JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
}

static void test_wrong_key_refused(void **state) {
    (void)state;
    char *token = jwt_sign_claims(OTHER, OTHER_LEN, JWT_KIND_ACCESS, "u", NULL, NULL, NOW, 60);

    assert_non_null(token);
    assert_int_equal(verify(token, JWT_KIND_ACCESS), JWT_ERR_SIGNATURE);
    free(token);
}

static void test_expired_refused(void **state) {
    (void)state;
    jwt_claims c;
    char *token = jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, NULL,
                                  NOW - 1000, 10);

    assert_int_equal(verify(token, JWT_KIND_ACCESS), JWT_ERR_EXPIRED);
    free(token);
    token = jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, NULL, NOW, 60);
    assert_int_equal(jwt_verify_token(SECRET, SECRET_LEN, token, JWT_KIND_ACCESS, NOW + 59, &c),
                     JWT_OK);
    assert_int_equal(jwt_verify_token(SECRET, SECRET_LEN, token, JWT_KIND_ACCESS, NOW + 60, &c),
                     JWT_ERR_EXPIRED);
    assert_string_equal(c.subject, "");
    free(token);
}

static void test_nbf_in_future_refused(void **state) {
    (void)state;
    assert_int_equal(verify_libjwt(ACCESS_CLAIMS(",\"nbf\":1700000120"), JWT_KIND_ACCESS),
                     JWT_ERR_NOT_YET);
    /* Within the 60 s of allowed clock skew. */
    assert_int_equal(verify_libjwt(ACCESS_CLAIMS(",\"nbf\":1700000060"), JWT_KIND_ACCESS), JWT_OK);
    assert_int_equal(verify_libjwt(ACCESS_CLAIMS(",\"nbf\":\"0\""), JWT_KIND_ACCESS),
                     JWT_ERR_MALFORMED);
}

static void test_iat_in_future_refused(void **state) {
    (void)state;
    char *token = jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, NULL,
                                  NOW + 120, 600);

    assert_int_equal(verify(token, JWT_KIND_ACCESS), JWT_ERR_NOT_YET);
    free(token);
    token = jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, NULL, NOW + 60, 600);
    assert_int_equal(verify(token, JWT_KIND_ACCESS), JWT_OK);
    free(token);
}

static void test_overlong_token_refused(void **state) {
    (void)state;
    char *big = malloc(JWT_MAX_TOKEN_LEN + 2);
    char claims[5200];

    assert_non_null(big);
    memset(big, 'a', JWT_MAX_TOKEN_LEN + 1);
    big[JWT_MAX_TOKEN_LEN + 1] = '\0';
    assert_int_equal(verify(big, JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    free(big);

    /* A correctly signed token that is simply too long. */
    char pad[4001];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    snprintf(claims, sizeof claims, ACCESS_CLAIMS(",\"pad\":\"%s\""), pad);
    assert_int_equal(verify_libjwt(claims, JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
}

static void test_wrong_part_count_refused(void **state) {
    (void)state;
    char *token = jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, NULL, NOW, 60);
    char buf[1024];
    const char *dot2 = strrchr(token, '.');

    /* Two parts: header and payload only. */
    snprintf(buf, sizeof buf, "%.*s", (int)(dot2 - token), token);
    assert_int_equal(verify(buf, JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    /* Four parts. */
    snprintf(buf, sizeof buf, "%s.x", token);
    assert_int_equal(verify(buf, JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    snprintf(buf, sizeof buf, "%s.", token);
    assert_int_equal(verify(buf, JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    /* Padding or characters outside base64url. */
    snprintf(buf, sizeof buf, "%s=", token);
    assert_int_equal(verify(buf, JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    snprintf(buf, sizeof buf, "%s ", token);
    assert_int_equal(verify(buf, JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    /* Empty header or payload. */
    assert_int_equal(verify(".e30.abc", JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    assert_int_equal(verify("e30..abc", JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    assert_int_equal(verify("..", JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    assert_int_equal(verify("abc", JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    assert_int_equal(verify("", JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    assert_int_equal(verify(NULL, JWT_KIND_ACCESS), JWT_ERR_MALFORMED);
    free(token);
}

static void test_wrong_kind_refused(void **state) {
    (void)state;
    char *access = jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, NULL, NOW, 60);
    char *part = jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_PARTICIPANT, "p", ROOM, NULL, NOW,
                                 60);

    assert_int_equal(verify(access, JWT_KIND_PARTICIPANT), JWT_ERR_CLAIMS);
    assert_int_equal(verify(part, JWT_KIND_ACCESS), JWT_ERR_CLAIMS);
    assert_int_equal(jwt_verify_token(SECRET, SECRET_LEN, access, (jwt_kind)7, NOW, NULL),
                     JWT_ERR_INTERNAL);
    free(access);
    free(part);
}

static void test_wrong_iss_aud_refused(void **state) {
    (void)state;
    assert_int_equal(verify_libjwt("{\"iss\":\"evil\",\"aud\":\"zencast\",\"typ\":\"access\","
                                   "\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000600}",
                                   JWT_KIND_ACCESS),
                     JWT_ERR_CLAIMS);
    assert_int_equal(verify_libjwt("{\"iss\":\"zencast\",\"aud\":\"other\",\"typ\":\"access\","
                                   "\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000600}",
                                   JWT_KIND_ACCESS),
                     JWT_ERR_CLAIMS);
    assert_int_equal(verify_libjwt("{\"aud\":\"zencast\",\"typ\":\"access\","
                                   "\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000600}",
                                   JWT_KIND_ACCESS),
                     JWT_ERR_MALFORMED);
    assert_int_equal(verify_libjwt("{\"iss\":\"zencast\",\"aud\":[\"zencast\"],\"typ\":\"access\","
                                   "\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000600}",
                                   JWT_KIND_ACCESS),
                     JWT_ERR_MALFORMED);
    assert_int_equal(verify_libjwt(ACCESS_CLAIMS(""), JWT_KIND_ACCESS), JWT_OK);
}

static void test_claim_checks(void **state) {
    (void)state;
    /* libjwt's jwt_get_grant_int would read a string exp as 0; we refuse the type. */
    assert_int_equal(verify_libjwt("{\"iss\":\"zencast\",\"aud\":\"zencast\",\"typ\":\"access\","
                                   "\"sub\":\"u\",\"iat\":1700000000,\"exp\":\"1700000600\"}",
                                   JWT_KIND_ACCESS),
                     JWT_ERR_MALFORMED);
    assert_int_equal(verify_libjwt("{\"iss\":\"zencast\",\"aud\":\"zencast\",\"typ\":\"access\","
                                   "\"sub\":\"u\",\"exp\":1700000600}",
                                   JWT_KIND_ACCESS),
                     JWT_ERR_MALFORMED);
    assert_int_equal(verify_libjwt("{\"iss\":\"zencast\",\"aud\":\"zencast\",\"typ\":\"access\","
                                   "\"sub\":\"u\",\"iat\":1700000000}",
                                   JWT_KIND_ACCESS),
                     JWT_ERR_MALFORMED);
    assert_int_equal(verify_libjwt("{\"iss\":\"zencast\",\"aud\":\"zencast\",\"typ\":\"access\","
                                   "\"sub\":\"\",\"iat\":1700000000,\"exp\":1700000600}",
                                   JWT_KIND_ACCESS),
                     JWT_ERR_CLAIMS);
    /* libjwt cannot even build this one; a hand-signed copy is refused. */
    assert_int_equal(verify_crafted("{\"alg\":\"HS256\"}",
                                    "{\"iss\":\"zencast\",\"aud\":\"zencast\",\"typ\":\"access\","
                                    "\"sub\":\"u\\u0000x\",\"iat\":1700000000,\"exp\":1700000600}",
                                    JWT_KIND_ACCESS),
                     JWT_ERR_MALFORMED);
    assert_int_equal(verify_libjwt("{\"iss\":\"zencast\",\"aud\":\"zencast\",\"typ\":\"admin\","
                                   "\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000600}",
                                   JWT_KIND_ACCESS),
                     JWT_ERR_CLAIMS);

    char claims[512], sub[65];
    memset(sub, 's', 64);
    sub[64] = '\0';
    snprintf(claims, sizeof claims,
             "{\"iss\":\"zencast\",\"aud\":\"zencast\",\"typ\":\"access\",\"sub\":\"%s\","
             "\"iat\":1700000000,\"exp\":1700000600}", sub);
    assert_int_equal(verify_libjwt(claims, JWT_KIND_ACCESS), JWT_ERR_CLAIMS);

    /* Rooms: required and well formed for participants, absent for access tokens. */
    assert_int_equal(verify_libjwt(PARTICIPANT_CLAIMS(""), JWT_KIND_PARTICIPANT),
                     JWT_ERR_MALFORMED);
    assert_int_equal(verify_libjwt(PARTICIPANT_CLAIMS(",\"room\":\"not-a-uuid\""),
                                   JWT_KIND_PARTICIPANT),
                     JWT_ERR_CLAIMS);
    assert_int_equal(verify_libjwt(PARTICIPANT_CLAIMS(",\"room\":\"" ROOM "\""),
                                   JWT_KIND_PARTICIPANT),
                     JWT_OK);
    assert_int_equal(verify_libjwt(ACCESS_CLAIMS(",\"room\":\"" ROOM "\""), JWT_KIND_ACCESS),
                     JWT_ERR_CLAIMS);

    char name[129];
    memset(name, 'n', 128);
    name[128] = '\0';
    snprintf(claims, sizeof claims, PARTICIPANT_CLAIMS(",\"room\":\"" ROOM "\",\"name\":\"%s\""),
             name);
    assert_int_equal(verify_libjwt(claims, JWT_KIND_PARTICIPANT), JWT_ERR_CLAIMS);
    name[127] = '\0';
    snprintf(claims, sizeof claims, PARTICIPANT_CLAIMS(",\"room\":\"" ROOM "\",\"name\":\"%s\""),
             name);
    assert_int_equal(verify_libjwt(claims, JWT_KIND_PARTICIPANT), JWT_OK);
}

static void test_short_secret_refused(void **state) {
    (void)state;
    jwt_claims c;
    char *token;

    assert_null(jwt_sign_claims(SECRET, JWT_MIN_SECRET_LEN - 1, JWT_KIND_ACCESS, "u", NULL, NULL,
                                NOW, 60));
    assert_null(jwt_sign_claims(NULL, 0, JWT_KIND_ACCESS, "u", NULL, NULL, NOW, 60));

    /* A token really signed with the short secret is still refused. */
    token = libjwt_token(JWT_ALG_HS256, SECRET, JWT_MIN_SECRET_LEN - 1, ACCESS_CLAIMS(""));
    assert_int_equal(jwt_verify_token(SECRET, JWT_MIN_SECRET_LEN - 1, token, JWT_KIND_ACCESS, NOW,
                                      &c),
                     JWT_ERR_INTERNAL);
    assert_int_equal(jwt_verify_token(NULL, 0, token, JWT_KIND_ACCESS, NOW, &c), JWT_ERR_INTERNAL);
    assert_int_equal(jwt_verify_token(SECRET, 0, token, JWT_KIND_ACCESS, NOW, &c),
                     JWT_ERR_INTERNAL);
    free(token);

    token = jwt_sign_claims(SECRET, JWT_MIN_SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, NULL, NOW, 60);
    assert_non_null(token);
    assert_int_equal(jwt_verify_token(SECRET, JWT_MIN_SECRET_LEN, token, JWT_KIND_ACCESS, NOW, &c),
                     JWT_OK);
    free(token);
}

static void test_tampered_token_refused(void **state) {
    (void)state;
    char *token = jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "user-1", NULL, NULL, NOW,
                                  600);
    char *dot1 = strchr(token, '.'), *dot2 = strrchr(token, '.');
    const char *evil = ACCESS_CLAIMS("");
    char payload[512], buf[1024];

    /* Swap in another payload, keep header and signature. */
    crypto_base64url_encode((const uint8_t *)evil, strlen(evil), payload, sizeof payload);
    snprintf(buf, sizeof buf, "%.*s.%s%s", (int)(dot1 - token), token, payload, dot2);
    assert_int_equal(verify(buf, JWT_KIND_ACCESS), JWT_ERR_SIGNATURE);

    /* Flip one character of the payload, then of the signature. */
    strcpy(buf, token);
    buf[dot1 - token + 5] = buf[dot1 - token + 5] == 'A' ? 'B' : 'A';
    assert_int_not_equal(verify(buf, JWT_KIND_ACCESS), JWT_OK);
    strcpy(buf, token);
    buf[strlen(buf) - 1] = buf[strlen(buf) - 1] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(buf, JWT_KIND_ACCESS), JWT_ERR_SIGNATURE);

    /* Signature cut short or removed. */
    strcpy(buf, token);
    buf[strlen(buf) - 1] = '\0';
    assert_int_equal(verify(buf, JWT_KIND_ACCESS), JWT_ERR_SIGNATURE);
    buf[dot2 - token + 1] = '\0';
    assert_int_equal(verify(buf, JWT_KIND_ACCESS), JWT_ERR_SIGNATURE);

    assert_int_equal(verify(token, JWT_KIND_ACCESS), JWT_OK);
    free(token);
}

static void test_sign_rejects_bad_arguments(void **state) {
    (void)state;
    char sub64[65], name128[129];

    memset(sub64, 's', 64);
    sub64[64] = '\0';
    memset(name128, 'n', 128);
    name128[128] = '\0';
    assert_null(jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, NULL, NULL, NULL, NOW, 60));
    assert_null(jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "", NULL, NULL, NOW, 60));
    assert_null(jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, sub64, NULL, NULL, NOW, 60));
    assert_null(jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, name128, NOW, 60));
    assert_null(jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", ROOM, NULL, NOW, 60));
    assert_null(jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_PARTICIPANT, "p", NULL, NULL, NOW, 60));
    assert_null(jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_PARTICIPANT, "p", "room-1", NULL, NOW,
                                60));
    assert_null(jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, NULL, NOW, 0));
    assert_null(jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, NULL, NOW, -5));
    assert_null(jwt_sign_claims(SECRET, SECRET_LEN, JWT_KIND_ACCESS, "u", NULL, NULL, INT64_MAX,
                                60));
    assert_null(jwt_sign_claims(SECRET, SECRET_LEN, (jwt_kind)0, "u", NULL, NULL, NOW, 60));
}

static void test_status_strings(void **state) {
    (void)state;
    for (int s = JWT_OK; s <= JWT_ERR_INTERNAL; s++) {
        assert_non_null(jwt_status_str((jwt_status)s));
        assert_true(strlen(jwt_status_str((jwt_status)s)) > 0);
    }
    assert_string_equal(jwt_status_str(JWT_OK), "ok");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_access),
        cmocka_unit_test(test_round_trip_participant),
        cmocka_unit_test(test_same_second_tokens_differ),
        cmocka_unit_test(test_alg_none_refused),
        cmocka_unit_test(test_hs512_same_secret_refused),
        cmocka_unit_test(test_header_must_be_exact),
        cmocka_unit_test(test_wrong_key_refused),
        cmocka_unit_test(test_expired_refused),
        cmocka_unit_test(test_nbf_in_future_refused),
        cmocka_unit_test(test_iat_in_future_refused),
        cmocka_unit_test(test_overlong_token_refused),
        cmocka_unit_test(test_wrong_part_count_refused),
        cmocka_unit_test(test_wrong_kind_refused),
        cmocka_unit_test(test_wrong_iss_aud_refused),
        cmocka_unit_test(test_claim_checks),
        cmocka_unit_test(test_short_secret_refused),
        cmocka_unit_test(test_tampered_token_refused),
        cmocka_unit_test(test_sign_rejects_bad_arguments),
        cmocka_unit_test(test_status_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
