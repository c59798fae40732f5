/* POST /api/auth/{register,login,refresh,logout} and GET /api/me. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth_tokens.h"
#include "auth/password.h"
#include "log.h"
#include "util/crypto.h"

#define EMAIL_MAX 254
#define NAME_MAX_LEN 100

typedef struct {
    http_request *req;
    char user_id[37];
    char email[EMAIL_MAX + 1];
    char name[NAME_MAX_LEN + 1];
    char password[PASSWORD_MAX_LEN + 1];
    char token_hash[65];
    char family_id[64];
    json_t *user;
} auth_ctx;

static auth_ctx *auth_ctx_new(http_request *req)
{
    auth_ctx *c = calloc(1, sizeof *c);
    if (c)
        c->req = req;
    else
        api_respond_internal(req, "allocating");
    return c;
}

static void auth_ctx_free(auth_ctx *c)
{
    explicit_bzero(c->password, sizeof c->password);
    json_decref(c->user);
    free(c);
}

/* ---- field checks --------------------------------------------------------- */

static void lowercase(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* Lower-cases and checks an address: one '@', a local part, a dotted domain, no spaces. */
static bool email_is_valid(char *email)
{
    lowercase(email);
    for (char *p = email; *p; p++)
        if (isspace((unsigned char)*p))
            return false;
    char *at = strchr(email, '@');
    if (!at || at == email || strchr(at + 1, '@'))
        return false;
    char *dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1] != '\0';
}

static bool read_email(http_request *req, json_t *body, char *out)
{
    if (!api_string_field(req, body, "email", 3, EMAIL_MAX, out, EMAIL_MAX + 1))
        return false;
    if (email_is_valid(out))
        return true;
    http_respond_field_error(req, "email", "email: must be an address such as name@example.com");
    return false;
}

/* Passwords are taken as typed: not trimmed, any character but NUL. */
static bool read_password(http_request *req, json_t *body, char *out)
{
    json_t *v = json_object_get(body, "password");
    if (!v || json_is_null(v)) {
        http_respond_field_error(req, "password", "password: is required");
        return false;
    }
    if (!json_is_string(v)) {
        http_respond_field_error(req, "password", "password: must be a string");
        return false;
    }
    size_t len = json_string_length(v);
    if (strlen(json_string_value(v)) != len || len < PASSWORD_MIN_LEN || len > PASSWORD_MAX_LEN) {
        http_respond_field_error(req, "password", "password: must be 8 to 256 bytes, without NUL");
        return false;
    }
    memcpy(out, json_string_value(v), len + 1);
    return true;
}

/* ---- register ------------------------------------------------------------- */

static void register_inserted(db_result *res, void *arg)
{
    auth_ctx *c = arg;
    if (res->status == DB_ERR_CONSTRAINT)
        http_respond_error(c->req, 409, "email_taken", "an account with this email already exists");
    else if (res->status != DB_OK || res->nrows != 1)
        api_respond_db_error(c->req, res, "registering a user");
    else {
        log_info("user %s registered", c->user_id);
        json_t *user = auth_user_json(c->user_id, c->email, c->name, db_value_int(res, 0, 0, 0));
        auth_tokens_issue(c->req, 201, user, NULL);
    }
    auth_ctx_free(c);
}

static void register_hashed(const char *hash, void *arg)
{
    auth_ctx *c = arg;
    if (!hash) {
        api_respond_internal(c->req, "hashing a password");
        auth_ctx_free(c);
        return;
    }
    db_param params[] = { DB_TEXT(c->user_id), DB_TEXT(c->email), DB_TEXT(hash), DB_TEXT(c->name),
                          DB_INT(api_now_ms()) };
    db_query(api_app(c->req)->db,
             "INSERT INTO users (id, email, password_hash, name, created_at) VALUES ($1, $2, $3, $4, $5) "
             "RETURNING created_at",
             params, 5, register_inserted, c);
}

void auth_register(http_request *req)
{
    json_t *body = api_read_body(req);
    if (!body)
        return;
    auth_ctx *c = auth_ctx_new(req);
    bool ok = c && read_email(req, body, c->email) && read_password(req, body, c->password) &&
              api_string_field(req, body, "name", 1, NAME_MAX_LEN, c->name, sizeof c->name);
    json_decref(body);
    if (!ok) {
        if (c)
            auth_ctx_free(c);
        return;
    }
    if (crypto_uuid_v4(c->user_id) < 0 ||
        password_hash_async(api_app(req)->loop, c->password, register_hashed, c) < 0) {
        api_respond_internal(req, "queueing a password hash");
        auth_ctx_free(c);
    }
}

/* ---- login ---------------------------------------------------------------- */

static void login_fail(auth_ctx *c)
{
    app *a = api_app(c->req);
    int64_t now = api_now_ms();
    rate_limit_fail(a->login_by_account, c->email, now);
    rate_limit_fail(a->login_by_address, c->req->client_addr, now);
    log_info("login failed for an account from %s", c->req->client_addr);
    http_respond_error(c->req, 401, "invalid_credentials", "wrong email or password");
}

static void login_verified(bool match, void *arg)
{
    auth_ctx *c = arg;
    if (match && c->user) {
        rate_limit_clear(api_app(c->req)->login_by_account, c->email);
        json_t *user = c->user;
        c->user = NULL;
        auth_tokens_issue(c->req, 200, user, NULL);
    } else {
        login_fail(c);
    }
    auth_ctx_free(c);
}

static void login_found(db_result *res, void *arg)
{
    auth_ctx *c = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(c->req, res, "looking up an account");
        auth_ctx_free(c);
        return;
    }
    const char *hash = NULL;
    if (res->nrows == 1) {
        c->user = auth_user_json(db_value(res, 0, 0), db_value(res, 0, 1), db_value(res, 0, 2),
                                 db_value_int(res, 0, 3, 0));
        hash = db_value(res, 0, 4);
    }
    if (password_verify_async(api_app(c->req)->loop, hash, c->password, login_verified, c) < 0) {
        api_respond_internal(c->req, "queueing a password check");
        auth_ctx_free(c);
    }
}

static bool login_rate_limited(http_request *req, const char *email)
{
    app *a = api_app(req);
    int64_t now = api_now_ms(), retry_after;
    if (!rate_limit_blocked(a->login_by_account, email, now, &retry_after) &&
        !rate_limit_blocked(a->login_by_address, req->client_addr, now, &retry_after))
        return false;
    char seconds[24];
    snprintf(seconds, sizeof seconds, "%lld", (long long)retry_after);
    http_add_header(req, "retry-after", seconds);
    log_warn("login rate limit hit from %s", req->client_addr);
    http_respond_error(req, 429, "rate_limited", "too many failed sign-ins; wait and try again");
    return true;
}

void auth_login(http_request *req)
{
    json_t *body = api_read_body(req);
    if (!body)
        return;
    auth_ctx *c = auth_ctx_new(req);
    bool ok = c && api_string_field(req, body, "email", 1, EMAIL_MAX, c->email, sizeof c->email) &&
              read_password(req, body, c->password);
    json_decref(body);
    if (ok)
        lowercase(c->email);
    if (!ok || login_rate_limited(req, c->email)) {
        if (c)
            auth_ctx_free(c);
        return;
    }
    db_param params[] = { DB_TEXT(c->email) };
    db_query(api_app(req)->db, "SELECT id, email, name, created_at, password_hash FROM users WHERE email = $1",
             params, 1, login_found, c);
}

/* ---- refresh ---------------------------------------------------------------- */

static void refresh_family_revoked(db_result *res, void *arg)
{
    auth_ctx *c = arg;
    if (res->status != DB_OK)
        api_respond_db_error(c->req, res, "revoking a token family");
    else
        http_respond_error(c->req, 401, "invalid_refresh_token", "the refresh token is not valid");
    auth_ctx_free(c);
}

/* The token was not rotated: unknown, expired, revoked, or already used. Reuse means it
 * was stolen or replayed, so every token of its family is revoked. */
static void refresh_rejected(db_result *res, void *arg)
{
    auth_ctx *c = arg;
    if (res->status != DB_OK) {
        api_respond_db_error(c->req, res, "checking a refresh token");
        auth_ctx_free(c);
        return;
    }
    if (res->nrows == 1 && db_value(res, 0, 1)) {
        log_warn("refresh token reuse for user %s: revoking its family", db_value(res, 0, 2));
        db_param params[] = { DB_INT(api_now_ms()), DB_TEXT(db_value(res, 0, 0)) };
        db_query(api_app(c->req)->db,
                 "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
                 params, 2, refresh_family_revoked, c);
        return;
    }
    http_respond_error(c->req, 401, "invalid_refresh_token", "the refresh token is not valid");
    auth_ctx_free(c);
}

static void refresh_user_found(db_result *res, void *arg)
{
    auth_ctx *c = arg;
    if (res->status != DB_OK || res->nrows != 1) {
        if (res->status != DB_OK)
            api_respond_db_error(c->req, res, "loading a user");
        else
            http_respond_error(c->req, 401, "invalid_refresh_token", "the refresh token is not valid");
    } else {
        json_t *user = auth_user_json(db_value(res, 0, 0), db_value(res, 0, 1), db_value(res, 0, 2),
                                      db_value_int(res, 0, 3, 0));
        auth_tokens_issue(c->req, 200, user, c->family_id);
    }
    auth_ctx_free(c);
}

static void refresh_marked_used(db_result *res, void *arg)
{
    auth_ctx *c = arg;
    app *a = api_app(c->req);
    if (res->status != DB_OK) {
        api_respond_db_error(c->req, res, "rotating a refresh token");
        auth_ctx_free(c);
        return;
    }
    if (res->nrows == 0) {
        db_param params[] = { DB_TEXT(c->token_hash) };
        db_query(a->db, "SELECT family_id, used_at, user_id FROM refresh_tokens WHERE token_hash = $1",
                 params, 1, refresh_rejected, c);
        return;
    }
    snprintf(c->family_id, sizeof c->family_id, "%s", db_value(res, 0, 1));
    db_param params[] = { DB_TEXT(db_value(res, 0, 0)) };
    db_query(a->db, "SELECT id, email, name, created_at FROM users WHERE id = $1", params, 1,
             refresh_user_found, c);
}

static bool read_refresh_token(http_request *req, auth_ctx *c)
{
    json_t *body = api_read_body(req);
    if (!body)
        return false;
    char token[1025]; /* ours are 43 characters; anything up to 1 KiB is just "not valid" */
    bool ok = api_string_field(req, body, "refreshToken", 1, sizeof token - 1, token, sizeof token);
    json_decref(body);
    if (ok)
        crypto_sha256_hex(token, strlen(token), c->token_hash);
    return ok;
}

void auth_refresh(http_request *req)
{
    auth_ctx *c = auth_ctx_new(req);
    if (!c || !read_refresh_token(req, c)) {
        if (c)
            auth_ctx_free(c);
        return;
    }
    int64_t now = api_now_ms();
    /* One statement marks the token used only if it is still good, so two concurrent
     * refreshes with one token cannot both succeed. */
    db_param params[] = { DB_INT(now), DB_TEXT(c->token_hash) };
    db_query(api_app(req)->db,
             "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL "
             "AND revoked_at IS NULL AND expires_at > $1 RETURNING user_id, family_id",
             params, 2, refresh_marked_used, c);
}

/* ---- logout and me ------------------------------------------------------------ */

static void logout_done(db_result *res, void *arg)
{
    auth_ctx *c = arg;
    if (res->status != DB_OK)
        api_respond_db_error(c->req, res, "revoking a refresh token");
    else
        http_respond_empty(c->req, 204);
    auth_ctx_free(c);
}

void auth_logout(http_request *req)
{
    auth_ctx *c = auth_ctx_new(req);
    if (!c || !read_refresh_token(req, c)) {
        if (c)
            auth_ctx_free(c);
        return;
    }
    db_param params[] = { DB_INT(api_now_ms()), DB_TEXT(c->token_hash) };
    db_query(api_app(req)->db,
             "UPDATE refresh_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND family_id = "
             "(SELECT family_id FROM refresh_tokens WHERE token_hash = $2)",
             params, 2, logout_done, c);
}

static void me_found(db_result *res, void *arg)
{
    http_request *req = arg;
    if (res->status != DB_OK)
        api_respond_db_error(req, res, "loading a user");
    else if (res->nrows != 1)
        http_respond_error(req, 401, "unauthorized", "the account no longer exists");
    else
        http_respond_json(req, 200, json_pack("{s:o}", "user",
                                              auth_user_json(db_value(res, 0, 0), db_value(res, 0, 1),
                                                             db_value(res, 0, 2), db_value_int(res, 0, 3, 0))));
}

void auth_me(http_request *req)
{
    jwt_claims claims;
    if (!api_authenticate(req, JWT_KIND_ACCESS, &claims))
        return;
    db_param params[] = { DB_TEXT(claims.subject) };
    db_query(api_app(req)->db, "SELECT id, email, name, created_at FROM users WHERE id = $1", params, 1,
             me_found, req);
}
