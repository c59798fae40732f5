/* The HTTP server: libwebsockets on our libuv loop, one port for the API, the web
 * app's files and (later) the WebSocket. API requests are handed to one handler. */
#ifndef ZC_HTTP_SERVER_H
#define ZC_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include <libwebsockets.h>

#include "http/http_request.h"

typedef void (*http_handler_fn)(http_request *req);

typedef struct {
    const char *host;
    int port;
    const char *static_dir;     /* the built web app; index.html is the fallback */
    long max_body_bytes;
    int idle_timeout_s;
    http_handler_fn handler;    /* gets /api/..., /healthz and /readyz */
    const struct lws_protocols *ws_protocol; /* the WebSocket protocol on /ws, or NULL */
    void *app;                  /* copied into every request */
} http_server_options;

typedef struct http_server http_server;

http_server *http_server_start(uv_loop_t *loop, const http_server_options *opts, char *err,
                               size_t err_size);

/* Requests not yet answered and sent. */
int http_server_inflight(const http_server *s);
void http_server_set_draining(http_server *s);
bool http_server_is_draining(const http_server *s);

/* Destroys the lws context; its handles close as the loop runs on. */
void http_server_stop(http_server *s);
/* Frees what is left; call after the loop has finished. */
void http_server_free(http_server *s);

#endif
