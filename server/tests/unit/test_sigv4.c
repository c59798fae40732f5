#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "storage/sigv4.h"
#include "util/crypto.h"

static bool starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* --- AWS's published example (S3 API docs, "Authenticating Requests: Using Query
 * Parameters (AWS Signature Version 4)") --- */

#define EX_TIME ((time_t)1369353600) /* 20130524T000000Z */
#define EX_QUERY                                                                          \
    "X-Amz-Algorithm=AWS4-HMAC-SHA256"                                                    \
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" \
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
#define EX_SIGNATURE "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

static const sigv4_credentials example_cred = {
    .access_key_id = "AKIAIOSFODNN7EXAMPLE",
    .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    .region = "us-east-1",
    .service = "s3",
};

static sigv4_request example_request(void) {
    return (sigv4_request){
        .method = "GET",
        .scheme = "https",
        .host = "examplebucket.s3.amazonaws.com",
        .path = "/test.txt",
        .now = EX_TIME,
        .expires_seconds = 86400,
    };
}

static void test_aws_example_url(void **state) {
    (void)state;
    sigv4_request req = example_request();
    char url[1024];

    assert_int_equal(sigv4_presign_url(&example_cred, &req, url, sizeof url), 0);
    assert_string_equal(url, "https://examplebucket.s3.amazonaws.com/test.txt?" EX_QUERY
                             "&X-Amz-Signature=" EX_SIGNATURE);
}

static void test_aws_example_debug(void **state) {
    (void)state;
    sigv4_request req = example_request();
    char canonical[1024], to_sign[512];

    assert_int_equal(sigv4_presign_debug(&example_cred, &req, canonical, sizeof canonical,
                                         to_sign, sizeof to_sign),
                     0);
    assert_string_equal(canonical, "GET\n/test.txt\n" EX_QUERY "\n"
                                   "host:examplebucket.s3.amazonaws.com\n\n"
                                   "host\nUNSIGNED-PAYLOAD");
    assert_string_equal(to_sign,
                        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                        "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
    /* Either buffer may be omitted. */
    assert_int_equal(sigv4_presign_debug(&example_cred, &req, NULL, 0, to_sign, sizeof to_sign), 0);
    assert_int_equal(
        sigv4_presign_debug(&example_cred, &req, canonical, sizeof canonical, NULL, 0), 0);
}

/* --- signing key: the example from the AWS SigV4 documentation --- */

static void test_signing_key_aws_example(void **state) {
    (void)state;
    uint8_t key[32];
    char hex[65];

    sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam",
                      key);
    crypto_hex(key, sizeof key, hex);
    assert_string_equal(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

static void test_signing_key_long_secret(void **state) {
    (void)state;
    char secret[301];
    uint8_t a[32], b[32];

    memset(secret, 'k', sizeof secret - 1);
    secret[sizeof secret - 1] = '\0';
    sigv4_signing_key(secret, "20240101", "eu-west-2", "s3", a); /* heap path */
    sigv4_signing_key(secret, "20240101", "eu-west-2", "s3", b);
    assert_memory_equal(a, b, sizeof a);
    secret[0] = 'j';
    sigv4_signing_key(secret, "20240101", "eu-west-2", "s3", b);
    assert_memory_not_equal(a, b, sizeof a);
}

/* --- URI encoding --- */

static void check_encode(const char *in, bool keep_slash, const char *want) {
    char out[256];
    int n = sigv4_uri_encode(in, keep_slash, out, sizeof out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_uri_encode_cases(void **state) {
    (void)state;
    check_encode("", false, "");
    check_encode("AZaz09-_.~", false, "AZaz09-_.~");
    check_encode("a b  c", false, "a%20b%20%20c");
    check_encode("+", false, "%2B"); /* never '+' for space, and '+' itself encoded */
    check_encode("100%", false, "100%25");
    check_encode("caf\xc3\xa9", false, "caf%C3%A9");                     /* é */
    check_encode("\xe6\x97\xa5\xe6\x9c\xac", false, "%E6%97%A5%E6%9C%AC"); /* 日本 */
    check_encode("\xf0\x9f\x8e\x99", false, "%F0%9F%8E%99");              /* 🎙 */
    check_encode("!*'();:@&=+$,?#[]\"<>\\^`{|}", false,
                 "%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%3F%23%5B%5D%22%3C%3E%5C%5E%60%7B%7C%7D");
    check_encode("\t\x01\x7f\xff", false, "%09%01%7F%FF");
    check_encode("/a b/c//d/", true, "/a%20b/c//d/");
    check_encode("/a b/c//d/", false, "%2Fa%20b%2Fc%2F%2Fd%2F");
}

static void test_uri_encode_buffer(void **state) {
    (void)state;
    char out[8] = "junk";

    assert_int_equal(sigv4_uri_encode("a b", false, out, 5), -1); /* needs 5 + NUL */
    assert_string_equal(out, "");
    assert_int_equal(sigv4_uri_encode("a b", false, out, 6), 5);
    assert_string_equal(out, "a%20b");
    assert_int_equal(sigv4_uri_encode(NULL, false, out, sizeof out), -1);
    assert_int_equal(sigv4_uri_encode("a", false, NULL, 4), -1);
    assert_int_equal(sigv4_uri_encode("a", false, out, 0), -1);
}

/* Path segments keep '/', query names and values encode it; the query is sorted by encoded
 * name then value; extra headers are sorted into SignedHeaders with trimmed values. */
static void test_encoding_in_request(void **state) {
    (void)state;
    const char *hn[] = {"x-amz-meta-note", "content-type"};
    const char *hv[] = {"  two   words\there  ", "audio/webm;codecs=opus"};
    const char *qn[] = {"response-content-disposition", "b", "a b", "b"};
    const char *qv[] = {"attachment; filename=\"r\xc3\xa9 1.webm\"", "2/x", "~", "1+1"};
    sigv4_credentials cred = example_cred;
    cred.session_token = "tok/en+=";
    sigv4_request req = {
        .method = "PUT",
        .scheme = "http",
        .host = "127.0.0.1:4568",
        .path = "/bucket/my folder/\xc3\xbcn\xc3\xaf~code (1).webm",
        .signed_header_names = hn,
        .signed_header_values = hv,
        .nheaders = 2,
        .query_names = qn,
        .query_values = qv,
        .nquery = 4,
        .now = EX_TIME,
        .expires_seconds = 900,
    };
    char canonical[2048], url[2048];

    assert_int_equal(sigv4_presign_debug(&cred, &req, canonical, sizeof canonical, NULL, 0), 0);
    assert_string_equal(
        canonical,
        "PUT\n"
        "/bucket/my%20folder/%C3%BCn%C3%AF~code%20%281%29.webm\n"
        "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=900"
        "&X-Amz-Security-Token=tok%2Fen%2B%3D"
        "&X-Amz-SignedHeaders=content-type%3Bhost%3Bx-amz-meta-note"
        "&a%20b=~&b=1%2B1&b=2%2Fx"
        "&response-content-disposition=attachment%3B%20filename%3D%22r%C3%A9%201.webm%22\n"
        "content-type:audio/webm;codecs=opus\n"
        "host:127.0.0.1:4568\n"
        "x-amz-meta-note:two words here\n"
        "\n"
        "content-type;host;x-amz-meta-note\n"
        "UNSIGNED-PAYLOAD");
    assert_int_equal(sigv4_presign_url(&cred, &req, url, sizeof url), 0);
    assert_true(starts_with(url, "http://127.0.0.1:4568"
                                 "/bucket/my%20folder/%C3%BCn%C3%AF~code%20%281%29.webm"
                                 "?X-Amz-Algorithm="));
    const char *sig = strstr(url, "&X-Amz-Signature=");
    assert_non_null(sig);
    assert_int_equal(strlen(sig), strlen("&X-Amz-Signature=") + 64); /* last parameter */
}

/* A signed x-amz-content-sha256 header is the payload hash, as AWS SDKs and botocore do. */
static void test_content_sha256_header_is_payload_hash(void **state) {
    (void)state;
    const char *hn[] = {"x-amz-content-sha256"};
    const char *hv[] = {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
    sigv4_request req = example_request();
    req.signed_header_names = hn;
    req.signed_header_values = hv;
    req.nheaders = 1;
    char canonical[2048];

    assert_int_equal(
        sigv4_presign_debug(&example_cred, &req, canonical, sizeof canonical, NULL, 0), 0);
    const char *tail = "\nhost;x-amz-content-sha256\n"
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_string_equal(canonical + strlen(canonical) - strlen(tail), tail);
}

/* The Host value is what a browser sends: lowercase, without the scheme's default port. */
static void test_host_normalized(void **state) {
    (void)state;
    sigv4_request req = example_request();
    char want[1024], url[1024];

    assert_int_equal(sigv4_presign_url(&example_cred, &req, want, sizeof want), 0);
    req.host = "ExampleBucket.S3.amazonaws.com:443";
    assert_int_equal(sigv4_presign_url(&example_cred, &req, url, sizeof url), 0);
    assert_string_equal(url, want);
    req.host = "examplebucket.s3.amazonaws.com:8443";
    assert_int_equal(sigv4_presign_url(&example_cred, &req, url, sizeof url), 0);
    assert_true(starts_with(url, "https://examplebucket.s3.amazonaws.com:8443/test.txt?"));
    assert_string_not_equal(strstr(url, "X-Amz-Signature="), strstr(want, "X-Amz-Signature="));
}

/* --- bad input --- */

static void assert_refused(const sigv4_credentials *cred, const sigv4_request *req) {
    char url[1024] = "junk";
    assert_int_equal(sigv4_presign_url(cred, req, url, sizeof url), -1);
    assert_string_equal(url, "");
}

static void test_expires_range(void **state) {
    (void)state;
    sigv4_request req = example_request();
    char url[1024];

    req.expires_seconds = 0;
    assert_refused(&example_cred, &req);
    req.expires_seconds = -5;
    assert_refused(&example_cred, &req);
    req.expires_seconds = 604801;
    assert_refused(&example_cred, &req);
    req.expires_seconds = 604800;
    assert_int_equal(sigv4_presign_url(&example_cred, &req, url, sizeof url), 0);
    assert_non_null(strstr(url, "&X-Amz-Expires=604800&"));
    req.expires_seconds = 1;
    assert_int_equal(sigv4_presign_url(&example_cred, &req, url, sizeof url), 0);
}

static void test_buffer_too_small(void **state) {
    (void)state;
    sigv4_request req = example_request();
    char url[1024], small[1024];
    char canonical[1024];

    assert_int_equal(sigv4_presign_url(&example_cred, &req, url, sizeof url), 0);
    size_t len = strlen(url);
    strcpy(small, "junk");
    assert_int_equal(sigv4_presign_url(&example_cred, &req, small, len), -1);
    assert_string_equal(small, "");
    assert_int_equal(sigv4_presign_url(&example_cred, &req, small, len + 1), 0);
    assert_string_equal(small, url);
    assert_int_equal(sigv4_presign_url(&example_cred, &req, NULL, 0), -1);
    assert_int_equal(sigv4_presign_url(&example_cred, &req, small, 0), -1);
    assert_int_equal(sigv4_presign_debug(&example_cred, &req, canonical, 10, NULL, 0), -1);
    assert_string_equal(canonical, "");
}

static void test_null_and_bad_credentials(void **state) {
    (void)state;
    sigv4_request req = example_request();
    sigv4_credentials c;

    assert_refused(NULL, &req);
    assert_refused(&example_cred, NULL);
    c = example_cred, c.access_key_id = NULL;
    assert_refused(&c, &req);
    c = example_cred, c.secret_access_key = NULL;
    assert_refused(&c, &req);
    c = example_cred, c.secret_access_key = "";
    assert_refused(&c, &req);
    c = example_cred, c.region = NULL;
    assert_refused(&c, &req);
    c = example_cred, c.region = "us/east";
    assert_refused(&c, &req);
    c = example_cred, c.service = NULL;
    assert_refused(&c, &req);
    c = example_cred, c.service = "";
    assert_refused(&c, &req);
}

static void test_null_and_bad_request_fields(void **state) {
    (void)state;
    sigv4_request r;

    r = example_request(), r.method = NULL;
    assert_refused(&example_cred, &r);
    r = example_request(), r.method = "get";
    assert_refused(&example_cred, &r);
    r = example_request(), r.scheme = NULL;
    assert_refused(&example_cred, &r);
    r = example_request(), r.scheme = "ftp";
    assert_refused(&example_cred, &r);
    r = example_request(), r.host = NULL;
    assert_refused(&example_cred, &r);
    r = example_request(), r.host = "";
    assert_refused(&example_cred, &r);
    r = example_request(), r.host = "evil.com/x";
    assert_refused(&example_cred, &r);
    r = example_request(), r.host = "a b";
    assert_refused(&example_cred, &r);
    r = example_request(), r.path = NULL;
    assert_refused(&example_cred, &r);
    r = example_request(), r.path = "test.txt";
    assert_refused(&example_cred, &r);
    r = example_request(), r.now = -1;
    assert_refused(&example_cred, &r);
}

static void test_bad_headers_and_query(void **state) {
    (void)state;
    const char *upper[] = {"Content-Type"}, *host[] = {"host"}, *dup[] = {"x-a", "x-a"};
    const char *ok_values[] = {"v", "w"}, *crlf[] = {"v\r\nx-evil: 1"}, *nullv[] = {NULL};
    const char *sig[] = {"x-amz-signature"}, *empty[] = {""};
    sigv4_request r;

    r = example_request(), r.nheaders = 1;
    assert_refused(&example_cred, &r); /* arrays missing */
    r = example_request(), r.nheaders = -1;
    assert_refused(&example_cred, &r);
    r = example_request(), r.signed_header_names = upper, r.signed_header_values = ok_values,
    r.nheaders = 1;
    assert_refused(&example_cred, &r);
    r.signed_header_names = host;
    assert_refused(&example_cred, &r);
    r.signed_header_names = dup, r.nheaders = 2;
    assert_refused(&example_cred, &r);
    r.signed_header_names = sig, r.signed_header_values = crlf, r.nheaders = 1;
    assert_refused(&example_cred, &r);
    r.signed_header_values = nullv;
    assert_refused(&example_cred, &r);

    r = example_request(), r.nquery = 1;
    assert_refused(&example_cred, &r);
    r.query_names = sig, r.query_values = ok_values; /* the presigner's own parameter */
    assert_refused(&example_cred, &r);
    r.query_names = empty;
    assert_refused(&example_cred, &r);
    r.query_names = ok_values, r.query_values = nullv;
    assert_refused(&example_cred, &r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_example_url),
        cmocka_unit_test(test_aws_example_debug),
        cmocka_unit_test(test_signing_key_aws_example),
        cmocka_unit_test(test_signing_key_long_secret),
        cmocka_unit_test(test_uri_encode_cases),
        cmocka_unit_test(test_uri_encode_buffer),
        cmocka_unit_test(test_encoding_in_request),
        cmocka_unit_test(test_content_sha256_header_is_payload_hash),
        cmocka_unit_test(test_host_normalized),
        cmocka_unit_test(test_expires_range),
        cmocka_unit_test(test_buffer_too_small),
        cmocka_unit_test(test_null_and_bad_credentials),
        cmocka_unit_test(test_null_and_bad_request_fields),
        cmocka_unit_test(test_bad_headers_and_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
