#include "http/router.h"

#include <string.h>

/* Length of the segment that starts at s (up to the next '/' or the end). */
static size_t segment_len(const char *s)
{
    const char *slash = strchr(s, '/');
    return slash ? (size_t)(slash - s) : strlen(s);
}

int router_match_pattern(const char *pattern, const char *path, char params[][HTTP_PARAM_MAX], int max_params)
{
    int nparams = 0;
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (*p != '/' || *u != '/')
            return -1;
        p++, u++;
        size_t plen = segment_len(p), ulen = segment_len(u);
        if (plen > 1 && p[0] == '{' && p[plen - 1] == '}') {
            if (ulen == 0 || ulen >= HTTP_PARAM_MAX || nparams == max_params)
                return -1;
            if (params) {
                memcpy(params[nparams], u, ulen);
                params[nparams][ulen] = '\0';
            }
            nparams++;
        } else if (plen != ulen || memcmp(p, u, plen) != 0) {
            return -1;
        }
        p += plen, u += ulen;
    }
    /* A single trailing slash on the path is tolerated. */
    if (*p == '\0' && (u[0] == '\0' || (u[0] == '/' && u[1] == '\0')))
        return nparams;
    return -1;
}

route_match router_match(const route *routes, int n, http_request *req, const route **out)
{
    route_match result = ROUTE_NO_PATH;
    for (int i = 0; i < n; i++) {
        char params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX];
        int count = router_match_pattern(routes[i].pattern, req->path, params, HTTP_MAX_PARAMS);
        if (count < 0)
            continue;
        if (routes[i].method != req->method) {
            result = ROUTE_NO_METHOD;
            continue;
        }
        memcpy(req->params, params, sizeof params);
        req->nparams = count;
        *out = &routes[i];
        return ROUTE_FOUND;
    }
    return result;
}
