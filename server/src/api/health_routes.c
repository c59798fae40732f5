#include "api/api.h"

void health_live(http_request *req)
{
    http_respond_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

void health_ready(http_request *req)
{
    app *a = api_app(req);
    if (http_server_is_draining(a->http)) {
        http_respond_error(req, 503, "unavailable", "the server is shutting down");
        return;
    }
    if (!a->db->backend->is_ready(a->db)) {
        http_respond_error(req, 503, "unavailable", "the database is not reachable");
        return;
    }
    http_respond_json(req, 200, json_pack("{s:s, s:s, s:s}", "status", "ready", "database",
                                          a->db->backend->name, "rooms", a->rooms->backend->name));
}
