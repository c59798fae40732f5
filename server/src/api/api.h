/* The JSON API: the request handler the HTTP server calls, and what route handlers share. */
#ifndef ZC_API_H
#define ZC_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "auth/jwt.h"
#include "http/http_request.h"
#include "store/db.h"

/* The http_handler_fn for /api/..., /healthz and /readyz. */
void api_handle(http_request *req);

static inline app *api_app(http_request *req) { return req->app; }

int64_t api_now_ms(void);

/* Reads the body as a JSON object. On failure answers 415 or 400 and returns NULL. */
json_t *api_read_body(http_request *req);

/* Reads a string field (see json_get_string_field); on failure answers 400 and returns false. */
bool api_string_field(http_request *req, json_t *body, const char *name, size_t min_len,
                      size_t max_len, char *out, size_t out_size);

/* Checks the bearer token is a valid token of kind. On failure answers 401 (or 403 for a
 * valid token of the other kind) and returns false. */
bool api_authenticate(http_request *req, jwt_kind kind, jwt_claims *out);

/* Accepts either a host's access token or a guest's participant token (sets kind). */
bool api_authenticate_any(http_request *req, jwt_claims *out);

/* Answers 503 when the database is unreachable, else 500, and logs why. */
void api_respond_db_error(http_request *req, const db_result *res, const char *what);
void api_respond_internal(http_request *req, const char *what);

/* Route handlers. */
void health_live(http_request *req);
void health_ready(http_request *req);
void auth_register(http_request *req);
void auth_login(http_request *req);
void auth_refresh(http_request *req);
void auth_logout(http_request *req);
void auth_me(http_request *req);
void recordings_create(http_request *req);
void recordings_list(http_request *req);
void recordings_get(http_request *req);
void recordings_delete(http_request *req);
void recordings_rotate_invite(http_request *req);
void rooms_join(http_request *req);
void uploads_presign(http_request *req);
void uploads_confirm(http_request *req);
void uploads_status(http_request *req);
void uploads_complete(http_request *req);
void recordings_finalize(http_request *req);
void recordings_render(http_request *req);

#endif
