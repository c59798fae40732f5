/* The route table: every API route, its method and its handler, in one place. */
#include "api/api.h"
#include "http/router.h"

static const route ROUTES[] = {
    { HTTP_GET, "/healthz", health_live },
    { HTTP_GET, "/readyz", health_ready },
    { HTTP_POST, "/api/auth/register", auth_register },
    { HTTP_POST, "/api/auth/login", auth_login },
    { HTTP_POST, "/api/auth/refresh", auth_refresh },
    { HTTP_POST, "/api/auth/logout", auth_logout },
    { HTTP_GET, "/api/me", auth_me },
    { HTTP_POST, "/api/recordings", recordings_create },
    { HTTP_GET, "/api/recordings", recordings_list },
    { HTTP_GET, "/api/recordings/{roomId}", recordings_get },
    { HTTP_DELETE, "/api/recordings/{roomId}", recordings_delete },
    { HTTP_POST, "/api/recordings/{roomId}/invite", recordings_rotate_invite },
    { HTTP_POST, "/api/rooms/{roomId}/join", rooms_join },
    { HTTP_POST, "/api/recordings/{roomId}/finalize", recordings_finalize },
    { HTTP_POST, "/api/recordings/{roomId}/render", recordings_render },
    { HTTP_POST, "/api/uploads/presign", uploads_presign },
    { HTTP_POST, "/api/uploads/confirm", uploads_confirm },
    { HTTP_GET, "/api/uploads/status", uploads_status },
    { HTTP_POST, "/api/uploads/complete", uploads_complete },
};

void api_handle(http_request *req)
{
    const route *r;
    switch (router_match(ROUTES, sizeof ROUTES / sizeof ROUTES[0], req, &r)) {
    case ROUTE_FOUND:
        r->handler(req);
        break;
    case ROUTE_NO_METHOD:
        http_respond_error(req, 405, "method_not_allowed", "this path does not take that method");
        break;
    case ROUTE_NO_PATH:
        http_respond_error(req, 404, "not_found", "no such route");
        break;
    }
}
