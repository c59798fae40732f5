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

/* Requests under one path prefix whose bodies are streamed, not buffered (uploads), and
 * whose GETs are files chosen by the handler (downloads). */
typedef struct {
    const char *prefix; /* e.g. "/storage/" */
    /* PUT: the headers are in. Returns the sink for the body, or NULL after answering. */
    void *(*put_begin)(http_request *req, int64_t content_length);
    /* A piece of the body. 0: taken; 1: taken, but stop reading until http_stream_resume();
     * -1: cut the connection. */
    int (*put_data)(void *sink, const void *data, size_t len);
    /* The whole body is in: the handler answers when it is done with it. */
    void (*put_end)(void *sink);
    /* The client went before the end. The handler still answers once (the answer is dropped). */
    void (*put_abort)(void *sink);
    /* GET/HEAD: fills the file to send and its type and returns 0, or answers and returns -1. */
    int (*get_file)(http_request *req, char *path, size_t size, const char **mime);
} http_stream_handler;

/* Reading the body of a paused streaming request goes on. */
void http_stream_resume(http_request *req);

typedef struct {
    const char *host;
    int port;
    const char *static_dir;     /* the built web app; index.html is the fallback */
    long max_body_bytes;
    int idle_timeout_s;
    http_handler_fn handler;    /* gets /api/..., /healthz and /readyz */
    const struct lws_protocols *ws_protocol; /* the WebSocket protocol on /ws, or NULL */
    const http_stream_handler *stream;       /* uploads and downloads, or NULL */
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
