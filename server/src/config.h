/* Configuration from the environment and an optional .env file (the environment wins). */
#ifndef ZC_CONFIG_H
#define ZC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_SECRET_MAX 256

typedef struct {
    int port;
    char host[64];
    char data_dir[512];
    char database_url[1024];   /* "" means SQLite under data_dir */
    char sqlite_path[600];
    char redis_url[512];       /* "" means in-process rooms */
    char s3_bucket[128];       /* "" means the local folder data_dir/objects */
    char s3_region[64];
    char s3_endpoint[512];
    char aws_access_key_id[128];
    char aws_secret_access_key[CONFIG_SECRET_MAX];
    char objects_dir[600];
    uint8_t jwt_secret[CONFIG_SECRET_MAX];
    size_t jwt_secret_len;
    bool jwt_secret_generated;  /* true when kept in data_dir because JWT_SECRET was unset */
    int64_t jwt_ttl_s;
    int64_t refresh_ttl_s;
    int64_t participant_ttl_s;
    char public_url[512];
    char static_dir[512];
    int log_level;
    bool production;
    int login_max_failures_per_account;
    int login_max_failures_per_address;
    int64_t login_rate_window_s;
    int64_t http_idle_timeout_s;
    long max_body_bytes;
    int64_t shutdown_grace_s;

    /* Real-time rooms (WebSocket signalling). */
    char allowed_origins[1024];  /* comma-separated origins allowed to open /ws */
    int max_participants;
    long ws_max_message_bytes;
    int ws_messages_per_second;
    long ws_send_queue_bytes;
    int64_t heartbeat_interval_s;
    int64_t heartbeat_timeout_s;
    int64_t recording_countdown_ms;
    char stun_urls[1024];
    char turn_urls[1024];
    char turn_secret[CONFIG_SECRET_MAX];
    int64_t turn_ttl_s;

    /* Chunk uploads. */
    int64_t max_chunk_bytes;
    int64_t upload_url_ttl_s;
    int64_t upload_grace_s;    /* after a stop, before the host may finalise without everyone */
    int64_t raw_retention_s;   /* raw chunks kept this long after a successful render */

    /* Render workers. */
    bool render_worker;         /* `zencast serve` runs one too */
    int64_t render_poll_ms;
    int64_t render_lease_ms;
    int render_max_attempts;
    char render_dir[600];       /* scratch space: DATA_DIR/render */
} config;

/* Reads a variable: the process environment first, then the .env values loaded
 * by config_load. Returns NULL when unset or empty. */
typedef const char *(*config_getter)(const char *name, void *ctx);

/* Fills cfg from get(). On a bad value returns -1 with err naming the variable.
 * Does not touch the filesystem (the JWT secret may stay empty: see config_ensure_jwt_secret). */
int config_parse(config *cfg, config_getter get, void *ctx, char *err, size_t err_size);

/* Loads .env from path (missing file is fine) and the environment into cfg. */
int config_load(config *cfg, const char *dotenv_path, char *err, size_t err_size);

/* When JWT_SECRET was unset in development: reads or creates data_dir/jwt-secret (0600). */
int config_ensure_jwt_secret(config *cfg, char *err, size_t err_size);

/* Parses "30s", "15m", "1h", "7d" or a bare number of seconds. -1 when invalid. */
int64_t config_parse_duration(const char *s);

/* Parses a .env line "NAME=value" (optional quotes, comments, export prefix).
 * Returns 1 with name/value filled, 0 for blank/comment lines, -1 when malformed. */
int config_parse_dotenv_line(const char *line, char *name, size_t name_size, char *value,
                             size_t value_size);

#endif
