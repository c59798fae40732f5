/* One HTTP request as the API sees it, and the ways to answer it.
 *
 * A handler gets a request, may go asynchronous (database, thread pool), and must
 * answer exactly once with one of the http_respond_* functions. If the client hangs
 * up meanwhile the request stays valid until answered; the answer is then dropped. */
#ifndef ZC_HTTP_REQUEST_H
#define ZC_HTTP_REQUEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    HTTP_GET = 0,
    HTTP_POST,
    HTTP_OPTIONS,
    HTTP_PUT,
    HTTP_PATCH,
    HTTP_DELETE,
    HTTP_HEAD,
    HTTP_METHOD_UNKNOWN
} http_method;

#define HTTP_PATH_MAX 1024
#define HTTP_MAX_PARAMS 4
#define HTTP_PARAM_MAX 128
#define HTTP_MAX_EXTRA_HEADERS 4

typedef struct http_conn http_conn;

typedef struct http_request {
    http_method method;
    char path[HTTP_PATH_MAX];
    char query[HTTP_PATH_MAX];
    char content_type[128];
    char authorization[4200];
    char client_addr[64];
    char *body; /* NUL-terminated; body_len bytes */
    size_t body_len;

    /* Filled by the router from {name} segments, in pattern order. */
    char params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX];
    int nparams;

    void *app; /* the application context given to the server */

    /* Owned by the server. */
    struct http_server *server;
    http_conn *conn;     /* NULL once the client has gone */
    uint64_t started_ns;
    int status;
    char *response;      /* LWS_PRE bytes of room, then the body */
    size_t response_len;
    size_t response_sent;
    const char *response_type;
    char extra_headers[HTTP_MAX_EXTRA_HEADERS][2][64];
    int nextra;
    int headers_sent;
    int answered;
    int close_after;
    void *sink;       /* a streamed body's handler state */
    int body_done;
} http_request;

const char *http_method_name(http_method m);

/* Adds a response header (e.g. Retry-After) before answering. */
void http_add_header(http_request *req, const char *name, const char *value);

/* Answers with a JSON body; steals the reference to body. */
void http_respond_json(http_request *req, int status, json_t *body);
/* Answers {"error":{"code":code,"message":message}}. */
void http_respond_error(http_request *req, int status, const char *code, const char *message);
/* The same with "field" inside the error object. */
void http_respond_field_error(http_request *req, const char *field, const char *message);
/* Answers with no body (204 and the like). */
void http_respond_empty(http_request *req, int status);

/* Implemented by the server: hands a finished answer to the connection. */
void http_server_send_response(http_request *req);

#endif
