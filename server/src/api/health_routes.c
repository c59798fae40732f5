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
    /* Redis being away does not make an instance unready: its own connections still work,
     * and every instance would go at once. It is reported, not failed. */
    http_respond_json(req, 200, json_pack("{s:s, s:s, s:s, s:b}", "status", "ready", "database",
                                          a->db->backend->name, "rooms", a->rooms->backend->name, "roomsConnected",
                                          a->rooms->backend->is_ready(a->rooms)));
}
