/* Issuing a signed-in user's tokens: a JWT access token and a rotating refresh token. */
#ifndef ZC_AUTH_TOKENS_H
#define ZC_AUTH_TOKENS_H

#include <jansson.h>

#include "http/http_request.h"

/* Signs an access token, stores a new refresh token (in family_id, or a new family when
 * NULL) and answers status with {user, accessToken, refreshToken, expiresIn}.
 * Steals the reference to user (a JSON object with id, email, name, createdAt). */
void auth_tokens_issue(http_request *req, int status, json_t *user, const char *family_id);

/* The user JSON from a row of SELECT id, email, name, created_at. */
json_t *auth_user_json(const char *id, const char *email, const char *name, long long created_at);

#endif
