#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"

static void h_health(http_request *req) { (void)req; }
static void h_list(http_request *req) { (void)req; }
static void h_create(http_request *req) { (void)req; }
static void h_get(http_request *req) { (void)req; }
static void h_delete(http_request *req) { (void)req; }
static void h_track(http_request *req) { (void)req; }

static const route ROUTES[] = {
    { HTTP_GET, "/api/health", h_health },
    { HTTP_GET, "/api/recordings", h_list },
    { HTTP_POST, "/api/recordings", h_create },
    { HTTP_GET, "/api/recordings/{roomId}", h_get },
    { HTTP_DELETE, "/api/recordings/{roomId}", h_delete },
    { HTTP_GET, "/api/recordings/{roomId}/tracks/{trackId}", h_track },
};
#define NROUTES ((int)(sizeof ROUTES / sizeof ROUTES[0]))

/* http_request is large (several KB): keep it on the heap. */
static http_request *request(http_method method, const char *path)
{
    http_request *req = calloc(1, sizeof *req);
    assert_non_null(req);
    req->method = method;
    assert_true(strlen(path) < sizeof req->path);
    strcpy(req->path, path);
    return req;
}

static route_match match(http_method method, const char *path, const route **out, http_request **keep)
{
    http_request *req = request(method, path);
    *out = NULL;
    route_match m = router_match(ROUTES, NROUTES, req, out);
    if (keep)
        *keep = req;
    else
        free(req);
    return m;
}

static void test_exact_match(void **state)
{
    (void)state;
    const route *r;
    http_request *req;
    assert_int_equal(match(HTTP_GET, "/api/health", &r, &req), ROUTE_FOUND);
    assert_non_null(r);
    assert_ptr_equal(r->handler, h_health);
    assert_int_equal(req->nparams, 0);
    free(req);

    assert_int_equal(match(HTTP_POST, "/api/recordings", &r, NULL), ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_create);
    assert_int_equal(match(HTTP_GET, "/api/recordings", &r, NULL), ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_list);
}

static void test_param_capture(void **state)
{
    (void)state;
    const route *r;
    http_request *req;
    assert_int_equal(match(HTTP_GET, "/api/recordings/abc-123", &r, &req), ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_get);
    assert_int_equal(req->nparams, 1);
    assert_string_equal(req->params[0], "abc-123");
    free(req);

    assert_int_equal(match(HTTP_DELETE, "/api/recordings/xyz", &r, &req), ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_delete);
    assert_string_equal(req->params[0], "xyz");
    free(req);
}

static void test_two_params(void **state)
{
    (void)state;
    const route *r;
    http_request *req;
    assert_int_equal(match(HTTP_GET, "/api/recordings/room-1/tracks/track-9", &r, &req), ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_track);
    assert_int_equal(req->nparams, 2);
    assert_string_equal(req->params[0], "room-1");
    assert_string_equal(req->params[1], "track-9");
    free(req);
}

static void test_trailing_slash(void **state)
{
    (void)state;
    const route *r;
    http_request *req;
    assert_int_equal(match(HTTP_GET, "/api/health/", &r, NULL), ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_health);
    assert_int_equal(match(HTTP_GET, "/api/recordings/r1/", &r, &req), ROUTE_FOUND);
    assert_ptr_equal(r->handler, h_get);
    assert_string_equal(req->params[0], "r1");
    free(req);
    /* Only one trailing slash. */
    assert_int_equal(match(HTTP_GET, "/api/health//", &r, NULL), ROUTE_NO_PATH);
    assert_null(r);
}

static void test_empty_segment_not_a_param(void **state)
{
    (void)state;
    const route *r;
    /* "/api/recordings/" is the list route with a trailing slash, not {roomId}="" */
    assert_int_equal(match(HTTP_DELETE, "/api/recordings/", &r, NULL), ROUTE_NO_METHOD);
    assert_int_equal(match(HTTP_GET, "/api/recordings//tracks/t", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "/api/recordings/r/tracks/", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "/api/recordings/r/tracks//", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(router_match_pattern("/a/{id}", "/a/", NULL, 4), -1);
    assert_int_equal(router_match_pattern("/a/{id}", "/a//", NULL, 4), -1);
}

static void test_extra_and_missing_segments(void **state)
{
    (void)state;
    const route *r;
    assert_int_equal(match(HTTP_GET, "/api/health/extra", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "/api", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "/api/", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "/", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "/api/recordings/r/tracks", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "/api/recordings/r/tracks/t/more", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "/api/recordings/r/other/t", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "/api/healthz", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "/api/healt", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "api/health", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "//api/health", &r, NULL), ROUTE_NO_PATH);
    assert_int_equal(match(HTTP_GET, "/API/health", &r, NULL), ROUTE_NO_PATH);
    assert_null(r);
}

static void test_no_method_vs_no_path(void **state)
{
    (void)state;
    const route *r;
    assert_int_equal(match(HTTP_DELETE, "/api/health", &r, NULL), ROUTE_NO_METHOD);
    assert_null(r);
    assert_int_equal(match(HTTP_PUT, "/api/recordings", &r, NULL), ROUTE_NO_METHOD);
    assert_int_equal(match(HTTP_POST, "/api/recordings/r1", &r, NULL), ROUTE_NO_METHOD);
    assert_int_equal(match(HTTP_DELETE, "/api/recordings/r1/tracks/t1", &r, NULL), ROUTE_NO_METHOD);
    assert_int_equal(match(HTTP_POST, "/nope", &r, NULL), ROUTE_NO_PATH);
    assert_null(r);
    /* An empty table finds nothing. */
    http_request *req = request(HTTP_GET, "/api/health");
    assert_int_equal(router_match(ROUTES, 0, req, &r), ROUTE_NO_PATH);
    free(req);
}

static void test_long_param(void **state)
{
    (void)state;
    char path[64 + HTTP_PARAM_MAX + 8];
    const route *r;
    http_request *req;

    /* HTTP_PARAM_MAX - 1 bytes fit (with the NUL). */
    strcpy(path, "/api/recordings/");
    size_t base = strlen(path);
    memset(path + base, 'a', HTTP_PARAM_MAX - 1);
    path[base + HTTP_PARAM_MAX - 1] = '\0';
    assert_int_equal(match(HTTP_GET, path, &r, &req), ROUTE_FOUND);
    assert_int_equal(strlen(req->params[0]), HTTP_PARAM_MAX - 1);
    free(req);

    /* HTTP_PARAM_MAX bytes do not. */
    memset(path + base, 'a', HTTP_PARAM_MAX);
    path[base + HTTP_PARAM_MAX] = '\0';
    assert_int_equal(match(HTTP_GET, path, &r, NULL), ROUTE_NO_PATH);
    assert_null(r);
    strcat(path, "/tracks/t");
    assert_int_equal(match(HTTP_GET, path, &r, NULL), ROUTE_NO_PATH);

    /* Only params are bounded: a long literal segment matches. */
    char pattern[16 + 2 * HTTP_PARAM_MAX];
    strcpy(pattern, "/lit/");
    memset(pattern + 5, 'b', 2 * HTTP_PARAM_MAX);
    pattern[5 + 2 * HTTP_PARAM_MAX] = '\0';
    assert_int_equal(router_match_pattern(pattern, pattern, NULL, HTTP_MAX_PARAMS), 0);
}

static void test_match_pattern_direct(void **state)
{
    (void)state;
    char params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX];
    assert_int_equal(router_match_pattern("/", "/", params, HTTP_MAX_PARAMS), 0);
    assert_int_equal(router_match_pattern("/a/{x}/b/{y}", "/a/1/b/2", params, HTTP_MAX_PARAMS), 2);
    assert_string_equal(params[0], "1");
    assert_string_equal(params[1], "2");
    assert_int_equal(router_match_pattern("/a/{x}/b/{y}", "/a/1/b/2", NULL, HTTP_MAX_PARAMS), 2);
    /* More params than room for them: no match. */
    assert_int_equal(router_match_pattern("/a/{x}/b/{y}", "/a/1/b/2", params, 1), -1);
    /* A {param} matches exactly one segment. */
    assert_int_equal(router_match_pattern("/a/{x}", "/a/1/2", params, HTTP_MAX_PARAMS), -1);
    /* Literal "{}"-less braces are literal. */
    assert_int_equal(router_match_pattern("/a/{", "/a/{", params, HTTP_MAX_PARAMS), 0);
    assert_int_equal(router_match_pattern("/a/{", "/a/z", params, HTTP_MAX_PARAMS), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_match),
        cmocka_unit_test(test_param_capture),
        cmocka_unit_test(test_two_params),
        cmocka_unit_test(test_trailing_slash),
        cmocka_unit_test(test_empty_segment_not_a_param),
        cmocka_unit_test(test_extra_and_missing_segments),
        cmocka_unit_test(test_no_method_vs_no_path),
        cmocka_unit_test(test_long_param),
        cmocka_unit_test(test_match_pattern_direct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
