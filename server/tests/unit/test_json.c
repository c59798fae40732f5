#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

static json_t *parse(const char *text)
{
    return json_parse_object(text, strlen(text));
}

/* --- json_parse_object --- */

static void test_parse_object_ok(void **state)
{
    (void)state;
    json_t *o = parse("{\"email\":\"a@b.c\",\"n\":3}");
    assert_non_null(o);
    assert_true(json_is_object(o));
    assert_int_equal(json_object_size(o), 2);
    json_decref(o);

    o = parse("  {}  \n");
    assert_non_null(o);
    assert_int_equal(json_object_size(o), 0);
    json_decref(o);

    /* Only len bytes are read. */
    const char *text = "{\"a\":1}garbage";
    o = json_parse_object(text, 7);
    assert_non_null(o);
    json_decref(o);
}

static void test_parse_keeps_nul_for_the_field_check(void **state)
{
    (void)state;
    const char body[] = "{\"name\":\"a\\u0000b\"}";
    json_t *o = json_parse_object(body, sizeof body - 1);
    assert_non_null(o);
    char out[16];
    json_field_error err;
    assert_false(json_get_string_field(o, "name", true, 1, 10, out, sizeof out, &err));
    assert_string_equal(err.field, "name");
    json_decref(o);
}

static void test_parse_object_refused(void **state)
{
    (void)state;
    static const char *bad[] = {
        "[]",
        "[{\"a\":1}]",
        "\"string\"",
        "42",
        "1.5",
        "true",
        "null",
        "garbage",
        "{",
        "{\"a\":}",
        "{\"a\":1,}",
        "{'a':1}",
        "{} {}",
        "{}x",
        "   ",
        "{\"email\":\"a\",\"email\":\"b\"}",
        "{\"a\":{\"b\":1,\"b\":2}}",
        "{\"a\":99999999999999999999999}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *o = parse(bad[i]);
        if (o) {
            json_decref(o);
            fail_msg("accepted %s", bad[i]);
        }
    }
    assert_null(json_parse_object("", 0));
    assert_null(json_parse_object(NULL, 0));
    assert_null(json_parse_object("{}", 0));
    /* A NUL byte inside the body is not accepted as the end of the document. */
    assert_null(json_parse_object("{}\0{}", 5));
}

/* --- json_get_string_field --- */

static void test_string_ok_and_trimmed(void **state)
{
    (void)state;
    json_t *o = parse("{\"name\":\"  Ada Lovelace \",\"email\":\"a@b.c\",\"utf\":\"h\\u00e9llo\"}");
    assert_non_null(o);
    char out[32];
    json_field_error err;
    memset(&err, 0, sizeof err);

    assert_true(json_get_string_field(o, "name", true, 1, 20, out, sizeof out, &err));
    assert_string_equal(out, "Ada Lovelace");
    assert_true(json_get_string_field(o, "email", true, 5, 5, out, sizeof out, &err));
    assert_string_equal(out, "a@b.c");
    assert_true(json_get_string_field(o, "utf", true, 1, 20, out, sizeof out, &err));
    assert_string_equal(out, "h\xc3\xa9llo");
    /* Lengths count bytes: "héllo" is 6. */
    assert_false(json_get_string_field(o, "utf", true, 1, 5, out, sizeof out, &err));
    assert_string_equal(err.field, "utf");
    json_decref(o);
}

static void test_string_required_and_optional(void **state)
{
    (void)state;
    json_t *o = parse("{\"nothing\":null}");
    assert_non_null(o);
    char out[16];
    json_field_error err;

    strcpy(out, "stale");
    memset(&err, 0, sizeof err);
    assert_false(json_get_string_field(o, "email", true, 1, 10, out, sizeof out, &err));
    assert_string_equal(err.field, "email");
    assert_non_null(strstr(err.message, "email"));
    assert_non_null(strstr(err.message, "required"));

    strcpy(out, "stale");
    assert_true(json_get_string_field(o, "email", false, 1, 10, out, sizeof out, &err));
    assert_string_equal(out, "");

    /* null counts as absent. */
    memset(&err, 0, sizeof err);
    assert_false(json_get_string_field(o, "nothing", true, 1, 10, out, sizeof out, &err));
    assert_string_equal(err.field, "nothing");
    strcpy(out, "stale");
    assert_true(json_get_string_field(o, "nothing", false, 1, 10, out, sizeof out, &err));
    assert_string_equal(out, "");

    /* A NULL error pointer is allowed. */
    assert_false(json_get_string_field(o, "email", true, 1, 10, out, sizeof out, NULL));
    json_decref(o);
}

static void test_string_length_bounds(void **state)
{
    (void)state;
    json_t *o = parse("{\"s\":\"abc\",\"blank\":\"   \",\"empty\":\"\",\"padded\":\"  abcd  \"}");
    assert_non_null(o);
    char out[8];
    json_field_error err;

    assert_true(json_get_string_field(o, "s", true, 3, 3, out, sizeof out, &err));
    assert_string_equal(out, "abc");

    memset(&err, 0, sizeof err);
    assert_false(json_get_string_field(o, "s", true, 4, 7, out, sizeof out, &err));
    assert_string_equal(err.field, "s");
    assert_non_null(strstr(err.message, "s: "));
    assert_non_null(strstr(err.message, "at least 4"));

    memset(&err, 0, sizeof err);
    assert_false(json_get_string_field(o, "s", true, 1, 2, out, sizeof out, &err));
    assert_string_equal(err.field, "s");
    assert_non_null(strstr(err.message, "at most 2"));

    /* White space only is empty after trimming. */
    memset(&err, 0, sizeof err);
    assert_false(json_get_string_field(o, "blank", true, 1, 7, out, sizeof out, &err));
    assert_string_equal(err.field, "blank");
    assert_non_null(strstr(err.message, "empty"));
    assert_false(json_get_string_field(o, "empty", true, 1, 7, out, sizeof out, &err));
    assert_true(json_get_string_field(o, "empty", true, 0, 7, out, sizeof out, &err));
    assert_string_equal(out, "");

    /* Trimming happens before the length check. */
    assert_true(json_get_string_field(o, "padded", true, 4, 4, out, sizeof out, &err));
    assert_string_equal(out, "abcd");

    /* out_size is a hard limit even if max_len is larger. */
    char tiny[3];
    memset(&err, 0, sizeof err);
    assert_false(json_get_string_field(o, "s", true, 1, 100, tiny, sizeof tiny, &err));
    assert_string_equal(err.field, "s");
    json_decref(o);
}

static void test_string_wrong_type(void **state)
{
    (void)state;
    json_t *o = parse("{\"n\":5,\"b\":true,\"a\":[\"x\"],\"o\":{\"x\":\"y\"},\"r\":1.5}");
    assert_non_null(o);
    static const char *names[] = { "n", "b", "a", "o", "r" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char out[16];
        json_field_error err;
        memset(&err, 0, sizeof err);
        assert_false(json_get_string_field(o, names[i], false, 0, 10, out, sizeof out, &err));
        assert_string_equal(err.field, names[i]);
        assert_non_null(strstr(err.message, "must be a string"));
        assert_int_equal(strncmp(err.message, names[i], strlen(names[i])), 0);
    }
    json_decref(o);
}

static void test_string_control_characters(void **state)
{
    (void)state;
    json_t *o = parse("{\"nl\":\"a\\nb\",\"tab\":\"a\\tb\",\"lead\":\"\\nab\",\"del\":\"a\\u007fb\","
                      "\"esc\":\"\\u001b[31m\"}");
    assert_non_null(o);
    static const char *names[] = { "nl", "tab", "lead", "del", "esc" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char out[16];
        json_field_error err;
        memset(&err, 0, sizeof err);
        assert_false(json_get_string_field(o, names[i], true, 0, 10, out, sizeof out, &err));
        assert_string_equal(err.field, names[i]);
        assert_non_null(strstr(err.message, "control"));
    }
    json_decref(o);

    /* A body may carry "\u0000" (parsed with JSON_ALLOW_NUL); the field check refuses it. */
    o = json_object();
    assert_non_null(o);
    assert_int_equal(json_object_set_new(o, "nul", json_stringn("ab\0cd", 5)), 0);
    assert_int_equal(json_string_length(json_object_get(o, "nul")), 5);
    char out[16];
    json_field_error err;
    memset(&err, 0, sizeof err);
    assert_false(json_get_string_field(o, "nul", true, 0, 10, out, sizeof out, &err));
    assert_string_equal(err.field, "nul");
    assert_non_null(strstr(err.message, "nul: "));
    json_decref(o);
}

static void test_long_field_name_truncated_safely(void **state)
{
    (void)state;
    char name[200];
    memset(name, 'k', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    json_t *o = json_object();
    assert_non_null(o);
    char out[4];
    json_field_error err;
    assert_false(json_get_string_field(o, name, true, 1, 3, out, sizeof out, &err));
    assert_int_equal(strlen(err.field), sizeof err.field - 1);
    assert_true(strlen(err.message) < sizeof err.message);
    json_decref(o);
}

/* --- json_get_int_field --- */

static void test_int_field(void **state)
{
    (void)state;
    json_t *o = parse("{\"n\":42,\"neg\":-7,\"zero\":0,\"big\":9223372036854775807,"
                      "\"real\":1.0,\"exp\":1e3,\"str\":\"42\",\"bool\":true,\"nil\":null,\"arr\":[1]}");
    assert_non_null(o);
    long long v;
    json_field_error err;

    assert_true(json_get_int_field(o, "n", true, 0, 100, &v, &err));
    assert_int_equal(v, 42);
    assert_true(json_get_int_field(o, "n", true, 42, 42, &v, &err));
    assert_true(json_get_int_field(o, "neg", true, -10, 10, &v, &err));
    assert_int_equal(v, -7);
    assert_true(json_get_int_field(o, "zero", true, 0, 0, &v, &err));
    assert_int_equal(v, 0);
    assert_true(json_get_int_field(o, "big", true, 0, INT64_MAX, &v, &err));
    assert_int_equal(v, INT64_MAX);

    /* Bounds. */
    memset(&err, 0, sizeof err);
    assert_false(json_get_int_field(o, "n", true, 0, 41, &v, &err));
    assert_string_equal(err.field, "n");
    assert_non_null(strstr(err.message, "n: "));
    assert_non_null(strstr(err.message, "0 to 41"));
    memset(&err, 0, sizeof err);
    assert_false(json_get_int_field(o, "n", true, 43, 100, &v, &err));
    assert_string_equal(err.field, "n");
    assert_false(json_get_int_field(o, "neg", true, 0, 10, &v, &err));
    assert_false(json_get_int_field(o, "big", true, 0, INT64_MAX - 1, &v, &err));

    /* Not integers. */
    static const char *bad[] = { "real", "exp", "str", "bool", "arr" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        v = 123;
        assert_false(json_get_int_field(o, bad[i], false, -1000000, 1000000, &v, &err));
        assert_string_equal(err.field, bad[i]);
        assert_non_null(strstr(err.message, "whole number"));
        assert_int_equal(v, 123);
    }

    /* Required and optional. */
    memset(&err, 0, sizeof err);
    assert_false(json_get_int_field(o, "missing", true, 0, 1, &v, &err));
    assert_string_equal(err.field, "missing");
    assert_non_null(strstr(err.message, "missing: is required"));
    assert_false(json_get_int_field(o, "nil", true, 0, 1, &v, &err));
    assert_string_equal(err.field, "nil");
    v = 77;
    assert_true(json_get_int_field(o, "missing", false, 0, 1, &v, &err));
    assert_int_equal(v, 77);
    assert_true(json_get_int_field(o, "nil", false, 0, 1, &v, &err));
    assert_false(json_get_int_field(o, "str", true, 0, 100, &v, NULL));
    json_decref(o);
}

static void test_to_text(void **state)
{
    (void)state;
    json_t *o = parse("{ \"a\" : [1, 2] }");
    assert_non_null(o);
    size_t len = 0;
    char *text = json_to_text(o, &len);
    assert_non_null(text);
    assert_string_equal(text, "{\"a\":[1,2]}");
    assert_int_equal(len, strlen(text));
    free(text);
    /* Not stolen: still usable. */
    assert_int_equal(json_object_size(o), 1);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_object_ok),
        cmocka_unit_test(test_parse_object_refused),
        cmocka_unit_test(test_parse_keeps_nul_for_the_field_check),
        cmocka_unit_test(test_string_ok_and_trimmed),
        cmocka_unit_test(test_string_required_and_optional),
        cmocka_unit_test(test_string_length_bounds),
        cmocka_unit_test(test_string_wrong_type),
        cmocka_unit_test(test_string_control_characters),
        cmocka_unit_test(test_long_field_name_truncated_safely),
        cmocka_unit_test(test_int_field),
        cmocka_unit_test(test_to_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
