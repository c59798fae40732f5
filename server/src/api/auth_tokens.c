#include "api/auth_tokens.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "util/crypto.h"

typedef struct {
    http_request *req;
    int status;
    json_t *user;
    char *access_token;
    char refresh_token[80];
} issue_ctx;

json_t *auth_user_json(const char *id, const char *email, const char *name, long long created_at)
{
    return json_pack("{s:s, s:s, s:s, s:I}", "id", id, "email", email, "name", name, "createdAt",
                     (json_int_t)created_at);
}

static void issue_ctx_free(issue_ctx *c)
{
    json_decref(c->user);
    free(c->access_token);
    explicit_bzero(c->refresh_token, sizeof c->refresh_token);
    free(c);
}

static void refresh_stored(db_result *res, void *arg)
{
    issue_ctx *c = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(c->req, res, "storing a refresh token");
    } else {
        const config *cfg = api_app(c->req)->cfg;
        json_t *body = json_pack("{s:O, s:s, s:s, s:I}", "user", c->user, "accessToken", c->access_token,
                                 "refreshToken", c->refresh_token, "expiresIn", (json_int_t)cfg->jwt_ttl_s);
        http_respond_json(c->req, c->status, body);
    }
    issue_ctx_free(c);
}

void auth_tokens_issue(http_request *req, int status, json_t *user, const char *family_id)
{
    app *a = api_app(req);
    issue_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        json_decref(user);
        api_respond_internal(req, "issuing tokens");
        return;
    }
    c->req = req;
    c->status = status;
    c->user = user;
    const char *user_id = json_string_value(json_object_get(user, "id"));
    const char *name = json_string_value(json_object_get(user, "name"));
    int64_t now_ms = api_now_ms();
    char family[37], hash[65];
    c->access_token = jwt_sign_claims(a->cfg->jwt_secret, a->cfg->jwt_secret_len, JWT_KIND_ACCESS,
                                      user_id, "", name, now_ms / 1000, a->cfg->jwt_ttl_s);
    if (!c->access_token || crypto_random_token(32, c->refresh_token, sizeof c->refresh_token) < 0 ||
        (!family_id && crypto_uuid_v4(family) < 0)) {
        issue_ctx_free(c);
        api_respond_internal(req, "signing tokens");
        return;
    }
    crypto_sha256_hex(c->refresh_token, strlen(c->refresh_token), hash);
    db_param params[] = {
        DB_TEXT(hash), DB_TEXT(user_id), DB_TEXT(family_id ? family_id : family),
        DB_INT(now_ms), DB_INT(now_ms + a->cfg->refresh_ttl_s * 1000),
    };
    db_query(a->db,
             "INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at, expires_at) "
             "VALUES ($1, $2, $3, $4, $5)",
             params, 5, refresh_stored, c);
}
