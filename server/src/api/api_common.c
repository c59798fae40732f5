#include "api/api.h"

#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "log.h"
#include "util/json.h"

int64_t api_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static bool is_json_type(const char *content_type)
{
    static const char JSON[] = "application/json";
    size_t n = sizeof JSON - 1;
    return strncasecmp(content_type, JSON, n) == 0 &&
           (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

json_t *api_read_body(http_request *req)
{
    if (!is_json_type(req->content_type)) {
        http_respond_error(req, 415, "unsupported_media_type", "send the body as application/json");
        return NULL;
    }
    json_t *body = json_parse_object(req->body, req->body_len);
    if (!body)
        http_respond_error(req, 400, "invalid_json", "the body must be a JSON object");
    return body;
}

bool api_string_field(http_request *req, json_t *body, const char *name, size_t min_len,
                      size_t max_len, char *out, size_t out_size)
{
    json_field_error err;
    if (json_get_string_field(body, name, true, min_len, max_len, out, out_size, &err))
        return true;
    http_respond_field_error(req, err.field, err.message);
    return false;
}

/* Takes the token out of "Bearer <token>"; NULL when the header is not that. */
static const char *bearer_token(const char *authorization)
{
    if (strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    const char *token = authorization + 7;
    while (*token == ' ')
        token++;
    return *token ? token : NULL;
}

bool api_authenticate(http_request *req, jwt_kind kind, jwt_claims *out)
{
    const config *cfg = api_app(req)->cfg;
    const char *token = bearer_token(req->authorization);
    if (!token) {
        http_respond_error(req, 401, "unauthorized", "send Authorization: Bearer <token>");
        return false;
    }
    int64_t now = api_now_ms() / 1000;
    jwt_status st = jwt_verify_token(cfg->jwt_secret, cfg->jwt_secret_len, token, kind, now, out);
    if (st == JWT_OK)
        return true;
    if (st == JWT_ERR_EXPIRED) {
        http_respond_error(req, 401, "token_expired", "the token has expired; refresh it");
        return false;
    }
    jwt_kind other = kind == JWT_KIND_ACCESS ? JWT_KIND_PARTICIPANT : JWT_KIND_ACCESS;
    jwt_claims ignored;
    if (st == JWT_ERR_CLAIMS &&
        jwt_verify_token(cfg->jwt_secret, cfg->jwt_secret_len, token, other, now, &ignored) == JWT_OK) {
        http_respond_error(req, 403, "forbidden", kind == JWT_KIND_ACCESS
                               ? "this route needs a signed-in host, not a guest's token"
                               : "this route needs a participant token");
        return false;
    }
    http_respond_error(req, 401, "unauthorized", "the token is not valid");
    return false;
}

bool api_authenticate_any(http_request *req, jwt_claims *out)
{
    const config *cfg = api_app(req)->cfg;
    const char *token = bearer_token(req->authorization);
    int64_t now = api_now_ms() / 1000;
    jwt_status st = token ? jwt_verify_token(cfg->jwt_secret, cfg->jwt_secret_len, token, JWT_KIND_PARTICIPANT, now, out)
                          : JWT_ERR_MALFORMED;
    if (st == JWT_OK)
        return true;
    if (st == JWT_ERR_EXPIRED) {
        http_respond_error(req, 401, "token_expired", "the token has expired");
        return false;
    }
    return api_authenticate(req, JWT_KIND_ACCESS, out);
}

void api_respond_db_error(http_request *req, const db_result *res, const char *what)
{
    if (res->status == DB_ERR_UNAVAILABLE) {
        log_warn("%s: database unavailable: %s", what, res->error);
        http_respond_error(req, 503, "unavailable", "the database is unavailable; try again shortly");
        return;
    }
    log_error("%s: database error: %s", what, res->error);
    http_respond_error(req, 500, "internal_error", "something went wrong on the server");
}

void api_respond_internal(http_request *req, const char *what)
{
    log_error("%s failed", what);
    http_respond_error(req, 500, "internal_error", "something went wrong on the server");
}
