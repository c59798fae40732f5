/* Matching a method and path against a table of routes with {param} segments. */
#ifndef ZC_ROUTER_H
#define ZC_ROUTER_H

#include "http/http_request.h"

typedef void (*route_handler)(http_request *req);

typedef struct {
    http_method method;
    const char *pattern; /* "/api/recordings/{roomId}": a {..} segment matches one non-empty segment */
    route_handler handler;
} route;

typedef enum { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_NO_METHOD } route_match;

/* Finds the route for req->method and req->path among n routes. On ROUTE_FOUND sets
 * *out and fills req->params. ROUTE_NO_METHOD: the path exists with other methods. */
route_match router_match(const route *routes, int n, http_request *req, const route **out);

/* Matches one pattern against a path, filling params (may be NULL). Returns the number
 * of params, or -1 when the path does not match. */
int router_match_pattern(const char *pattern, const char *path, char params[][HTTP_PARAM_MAX], int max_params);

#endif
