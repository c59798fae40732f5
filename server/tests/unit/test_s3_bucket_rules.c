/* The bucket rules `zencast storage init` applies: CORS for the studio's origins and the
 * lifecycle rule for raw chunks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "storage/s3_bucket_rules.h"

static void test_cors(void **state)
{
    (void)state;
    char xml[4096];
    assert_int_equal(s3_cors_xml("https://studio.example.com, http://localhost:3001", xml, sizeof xml), 0);
    assert_non_null(strstr(xml, "<AllowedOrigin>https://studio.example.com</AllowedOrigin>"));
    assert_non_null(strstr(xml, "<AllowedOrigin>http://localhost:3001</AllowedOrigin>"));
    assert_non_null(strstr(xml, "<AllowedMethod>PUT</AllowedMethod>"));
    assert_non_null(strstr(xml, "<AllowedHeader>x-amz-checksum-sha256</AllowedHeader>"));
    assert_null(strstr(xml, "<AllowedOrigin>*</AllowedOrigin>"));
    char small[64];
    assert_int_equal(s3_cors_xml("https://a.example", small, sizeof small), -1);
}

static void test_lifecycle(void **state)
{
    (void)state;
    char xml[1024];
    assert_int_equal(s3_lifecycle_xml(7, xml, sizeof xml), 0);
    assert_non_null(strstr(xml, "<Prefix>recordings/</Prefix>"));
    assert_non_null(strstr(xml, "<Days>7</Days>"));
    assert_int_equal(s3_lifecycle_xml(0, xml, sizeof xml), 0);
    assert_non_null(strstr(xml, "<Days>1</Days>")); /* S3's minimum */
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_cors), cmocka_unit_test(test_lifecycle) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
