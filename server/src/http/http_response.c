#include "http/http_request.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

static const char *METHOD_NAMES[] = { "GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE", "HEAD" };

const char *http_method_name(http_method m)
{
    return m < HTTP_METHOD_UNKNOWN ? METHOD_NAMES[m] : "UNKNOWN";
}

void http_add_header(http_request *req, const char *name, const char *value)
{
    if (req->nextra == HTTP_MAX_EXTRA_HEADERS)
        return;
    snprintf(req->extra_headers[req->nextra][0], 64, "%s", name);
    snprintf(req->extra_headers[req->nextra][1], 64, "%s", value);
    req->nextra++;
}

/* Copies text behind LWS_PRE bytes of headroom, which lws_write needs. */
static void set_response(http_request *req, int status, const char *type, const char *text, size_t len)
{
    req->status = status;
    req->response_type = type;
    req->response = malloc(LWS_PRE + len + 1);
    if (!req->response) {
        req->status = 500;
        len = 0;
        req->response = malloc(LWS_PRE + 1);
    }
    if (req->response && len)
        memcpy(req->response + LWS_PRE, text, len);
    req->response_len = req->response ? len : 0;
    http_server_send_response(req);
}

void http_respond_json(http_request *req, int status, json_t *body)
{
    size_t len = 0;
    char *text = body ? json_to_text(body, &len) : NULL;
    json_decref(body);
    if (!text) {
        static const char OOM[] = "{\"error\":{\"code\":\"internal_error\",\"message\":\"out of memory\"}}";
        set_response(req, 500, "application/json", OOM, sizeof OOM - 1);
        return;
    }
    set_response(req, status, "application/json", text, len);
    free(text);
}

static json_t *error_object(const char *code, const char *message)
{
    return json_pack("{s:s, s:s}", "code", code, "message", message);
}

void http_respond_error(http_request *req, int status, const char *code, const char *message)
{
    http_respond_json(req, status, json_pack("{s:o}", "error", error_object(code, message)));
}

void http_respond_field_error(http_request *req, const char *field, const char *message)
{
    json_t *err = error_object("invalid_field", message);
    json_object_set_new(err, "field", json_string(field));
    http_respond_json(req, 400, json_pack("{s:o}", "error", err));
}

void http_respond_empty(http_request *req, int status)
{
    set_response(req, status, NULL, "", 0);
}
