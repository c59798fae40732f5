#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util/crypto.h"

#define DOTENV_MAX_VARS 128

typedef struct {
    char name[64];
    char value[1024];
} dotenv_var;

typedef struct {
    dotenv_var vars[DOTENV_MAX_VARS];
    int count;
} dotenv;

int64_t config_parse_duration(const char *s)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return -1;
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || n <= 0)
        return -1;
    long long unit = 1;
    if (*end == 's')
        unit = 1, end++;
    else if (*end == 'm')
        unit = 60, end++;
    else if (*end == 'h')
        unit = 3600, end++;
    else if (*end == 'd')
        unit = 86400, end++;
    if (*end != '\0' || n > LLONG_MAX / unit / 1000)
        return -1;
    return n * unit;
}

static void trim_in_place(char *s)
{
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    size_t start = 0;
    while (isspace((unsigned char)s[start]))
        start++;
    memmove(s, s + start, len - start + 1);
}

static int unquote(char *value)
{
    size_t len = strlen(value);
    if (len == 0 || (value[0] != '"' && value[0] != '\''))
        return 0;
    if (len < 2 || value[len - 1] != value[0])
        return -1;
    memmove(value, value + 1, len - 2);
    value[len - 2] = '\0';
    return 0;
}

int config_parse_dotenv_line(const char *line, char *name, size_t name_size, char *value,
                             size_t value_size)
{
    char buf[1200];
    if (strlen(line) >= sizeof buf)
        return -1;
    strcpy(buf, line);
    trim_in_place(buf);
    if (buf[0] == '\0' || buf[0] == '#')
        return 0;
    char *p = buf;
    if (strncmp(p, "export ", 7) == 0)
        p += 7;
    char *eq = strchr(p, '=');
    if (!eq)
        return -1;
    *eq = '\0';
    trim_in_place(p);
    char *v = eq + 1;
    trim_in_place(v);
    if (p[0] == '\0' || strlen(p) >= name_size || strlen(v) >= value_size)
        return -1;
    for (char *c = p; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_')
            return -1;
    if (unquote(v) < 0)
        return -1;
    strcpy(name, p);
    strcpy(value, v);
    return 1;
}

static int dotenv_read(dotenv *env, const char *path, char *err, size_t err_size)
{
    env->count = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : (snprintf(err, err_size, "%s: %s", path, strerror(errno)), -1);
    char line[1200];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        dotenv_var *var = &env->vars[env->count];
        int r = config_parse_dotenv_line(line, var->name, sizeof var->name, var->value,
                                         sizeof var->value);
        if (r < 0 || (r == 1 && env->count == DOTENV_MAX_VARS - 1)) {
            snprintf(err, err_size, "%s line %d: expected NAME=value", path, lineno);
            rc = -1;
            break;
        }
        env->count += r;
    }
    fclose(f);
    return rc;
}

static const char *env_or_dotenv(const char *name, void *ctx)
{
    const char *v = getenv(name);
    if (v && *v)
        return v;
    const dotenv *env = ctx;
    for (int i = env ? env->count - 1 : -1; i >= 0; i--)
        if (strcmp(env->vars[i].name, name) == 0)
            return env->vars[i].value[0] ? env->vars[i].value : NULL;
    return NULL;
}

/* Helpers that read one variable into a field, naming the variable on failure. */

static int read_string(config_getter get, void *ctx, const char *name, const char *fallback,
                       char *out, size_t out_size, char *err, size_t err_size)
{
    const char *v = get(name, ctx);
    if (!v)
        v = fallback;
    if (strlen(v) >= out_size) {
        snprintf(err, err_size, "%s: longer than %zu characters", name, out_size - 1);
        return -1;
    }
    strcpy(out, v);
    return 0;
}

static int read_int(config_getter get, void *ctx, const char *name, long long fallback,
                    long long min, long long max, long long *out, char *err, size_t err_size)
{
    const char *v = get(name, ctx);
    if (!v) {
        *out = fallback;
        return 0;
    }
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end != '\0' || end == v || n < min || n > max) {
        snprintf(err, err_size, "%s: expected a whole number from %lld to %lld, got \"%.40s\"",
                 name, min, max, v);
        return -1;
    }
    *out = n;
    return 0;
}

static int read_duration(config_getter get, void *ctx, const char *name, const char *fallback,
                         int64_t *out, char *err, size_t err_size)
{
    const char *v = get(name, ctx);
    *out = config_parse_duration(v ? v : fallback);
    if (*out < 0) {
        snprintf(err, err_size, "%s: expected a duration such as 30s, 15m, 1h or 7d, got \"%.40s\"",
                 name, v);
        return -1;
    }
    return 0;
}

static int parse_server(config *cfg, config_getter get, void *ctx, char *err, size_t n)
{
    long long port;
    if (read_int(get, ctx, "PORT", 3001, 1, 65535, &port, err, n) < 0)
        return -1;
    cfg->port = (int)port;
    if (read_string(get, ctx, "HOST", "0.0.0.0", cfg->host, sizeof cfg->host, err, n) < 0 ||
        read_string(get, ctx, "DATA_DIR", "./data", cfg->data_dir, sizeof cfg->data_dir, err, n) < 0 ||
        read_string(get, ctx, "STATIC_DIR", "client/dist", cfg->static_dir, sizeof cfg->static_dir, err, n) < 0)
        return -1;
    char default_url[64];
    snprintf(default_url, sizeof default_url, "http://localhost:%d", cfg->port);
    if (read_string(get, ctx, "PUBLIC_URL", default_url, cfg->public_url, sizeof cfg->public_url, err, n) < 0)
        return -1;
    size_t len = strlen(cfg->public_url);
    while (len && cfg->public_url[len - 1] == '/')
        cfg->public_url[--len] = '\0';
    if (strncmp(cfg->public_url, "http://", 7) != 0 && strncmp(cfg->public_url, "https://", 8) != 0) {
        snprintf(err, n, "PUBLIC_URL: must start with http:// or https://");
        return -1;
    }
    const char *env = get("ZENCAST_ENV", ctx);
    if (env && strcmp(env, "production") != 0 && strcmp(env, "development") != 0) {
        snprintf(err, n, "ZENCAST_ENV: expected development or production");
        return -1;
    }
    cfg->production = env && strcmp(env, "production") == 0;
    const char *level = get("LOG_LEVEL", ctx);
    cfg->log_level = level ? log_level_parse(level) : LOG_INFO;
    if (cfg->log_level < 0) {
        snprintf(err, n, "LOG_LEVEL: expected debug, info, warn or error");
        return -1;
    }
    return 0;
}

static int parse_database(config *cfg, config_getter get, void *ctx, char *err, size_t n)
{
    if (read_string(get, ctx, "DATABASE_URL", "", cfg->database_url, sizeof cfg->database_url, err, n) < 0)
        return -1;
    const char *url = cfg->database_url;
    if (url[0] && strncmp(url, "postgres://", 11) != 0 && strncmp(url, "postgresql://", 13) != 0) {
        snprintf(err, n, "DATABASE_URL: must start with postgres:// or postgresql:// (or be unset for SQLite)");
        return -1;
    }
    snprintf(cfg->sqlite_path, sizeof cfg->sqlite_path, "%s/zencast.db", cfg->data_dir);
    if (read_string(get, ctx, "REDIS_URL", "", cfg->redis_url, sizeof cfg->redis_url, err, n) < 0)
        return -1;
    if (cfg->redis_url[0] && strncmp(cfg->redis_url, "redis://", 8) != 0) {
        snprintf(err, n, "REDIS_URL: must start with redis://");
        return -1;
    }
    return 0;
}

static int parse_storage(config *cfg, config_getter get, void *ctx, char *err, size_t n)
{
    snprintf(cfg->objects_dir, sizeof cfg->objects_dir, "%s/objects", cfg->data_dir);
    if (read_string(get, ctx, "AWS_S3_BUCKET", "", cfg->s3_bucket, sizeof cfg->s3_bucket, err, n) < 0 ||
        read_string(get, ctx, "AWS_REGION", "", cfg->s3_region, sizeof cfg->s3_region, err, n) < 0 ||
        read_string(get, ctx, "AWS_S3_ENDPOINT", "", cfg->s3_endpoint, sizeof cfg->s3_endpoint, err, n) < 0 ||
        read_string(get, ctx, "AWS_ACCESS_KEY_ID", "", cfg->aws_access_key_id,
                    sizeof cfg->aws_access_key_id, err, n) < 0 ||
        read_string(get, ctx, "AWS_SECRET_ACCESS_KEY", "", cfg->aws_secret_access_key,
                    sizeof cfg->aws_secret_access_key, err, n) < 0)
        return -1;
    if (!cfg->s3_bucket[0])
        return 0;
    const char *missing = !cfg->s3_region[0] ? "AWS_REGION"
                        : !cfg->aws_access_key_id[0] ? "AWS_ACCESS_KEY_ID"
                        : !cfg->aws_secret_access_key[0] ? "AWS_SECRET_ACCESS_KEY" : NULL;
    if (missing) {
        snprintf(err, n, "%s: required when AWS_S3_BUCKET is set", missing);
        return -1;
    }
    return 0;
}

static int parse_auth(config *cfg, config_getter get, void *ctx, char *err, size_t n)
{
    const char *secret = get("JWT_SECRET", ctx);
    cfg->jwt_secret_len = 0;
    if (secret) {
        size_t len = strlen(secret);
        if (len < 32 || len >= CONFIG_SECRET_MAX) {
            snprintf(err, n, "JWT_SECRET: must be 32 to %d bytes long (openssl rand -hex 32 makes one)",
                     CONFIG_SECRET_MAX - 1);
            return -1;
        }
        memcpy(cfg->jwt_secret, secret, len);
        cfg->jwt_secret_len = len;
    } else if (cfg->production) {
        snprintf(err, n, "JWT_SECRET: required when ZENCAST_ENV=production");
        return -1;
    }
    long long fails_account, fails_address;
    if (read_duration(get, ctx, "JWT_EXPIRES_IN", "1h", &cfg->jwt_ttl_s, err, n) < 0 ||
        read_duration(get, ctx, "REFRESH_TOKEN_EXPIRES_IN", "7d", &cfg->refresh_ttl_s, err, n) < 0 ||
        read_duration(get, ctx, "PARTICIPANT_TOKEN_EXPIRES_IN", "12h", &cfg->participant_ttl_s, err, n) < 0 ||
        read_duration(get, ctx, "LOGIN_RATE_WINDOW", "15m", &cfg->login_rate_window_s, err, n) < 0 ||
        read_int(get, ctx, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 5, 1, 1000000, &fails_account, err, n) < 0 ||
        read_int(get, ctx, "LOGIN_MAX_FAILURES_PER_ADDRESS", 20, 1, 1000000, &fails_address, err, n) < 0)
        return -1;
    cfg->login_max_failures_per_account = (int)fails_account;
    cfg->login_max_failures_per_address = (int)fails_address;
    return 0;
}

static int parse_limits(config *cfg, config_getter get, void *ctx, char *err, size_t n)
{
    long long body;
    if (read_duration(get, ctx, "HTTP_IDLE_TIMEOUT", "30s", &cfg->http_idle_timeout_s, err, n) < 0 ||
        read_duration(get, ctx, "SHUTDOWN_GRACE", "10s", &cfg->shutdown_grace_s, err, n) < 0 ||
        read_int(get, ctx, "MAX_BODY_BYTES", 65536, 1024, 16 * 1024 * 1024, &body, err, n) < 0)
        return -1;
    cfg->max_body_bytes = (long)body;
    return 0;
}

/* Origins a browser may open /ws from: PUBLIC_URL's, and this port on localhost. */
static void default_origins(const config *cfg, char *out, size_t size)
{
    char origin[512];
    snprintf(origin, sizeof origin, "%s", cfg->public_url);
    char *path = strchr(strstr(origin, "://") + 3, '/');
    if (path)
        *path = '\0';
    snprintf(out, size, "%s,http://localhost:%d,http://127.0.0.1:%d", origin, cfg->port, cfg->port);
}

static int parse_realtime(config *cfg, config_getter get, void *ctx, char *err, size_t n)
{
    char origins[1024];
    default_origins(cfg, origins, sizeof origins);
    long long max_participants, max_message, per_second, queue;
    int64_t countdown_s;
    if (read_string(get, ctx, "ALLOWED_ORIGINS", origins, cfg->allowed_origins, sizeof cfg->allowed_origins, err, n) < 0 ||
        read_int(get, ctx, "MAX_PARTICIPANTS", 8, 2, 64, &max_participants, err, n) < 0 ||
        read_int(get, ctx, "WS_MAX_MESSAGE_BYTES", 65536, 1024, 1024 * 1024, &max_message, err, n) < 0 ||
        read_int(get, ctx, "WS_MESSAGES_PER_SECOND", 50, 1, 10000, &per_second, err, n) < 0 ||
        read_int(get, ctx, "WS_SEND_QUEUE_BYTES", 1024 * 1024, 64 * 1024, 64 * 1024 * 1024, &queue, err, n) < 0 ||
        read_duration(get, ctx, "HEARTBEAT_INTERVAL", "10s", &cfg->heartbeat_interval_s, err, n) < 0 ||
        read_duration(get, ctx, "HEARTBEAT_TIMEOUT", "30s", &cfg->heartbeat_timeout_s, err, n) < 0 ||
        read_duration(get, ctx, "RECORDING_COUNTDOWN", "3s", &countdown_s, err, n) < 0 ||
        read_string(get, ctx, "TURN_URLS", "", cfg->turn_urls, sizeof cfg->turn_urls, err, n) < 0 ||
        read_string(get, ctx, "TURN_SECRET", "", cfg->turn_secret, sizeof cfg->turn_secret, err, n) < 0 ||
        read_duration(get, ctx, "TURN_TTL", "12h", &cfg->turn_ttl_s, err, n) < 0)
        return -1;
    if (read_string(get, ctx, "STUN_URLS", "stun:stun.l.google.com:19302", cfg->stun_urls,
                    sizeof cfg->stun_urls, err, n) < 0)
        return -1;
    if (strcmp(cfg->stun_urls, "none") == 0)
        cfg->stun_urls[0] = '\0';
    cfg->max_participants = (int)max_participants;
    cfg->ws_max_message_bytes = (long)max_message;
    cfg->ws_messages_per_second = (int)per_second;
    cfg->ws_send_queue_bytes = (long)queue;
    cfg->recording_countdown_ms = countdown_s * 1000;
    if (cfg->heartbeat_timeout_s <= cfg->heartbeat_interval_s) {
        snprintf(err, n, "HEARTBEAT_TIMEOUT: must be longer than HEARTBEAT_INTERVAL");
        return -1;
    }
    if (cfg->turn_urls[0] && strlen(cfg->turn_secret) < 16) {
        snprintf(err, n, "TURN_SECRET: required (16 bytes or more) when TURN_URLS is set");
        return -1;
    }
    return 0;
}

static int parse_uploads(config *cfg, config_getter get, void *ctx, char *err, size_t n)
{
    long long max_chunk;
    if (read_int(get, ctx, "MAX_CHUNK_BYTES", 64LL * 1024 * 1024, 1024, 2LL * 1024 * 1024 * 1024, &max_chunk, err, n) < 0 ||
        read_duration(get, ctx, "UPLOAD_URL_TTL", "15m", &cfg->upload_url_ttl_s, err, n) < 0 ||
        read_duration(get, ctx, "UPLOAD_GRACE", "10m", &cfg->upload_grace_s, err, n) < 0 ||
        read_duration(get, ctx, "RAW_RETENTION", "7d", &cfg->raw_retention_s, err, n) < 0)
        return -1;
    cfg->max_chunk_bytes = max_chunk;
    if (cfg->upload_url_ttl_s > 7 * 86400) {
        snprintf(err, n, "UPLOAD_URL_TTL: at most 7d (S3's limit for presigned URLs)");
        return -1;
    }
    return 0;
}

static int parse_render(config *cfg, config_getter get, void *ctx, char *err, size_t n)
{
    int64_t poll_s, lease_s;
    long long attempts;
    const char *embedded = get("RENDER_WORKER", ctx);
    if (embedded && strcmp(embedded, "on") != 0 && strcmp(embedded, "off") != 0) {
        snprintf(err, n, "RENDER_WORKER: expected on or off");
        return -1;
    }
    cfg->render_worker = !embedded || strcmp(embedded, "on") == 0;
    if (read_duration(get, ctx, "RENDER_POLL", "2s", &poll_s, err, n) < 0 ||
        read_duration(get, ctx, "RENDER_LEASE", "60s", &lease_s, err, n) < 0 ||
        read_int(get, ctx, "RENDER_MAX_ATTEMPTS", 3, 1, 100, &attempts, err, n) < 0)
        return -1;
    if (lease_s < 4) {
        snprintf(err, n, "RENDER_LEASE: at least 4s (it is renewed every quarter)");
        return -1;
    }
    cfg->render_poll_ms = poll_s * 1000;
    cfg->render_lease_ms = lease_s * 1000;
    cfg->render_max_attempts = (int)attempts;
    snprintf(cfg->render_dir, sizeof cfg->render_dir, "%s/render", cfg->data_dir);
    return 0;
}

int config_parse(config *cfg, config_getter get, void *ctx, char *err, size_t err_size)
{
    memset(cfg, 0, sizeof *cfg);
    if (parse_server(cfg, get, ctx, err, err_size) < 0 ||
        parse_database(cfg, get, ctx, err, err_size) < 0 ||
        parse_storage(cfg, get, ctx, err, err_size) < 0 ||
        parse_auth(cfg, get, ctx, err, err_size) < 0 ||
        parse_limits(cfg, get, ctx, err, err_size) < 0 ||
        parse_realtime(cfg, get, ctx, err, err_size) < 0 ||
        parse_uploads(cfg, get, ctx, err, err_size) < 0 ||
        parse_render(cfg, get, ctx, err, err_size) < 0)
        return -1;
    return 0;
}

int config_load(config *cfg, const char *dotenv_path, char *err, size_t err_size)
{
    static dotenv env; /* large; loaded once at start-up */
    if (dotenv_read(&env, dotenv_path, err, err_size) < 0)
        return -1;
    return config_parse(cfg, env_or_dotenv, &env, err, err_size);
}

static int make_dir(const char *path, char *err, size_t err_size)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return 0;
    snprintf(err, err_size, "DATA_DIR: cannot create %s: %s", path, strerror(errno));
    return -1;
}

static int read_secret_file(config *cfg, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, cfg->jwt_secret, sizeof cfg->jwt_secret - 1);
    close(fd);
    while (n > 0 && (cfg->jwt_secret[n - 1] == '\n' || cfg->jwt_secret[n - 1] == '\r'))
        n--;
    if (n < 32)
        return -1;
    cfg->jwt_secret_len = (size_t)n;
    return 0;
}

static int write_secret_file(config *cfg, const char *path, char *err, size_t err_size)
{
    char token[96];
    if (crypto_random_token(48, token, sizeof token) < 0) {
        snprintf(err, err_size, "JWT_SECRET: cannot generate a random secret");
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_size, "JWT_SECRET: cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(token);
    int ok = write(fd, token, len) == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        unlink(path);
        snprintf(err, err_size, "JWT_SECRET: cannot write %s", path);
        return -1;
    }
    memcpy(cfg->jwt_secret, token, len);
    cfg->jwt_secret_len = len;
    return 0;
}

int config_ensure_jwt_secret(config *cfg, char *err, size_t err_size)
{
    if (cfg->jwt_secret_len)
        return 0;
    if (make_dir(cfg->data_dir, err, err_size) < 0)
        return -1;
    char path[640];
    snprintf(path, sizeof path, "%s/jwt-secret", cfg->data_dir);
    cfg->jwt_secret_generated = true;
    if (read_secret_file(cfg, path) == 0)
        return 0;
    if (access(path, F_OK) == 0) {
        snprintf(err, err_size, "JWT_SECRET: %s is shorter than 32 bytes; delete it or set JWT_SECRET", path);
        return -1;
    }
    if (write_secret_file(cfg, path, err, err_size) < 0)
        return -1;
    log_warn("JWT_SECRET is not set: generated one and kept it in %s (development only; set JWT_SECRET in production)", path);
    return 0;
}
