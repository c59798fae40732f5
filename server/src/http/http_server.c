#include "http/http_server.h"

#include <libwebsockets.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "http/static_files.h"
#include "log.h"

#define RESPONSE_PIECE (32 * 1024)
#define MAX_HEADER_BYTES 8192

struct http_server {
    struct lws_context *ctx;
    http_server_options opts;
    char static_root[PATH_MAX];
    char bind_host[64];
    void *foreign_loops[1];
    struct lws_protocols protocols[3]; /* http, the WebSocket protocol, the terminator */
    int inflight;
    bool draining;
    bool stopping;
};

/* Per-connection state; lws allocates and zeroes it. On keep-alive it serves one
 * request after another. */
struct http_conn {
    struct lws *wsi;
    http_request *req;
    /* A static file being sent: lws streams it, we log it at the end. */
    int sending_file;
    uint64_t file_started_ns;
    http_method file_method;
    char file_path[HTTP_PATH_MAX];
    size_t file_bytes;
};

static http_server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

static void log_request(http_method method, const char *path, int status, size_t bytes,
                        uint64_t started_ns)
{
    unsigned long long ms = (uv_hrtime() - started_ns) / 1000000;
    log_info("%s %s %d %zuB %llums", http_method_name(method), path, status, bytes, ms);
}

static void request_free(http_request *req)
{
    req->server->inflight--;
    free(req->body);
    free(req->response);
    free(req);
}

/* ---- answering ---------------------------------------------------------- */

void http_server_send_response(http_request *req)
{
    req->answered = 1;
    if (!req->conn) { /* the client hung up while the handler worked */
        log_request(req->method, req->path, req->status, 0, req->started_ns);
        request_free(req);
        return;
    }
    lws_callback_on_writable(req->conn->wsi);
}

static int write_headers(struct lws *wsi, http_request *req)
{
    unsigned char buf[LWS_PRE + 2048];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (lws_add_http_header_status(wsi, (unsigned int)req->status, &p, end))
        return -1;
    if (req->response_type &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (const unsigned char *)req->response_type,
                                     (int)strlen(req->response_type), &p, end))
        return -1;
    if (lws_add_http_header_content_length(wsi, req->response_len, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
                                    (const unsigned char *)"nosniff", 7, &p, end))
        return -1;
    for (int i = 0; i < req->nextra; i++) {
        char name[72];
        snprintf(name, sizeof name, "%s:", req->extra_headers[i][0]);
        const char *value = req->extra_headers[i][1];
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                        (const unsigned char *)value, (int)strlen(value), &p, end))
            return -1;
    }
    if (req->close_after &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p, end))
        return -1;
    return lws_finalize_write_http_header(wsi, start, &p, end);
}

/* The request is fully sent: log it, then close or wait for the next one. */
static int finish_request(struct lws *wsi, http_conn *conn)
{
    http_request *req = conn->req;
    int close_after = req->close_after;
    log_request(req->method, req->path, req->status, req->response_len, req->started_ns);
    conn->req = NULL;
    request_free(req);
    if (close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int write_response(struct lws *wsi, http_conn *conn)
{
    http_request *req = conn->req;
    if (!req || !req->answered)
        return 0;
    if (!req->headers_sent) {
        if (write_headers(wsi, req) < 0)
            return -1;
        req->headers_sent = 1;
        if (req->response_len == 0 || req->method == HTTP_HEAD)
            return finish_request(wsi, conn);
        lws_callback_on_writable(wsi);
        return 0;
    }
    size_t left = req->response_len - req->response_sent;
    size_t piece = left > RESPONSE_PIECE ? RESPONSE_PIECE : left;
    int last = piece == left;
    unsigned char *at = (unsigned char *)req->response + LWS_PRE + req->response_sent;
    if (lws_write(wsi, at, piece, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)piece)
        return -1;
    req->response_sent += piece;
    if (last)
        return finish_request(wsi, conn);
    lws_callback_on_writable(wsi);
    return 0;
}

/* ---- receiving ---------------------------------------------------------- */

static void copy_header(struct lws *wsi, enum lws_token_indexes token, char *out, size_t size)
{
    out[0] = '\0';
    if (lws_hdr_total_length(wsi, token) < (int)size)
        lws_hdr_copy(wsi, out, (int)size, token);
}

/* lws keeps each "a=b" of the query as a fragment; join them back with '&'. */
static void copy_query(struct lws *wsi, char *out, size_t size)
{
    out[0] = '\0';
    size_t used = 0;
    for (int i = 0;; i++) {
        char frag[512];
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n <= 0 || used + (size_t)n + 2 >= size)
            break;
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? "&" : "", frag);
    }
}

static http_request *request_new(struct lws *wsi, http_conn *conn, http_method method, const char *path)
{
    http_server *s = server_of(wsi);
    http_request *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    s->inflight++;
    req->server = s;
    req->conn = conn;
    req->app = s->opts.app;
    req->method = method;
    req->started_ns = uv_hrtime();
    snprintf(req->path, sizeof req->path, "%s", path);
    copy_query(wsi, req->query, sizeof req->query);
    copy_header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, req->content_type, sizeof req->content_type);
    copy_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, req->authorization, sizeof req->authorization);
    if (!lws_get_peer_simple(wsi, req->client_addr, sizeof req->client_addr))
        snprintf(req->client_addr, sizeof req->client_addr, "unknown");
    return req;
}

static void dispatch(http_request *req)
{
    req->server->opts.handler(req);
}

static int is_api_path(const char *path)
{
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
           strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0;
}

static int on_file_done(struct lws *wsi, http_conn *conn)
{
    if (conn->sending_file)
        log_request(conn->file_method, conn->file_path, 200, conn->file_bytes, conn->file_started_ns);
    conn->sending_file = 0;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int send_file(struct lws *wsi, http_conn *conn, http_method method, const char *path, const char *file,
                     const char *mime);

static int serve_static(struct lws *wsi, http_conn *conn, http_method method, const char *path)
{
    http_server *s = server_of(wsi);
    char file[PATH_MAX + HTTP_PATH_MAX];
    if (method != HTTP_GET && method != HTTP_HEAD) {
        if (lws_return_http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, NULL))
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    if (!s->static_root[0] || static_resolve(s->static_root, path, file, sizeof file) < 0) {
        log_request(method, path, 404, 0, uv_hrtime());
        if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, "The web app is not built: run make build"))
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    return send_file(wsi, conn, method, path, file, static_mime_type(file));
}

/* Sends file as the answer (lws streams it); path is what the request asked, for the log. */
static int send_file(struct lws *wsi, http_conn *conn, http_method method, const char *path, const char *file,
                     const char *mime)
{
    struct stat st;
    uint64_t started_ns = uv_hrtime();
    conn->sending_file = method == HTTP_GET;
    conn->file_started_ns = started_ns;
    conn->file_method = method;
    conn->file_bytes = method == HTTP_GET && stat(file, &st) == 0 ? (size_t)st.st_size : 0;
    snprintf(conn->file_path, sizeof conn->file_path, "%s", path);
    static const char headers[] = "x-content-type-options: nosniff\x0d\x0a";
    int n = lws_serve_http_file(wsi, file, mime, headers, (int)sizeof headers - 1);
    if (method == HTTP_HEAD) { /* lws sent the headers and ended the transaction itself */
        log_request(method, path, 200, 0, started_ns);
        return n < 0 ? -1 : 0;
    }
    if (n < 0)
        return -1;
    if (n > 0)
        return on_file_done(wsi, conn);
    return 0;
}

/* Checks the body's framing before any byte of it is read. Returns 0 to read the body,
 * 1 when answered already (req is then set up to be answered). */
static int check_body_framing(struct lws *wsi, http_request *req, long *content_length, bool limit)
{
    http_server *s = req->server;
    char te[64], cl[32];
    copy_header(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING, te, sizeof te);
    copy_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, sizeof cl);
    int wants_body = req->method == HTTP_POST || req->method == HTTP_PUT || req->method == HTTP_PATCH;
    *content_length = 0;
    /* lws 4.1 never decodes chunked bodies and reads a missing length as 100 MB. */
    if (te[0] || (wants_body && !cl[0])) {
        req->close_after = 1;
        http_respond_error(req, 411, "length_required", "send the body with a Content-Length header");
        return 1;
    }
    if (!cl[0])
        return 0;
    char *end;
    long long n = strtoll(cl, &end, 10);
    if (*end != '\0' || n < 0) {
        req->close_after = 1;
        http_respond_error(req, 400, "invalid_request", "Content-Length is not a number");
        return 1;
    }
    if (limit && n > s->opts.max_body_bytes) {
        req->close_after = 1;
        http_respond_error(req, 413, "payload_too_large", "the request body is too large");
        return 1;
    }
    *content_length = (long)n;
    return 0;
}

void http_stream_resume(http_request *req)
{
    if (req->conn && req->conn->wsi)
        lws_rx_flow_control(req->conn->wsi, 1);
}

static int on_stream_request(struct lws *wsi, http_conn *conn, http_method method, const char *path)
{
    const http_stream_handler *stream = server_of(wsi)->opts.stream;
    http_request *req = request_new(wsi, conn, method, path);
    if (!req)
        return -1;
    conn->req = req;
    if (method == HTTP_GET || method == HTTP_HEAD) {
        char file[1024];
        const char *mime = NULL;
        if (stream->get_file(req, file, sizeof file, &mime) < 0)
            return 0; /* answered */
        conn->req = NULL;
        request_free(req);
        return send_file(wsi, conn, method, path, file, mime);
    }
    if (method != HTTP_PUT) {
        http_respond_error(req, 405, "method_not_allowed", "PUT to upload, GET to download");
        return 0;
    }
    long content_length;
    /* The stream handler sets its own size limit; framing rules are the same. */
    if (check_body_framing(wsi, req, &content_length, false))
        return 0;
    req->sink = stream->put_begin(req, content_length);
    if (!req->sink) {
        req->close_after = 1; /* the body was not read */
        return 0;
    }
    if (content_length == 0) {
        req->body_done = 1;
        stream->put_end(req->sink);
    } else {
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)req->server->opts.idle_timeout_s);
    }
    return 0;
}

/* lws numbers methods 0 GET, 1 POST, 2 OPTIONS, 3 PUT, 4 PATCH, 5 DELETE, 7 HEAD. */
static http_method method_of(int lws_method)
{
    static const http_method METHODS[] = { HTTP_GET, HTTP_POST, HTTP_OPTIONS, HTTP_PUT, HTTP_PATCH,
                                           HTTP_DELETE, HTTP_METHOD_UNKNOWN, HTTP_HEAD };
    if (lws_method < 0 || lws_method >= (int)(sizeof METHODS / sizeof METHODS[0]))
        return HTTP_METHOD_UNKNOWN;
    return METHODS[lws_method];
}

static int on_http(struct lws *wsi, http_conn *conn)
{
    char *uri;
    int uri_len;
    http_method method = method_of(lws_http_get_uri_and_method(wsi, &uri, &uri_len));
    char path[HTTP_PATH_MAX];
    snprintf(path, sizeof path, "%.*s", uri_len, uri ? uri : "/");
    conn->wsi = wsi;
    const http_stream_handler *stream = server_of(wsi)->opts.stream;
    if (stream && strncmp(path, stream->prefix, strlen(stream->prefix)) == 0)
        return on_stream_request(wsi, conn, method, path);
    if (!is_api_path(path))
        return serve_static(wsi, conn, method, path);

    http_request *req = request_new(wsi, conn, method, path);
    if (!req)
        return -1;
    conn->req = req;
    long content_length;
    if (check_body_framing(wsi, req, &content_length, true))
        return 0;
    if (content_length == 0) {
        dispatch(req);
        return 0;
    }
    req->body = malloc((size_t)content_length + 1);
    if (!req->body)
        return -1;
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)req->server->opts.idle_timeout_s);
    return 0;
}

static int on_body(struct lws *wsi, http_conn *conn, const void *in, size_t len)
{
    http_request *req = conn->req;
    if (req && req->sink && !req->answered) {
        int taken = req->server->opts.stream->put_data(req->sink, in, len);
        if (taken == 1)
            lws_rx_flow_control(wsi, 0);
        lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)req->server->opts.idle_timeout_s);
        return taken < 0 ? -1 : 0;
    }
    if (!req || !req->body || req->answered)
        return 0;
    if (req->body_len + len > (size_t)req->server->opts.max_body_bytes)
        return -1; /* more than Content-Length promised */
    memcpy(req->body + req->body_len, in, len);
    req->body_len += len;
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, (int)req->server->opts.idle_timeout_s);
    return 0;
}

static int on_body_complete(struct lws *wsi, http_conn *conn)
{
    http_request *req = conn->req;
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    if (req && req->sink && !req->body_done) {
        req->body_done = 1;
        req->server->opts.stream->put_end(req->sink);
        return 0;
    }
    if (!req || req->answered || !req->body)
        return 0;
    req->body[req->body_len] = '\0';
    dispatch(req);
    return 0;
}

static void on_closed(http_conn *conn)
{
    http_request *req = conn->req;
    conn->req = NULL;
    if (!req)
        return;
    if (req->answered) {
        log_request(req->method, req->path, req->status, req->response_sent, req->started_ns);
        request_free(req);
        return;
    }
    req->conn = NULL; /* freed when the handler answers */
    if (req->sink && !req->body_done) {
        req->body_done = 1;
        req->server->opts.stream->put_abort(req->sink);
    }
}


static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    http_conn *conn = user;
    /* A WebSocket that names no subprotocol lands here, on the first protocol: refuse it. */
    if (reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION) {
        lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, NULL);
        return 1;
    }
    if (!conn) /* lws calls some reasons before the connection has its state */
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(wsi, conn);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(wsi, conn, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return on_body_complete(wsi, conn);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return write_response(wsi, conn);
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
        return on_file_done(wsi, conn);
    case LWS_CALLBACK_CLOSED_HTTP:
        on_closed(conn);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols HTTP_PROTOCOL = { "http", http_callback, sizeof(http_conn), 0, 0, NULL, 0 };

/* lws logs through us, so its lines look like ours and honour LOG_LEVEL. */
static void lws_log(int level, const char *line)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", line);
    size_t n = strlen(copy);
    while (n && (copy[n - 1] == '\n' || copy[n - 1] == '\r'))
        copy[--n] = '\0';
    if (level & LLL_ERR)
        log_error("lws: %s", copy);
    else if (level & LLL_WARN)
        log_warn("lws: %s", copy);
    else
        log_info("lws: %s", copy);
}

http_server *http_server_start(uv_loop_t *loop, const http_server_options *opts, char *err, size_t err_size)
{
    http_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    s->opts = *opts;
    if (!opts->static_dir || !realpath(opts->static_dir, s->static_root))
        log_warn("STATIC_DIR %s not found: the web app is not served (run make build)", opts->static_dir);
    snprintf(s->bind_host, sizeof s->bind_host, "%s", opts->host);
    s->foreign_loops[0] = loop;

    lws_set_log_level(getenv("ZENCAST_LWS_DEBUG") ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO | LLL_DEBUG
                                                  : LLL_ERR | LLL_WARN,
                      lws_log);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = opts->port;
    info.iface = strcmp(s->bind_host, "0.0.0.0") == 0 ? NULL : s->bind_host;
    s->protocols[0] = HTTP_PROTOCOL;
    if (opts->ws_protocol)
        s->protocols[1] = *opts->ws_protocol;
    info.protocols = s->protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
                   LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = s->foreign_loops;
    info.user = s;
    info.max_http_header_data = MAX_HEADER_BYTES;
    info.pt_serv_buf_size = 256 * 1024;
    info.keepalive_timeout = opts->idle_timeout_s;
    info.timeout_secs = (unsigned int)opts->idle_timeout_s;
    info.timeout_secs_ah_idle = opts->idle_timeout_s; /* a client that connects and sends no full headers */
    info.server_string = "zencast";
    info.pcontext = &s->ctx; /* lws sets it to NULL once the context is wholly destroyed */
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        snprintf(err, err_size, "cannot listen on %s:%d (is the port in use?)", opts->host, opts->port);
        free(s);
        return NULL;
    }
    return s;
}

int http_server_inflight(const http_server *s) { return s->inflight; }
void http_server_set_draining(http_server *s) { s->draining = true; }
bool http_server_is_draining(const http_server *s) { return s->draining; }

void http_server_stop(http_server *s)
{
    if (s && s->ctx && !s->stopping) {
        s->stopping = true;
        lws_context_destroy(s->ctx);
    }
}

/* With connections still open at stop, lws finishes destroying the context only when
 * called once more after the loop has closed its handles. */
void http_server_free(http_server *s)
{
    if (!s)
        return;
    if (s->ctx)
        lws_context_destroy(s->ctx);
    free(s);
}
