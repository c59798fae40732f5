#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* A NULL-terminated table of NAME=value pairs standing in for the environment. */
typedef struct {
    const char *name;
    const char *value;
} var;

static const char *table_get(const char *name, void *ctx)
{
    const var *vars = ctx;
    for (const var *v = vars; v && v->name; v++)
        if (strcmp(v->name, name) == 0)
            return v->value && v->value[0] ? v->value : NULL;
    return NULL;
}

#define SECRET_32 "0123456789abcdef0123456789abcdef"

static int parse(config *cfg, const var *vars, char *err, size_t err_size)
{
    err[0] = '\0';
    return config_parse(cfg, table_get, (void *)vars, err, err_size);
}

/* --- config_parse: defaults and good values --- */

static void test_defaults(void **state)
{
    (void)state;
    static config cfg;
    char err[256];
    var vars[] = { { NULL, NULL } };
    assert_int_equal(parse(&cfg, vars, err, sizeof err), 0);
    assert_int_equal(cfg.port, 3001);
    assert_string_equal(cfg.host, "0.0.0.0");
    assert_string_equal(cfg.data_dir, "./data");
    assert_string_equal(cfg.database_url, "");
    assert_string_equal(cfg.sqlite_path, "./data/zencast.db");
    assert_string_equal(cfg.objects_dir, "./data/objects");
    assert_string_equal(cfg.redis_url, "");
    assert_string_equal(cfg.s3_bucket, "");
    assert_string_equal(cfg.public_url, "http://localhost:3001");
    assert_int_equal(cfg.jwt_ttl_s, 3600);
    assert_int_equal(cfg.refresh_ttl_s, 7 * 86400);
    assert_int_equal(cfg.participant_ttl_s, 12 * 3600);
    assert_int_equal(cfg.login_rate_window_s, 15 * 60);
    assert_int_equal(cfg.login_max_failures_per_account, 5);
    assert_int_equal(cfg.login_max_failures_per_address, 20);
    assert_int_equal(cfg.max_body_bytes, 65536);
    assert_int_equal(cfg.jwt_secret_len, 0);
    assert_false(cfg.production);
}

static void test_data_dir_paths_and_port_in_public_url(void **state)
{
    (void)state;
    static config cfg;
    char err[256];
    var vars[] = { { "DATA_DIR", "/srv/zc" }, { "PORT", "8080" }, { NULL, NULL } };
    assert_int_equal(parse(&cfg, vars, err, sizeof err), 0);
    assert_int_equal(cfg.port, 8080);
    assert_string_equal(cfg.sqlite_path, "/srv/zc/zencast.db");
    assert_string_equal(cfg.objects_dir, "/srv/zc/objects");
    assert_string_equal(cfg.public_url, "http://localhost:8080");
}

static void test_public_url_trailing_slash_trimmed(void **state)
{
    (void)state;
    static config cfg;
    char err[256];
    var one[] = { { "PUBLIC_URL", "https://zencast.example/" }, { NULL, NULL } };
    assert_int_equal(parse(&cfg, one, err, sizeof err), 0);
    assert_string_equal(cfg.public_url, "https://zencast.example");
    var many[] = { { "PUBLIC_URL", "http://h:1/app///" }, { NULL, NULL } };
    assert_int_equal(parse(&cfg, many, err, sizeof err), 0);
    assert_string_equal(cfg.public_url, "http://h:1/app");
}

static void test_good_values(void **state)
{
    (void)state;
    static config cfg;
    char err[256];
    var vars[] = {
        { "PORT", "65535" },
        { "DATABASE_URL", "postgres://u:p@db:5432/zencast" },
        { "REDIS_URL", "redis://cache:6379/0" },
        { "JWT_SECRET", SECRET_32 },
        { "JWT_EXPIRES_IN", "15m" },
        { "REFRESH_TOKEN_EXPIRES_IN", "30s" },
        { "PARTICIPANT_TOKEN_EXPIRES_IN", "2h" },
        { "LOGIN_RATE_WINDOW", "45" },
        { "HTTP_IDLE_TIMEOUT", "7d" },
        { "AWS_S3_BUCKET", "bucket" },
        { "AWS_REGION", "eu-west-1" },
        { "AWS_ACCESS_KEY_ID", "AKIA" },
        { "AWS_SECRET_ACCESS_KEY", "secret" },
        { "LOG_LEVEL", "debug" },
        { "ZENCAST_ENV", "production" },
        { "MAX_BODY_BYTES", "1024" },
        { NULL, NULL },
    };
    assert_int_equal(parse(&cfg, vars, err, sizeof err), 0);
    assert_int_equal(cfg.port, 65535);
    assert_string_equal(cfg.database_url, "postgres://u:p@db:5432/zencast");
    assert_string_equal(cfg.redis_url, "redis://cache:6379/0");
    assert_int_equal(cfg.jwt_secret_len, 32);
    assert_memory_equal(cfg.jwt_secret, SECRET_32, 32);
    assert_int_equal(cfg.jwt_ttl_s, 15 * 60);
    assert_int_equal(cfg.refresh_ttl_s, 30);
    assert_int_equal(cfg.participant_ttl_s, 2 * 3600);
    assert_int_equal(cfg.login_rate_window_s, 45);
    assert_int_equal(cfg.http_idle_timeout_s, 7 * 86400);
    assert_string_equal(cfg.s3_bucket, "bucket");
    assert_string_equal(cfg.s3_region, "eu-west-1");
    assert_true(cfg.production);
    assert_int_equal(cfg.max_body_bytes, 1024);

    var pg[] = { { "DATABASE_URL", "postgresql://localhost/zc" }, { "PORT", "1" }, { NULL, NULL } };
    assert_int_equal(parse(&cfg, pg, err, sizeof err), 0);
    assert_string_equal(cfg.database_url, "postgresql://localhost/zc");
    assert_int_equal(cfg.port, 1);
}

/* --- config_parse: every bad value is refused, naming the variable --- */

static void expect_refused(const char *name, const char *value, const char *name2,
                           const char *value2, const char *must_name)
{
    static config cfg;
    char err[256];
    var vars[] = { { name, value }, { name2, value2 }, { NULL, NULL } };
    int rc = parse(&cfg, vars, err, sizeof err);
    if (rc != -1)
        fail_msg("%s=%s was accepted", name, value);
    if (!strstr(err, must_name))
        fail_msg("%s=%s: error \"%s\" does not name %s", name, value, err, must_name);
}

static void test_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *name, *value;
    } bad[] = {
        { "PORT", "abc" },
        { "PORT", "0" },
        { "PORT", "70000" },
        { "PORT", "12x" },
        { "PORT", "-1" },
        { "JWT_EXPIRES_IN", "soon" },
        { "JWT_EXPIRES_IN", "0" },
        { "JWT_EXPIRES_IN", "-5m" },
        { "JWT_EXPIRES_IN", "1w" },
        { "REFRESH_TOKEN_EXPIRES_IN", "7dd" },
        { "LOGIN_RATE_WINDOW", "99999999999999999d" },
        { "JWT_SECRET", "too-short" },
        { "JWT_SECRET", "0123456789abcdef0123456789abcde" }, /* 31 bytes */
        { "DATABASE_URL", "mysql://x" },
        { "REDIS_URL", "http://x" },
        { "LOG_LEVEL", "loud" },
        { "ZENCAST_ENV", "prod" },
        { "PUBLIC_URL", "ftp://x" },
        { "PUBLIC_URL", "localhost:3001" },
        { "MAX_BODY_BYTES", "10" },
        { "MAX_BODY_BYTES", "999999999999" },
        { "LOGIN_MAX_FAILURES_PER_ACCOUNT", "0" },
        { "MAX_PARTICIPANTS", "1" },
        { "MAX_PARTICIPANTS", "many" },
        { "WS_MAX_MESSAGE_BYTES", "10" },
        { "WS_MESSAGES_PER_SECOND", "0" },
        { "WS_SEND_QUEUE_BYTES", "1" },
        { "HEARTBEAT_INTERVAL", "often" },
        { "RECORDING_COUNTDOWN", "-3s" },
        { "TURN_TTL", "forever" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused(bad[i].name, bad[i].value, NULL, NULL, bad[i].name);

    char long_secret[CONFIG_SECRET_MAX + 1];
    memset(long_secret, 'k', CONFIG_SECRET_MAX);
    long_secret[CONFIG_SECRET_MAX] = '\0';
    expect_refused("JWT_SECRET", long_secret, NULL, NULL, "JWT_SECRET");

    char long_host[200];
    memset(long_host, 'h', sizeof long_host - 1);
    long_host[sizeof long_host - 1] = '\0';
    expect_refused("HOST", long_host, NULL, NULL, "HOST");
}

static void test_realtime_settings(void **state)
{
    (void)state;
    expect_refused("HEARTBEAT_INTERVAL", "30s", "HEARTBEAT_TIMEOUT", "10s", "HEARTBEAT_TIMEOUT");
    expect_refused("TURN_URLS", "turn:t.example:3478", NULL, NULL, "TURN_SECRET");
    static config cfg;
    char err[256];
    var none[] = { { "STUN_URLS", "none" }, { "PORT", "4000" }, { NULL, NULL } };
    assert_int_equal(parse(&cfg, none, err, sizeof err), 0);
    assert_string_equal(cfg.stun_urls, "");
    assert_non_null(strstr(cfg.allowed_origins, "http://127.0.0.1:4000"));
    assert_int_equal(cfg.max_participants, 8);
    assert_int_equal(cfg.recording_countdown_ms, 3000);
    var defaults[] = { { NULL, NULL } };
    assert_int_equal(parse(&cfg, defaults, err, sizeof err), 0);
    assert_string_equal(cfg.stun_urls, "stun:stun.l.google.com:19302");
}

static void test_bucket_without_region(void **state)
{
    (void)state;
    expect_refused("AWS_S3_BUCKET", "bucket", NULL, NULL, "AWS_REGION");
    expect_refused("AWS_S3_BUCKET", "bucket", NULL, NULL, "AWS_S3_BUCKET");
    /* With a region but no keys, the missing key is named. */
    expect_refused("AWS_S3_BUCKET", "bucket", "AWS_REGION", "eu-west-1", "AWS_ACCESS_KEY_ID");
}

static void test_production_requires_secret(void **state)
{
    (void)state;
    expect_refused("ZENCAST_ENV", "production", NULL, NULL, "JWT_SECRET");
    static config cfg;
    char err[256];
    var dev[] = { { "ZENCAST_ENV", "development" }, { NULL, NULL } };
    assert_int_equal(parse(&cfg, dev, err, sizeof err), 0);
    assert_false(cfg.production);
    assert_int_equal(cfg.jwt_secret_len, 0);
}

/* --- config_parse_duration --- */

static void test_parse_duration(void **state)
{
    (void)state;
    assert_int_equal(config_parse_duration("30s"), 30);
    assert_int_equal(config_parse_duration("15m"), 900);
    assert_int_equal(config_parse_duration("1h"), 3600);
    assert_int_equal(config_parse_duration("2h"), 7200);
    assert_int_equal(config_parse_duration("7d"), 604800);
    assert_int_equal(config_parse_duration("45"), 45);
    assert_int_equal(config_parse_duration("1"), 1);

    assert_int_equal(config_parse_duration(NULL), -1);
    assert_int_equal(config_parse_duration(""), -1);
    assert_int_equal(config_parse_duration("0"), -1);
    assert_int_equal(config_parse_duration("0s"), -1);
    assert_int_equal(config_parse_duration("-5m"), -1);
    assert_int_equal(config_parse_duration("+5m"), -1);
    assert_int_equal(config_parse_duration(" 5m"), -1);
    assert_int_equal(config_parse_duration("5m "), -1);
    assert_int_equal(config_parse_duration("5 m"), -1);
    assert_int_equal(config_parse_duration("m"), -1);
    assert_int_equal(config_parse_duration("soon"), -1);
    assert_int_equal(config_parse_duration("5ms"), -1);
    assert_int_equal(config_parse_duration("5w"), -1);
    assert_int_equal(config_parse_duration("1.5h"), -1);
    assert_int_equal(config_parse_duration("99999999999999999d"), -1);
    assert_int_equal(config_parse_duration("99999999999999999999"), -1);
    assert_int_equal(config_parse_duration("99999999999999999999999999d"), -1);
    /* Large but still representable in milliseconds. */
    assert_int_equal(config_parse_duration("36500d"), 36500LL * 86400);
}

/* --- config_parse_dotenv_line --- */

static int dotenv(const char *line, char *name, char *value)
{
    name[0] = value[0] = '\0';
    return config_parse_dotenv_line(line, name, 64, value, 256);
}

static void test_dotenv_line(void **state)
{
    (void)state;
    char name[64], value[256];

    assert_int_equal(dotenv("", name, value), 0);
    assert_int_equal(dotenv("   \t\n", name, value), 0);
    assert_int_equal(dotenv("# a comment", name, value), 0);
    assert_int_equal(dotenv("   # indented comment = x", name, value), 0);

    assert_int_equal(dotenv("PORT=3001\n", name, value), 1);
    assert_string_equal(name, "PORT");
    assert_string_equal(value, "3001");

    assert_int_equal(dotenv("export JWT_EXPIRES_IN=15m", name, value), 1);
    assert_string_equal(name, "JWT_EXPIRES_IN");
    assert_string_equal(value, "15m");

    assert_int_equal(dotenv("  NAME_2  =   spaced value  \r\n", name, value), 1);
    assert_string_equal(name, "NAME_2");
    assert_string_equal(value, "spaced value");

    assert_int_equal(dotenv("A=\"double # quoted\"", name, value), 1);
    assert_string_equal(name, "A");
    assert_string_equal(value, "double # quoted");

    assert_int_equal(dotenv("B='single \"quoted\"'", name, value), 1);
    assert_string_equal(value, "single \"quoted\"");

    assert_int_equal(dotenv("C=\"\"", name, value), 1);
    assert_string_equal(value, "");

    assert_int_equal(dotenv("EMPTY=", name, value), 1);
    assert_string_equal(name, "EMPTY");
    assert_string_equal(value, "");

    assert_int_equal(dotenv("URL=postgres://u:p@h/db?x=1", name, value), 1);
    assert_string_equal(value, "postgres://u:p@h/db?x=1");

    /* Malformed lines. */
    assert_int_equal(dotenv("A=\"unterminated", name, value), -1);
    assert_int_equal(dotenv("A='unterminated", name, value), -1);
    assert_int_equal(dotenv("A=\"mismatched'", name, value), -1);
    assert_int_equal(dotenv("A=\"", name, value), -1);
    assert_int_equal(dotenv("NO_EQUALS_SIGN", name, value), -1);
    assert_int_equal(dotenv("export", name, value), -1);
    assert_int_equal(dotenv("=value", name, value), -1);
    assert_int_equal(dotenv("BAD-NAME=1", name, value), -1);
    assert_int_equal(dotenv("BAD NAME=1", name, value), -1);
    assert_int_equal(dotenv("BAD.NAME=1", name, value), -1);
    assert_int_equal(dotenv("$NAME=1", name, value), -1);

    /* Too long for the name or value buffers. */
    char line[400];
    memset(line, 'N', 64);
    strcpy(line + 64, "=1");
    assert_int_equal(dotenv(line, name, value), -1);
    strcpy(line, "V=");
    memset(line + 2, 'v', 256);
    line[258] = '\0';
    assert_int_equal(dotenv(line, name, value), -1);

    /* A line longer than the internal buffer is refused, not overflowed. */
    char *huge = malloc(5000);
    assert_non_null(huge);
    strcpy(huge, "HUGE=");
    memset(huge + 5, 'x', 4990);
    huge[4995] = '\0';
    char big_value[5000];
    assert_int_equal(config_parse_dotenv_line(huge, name, sizeof name, big_value, sizeof big_value), -1);
    free(huge);
}

/* --- config_ensure_jwt_secret --- */

typedef struct {
    char dir[64];
    char file[128];
} tmp_data;

static int make_tmp(void **state)
{
    tmp_data *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    strcpy(t->dir, "/tmp/zc-config-test-XXXXXX");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    snprintf(t->file, sizeof t->file, "%s/jwt-secret", t->dir);
    *state = t;
    return 0;
}

static int remove_tmp(void **state)
{
    tmp_data *t = *state;
    unlink(t->file);
    rmdir(t->dir);
    free(t);
    return 0;
}

static void test_jwt_secret_created_then_reused(void **state)
{
    tmp_data *t = *state;
    static config first, second;
    char err[256];
    var vars[] = { { "DATA_DIR", t->dir }, { NULL, NULL } };

    assert_int_equal(parse(&first, vars, err, sizeof err), 0);
    assert_int_equal(first.jwt_secret_len, 0);
    assert_int_equal(config_ensure_jwt_secret(&first, err, sizeof err), 0);
    assert_true(first.jwt_secret_generated);
    assert_true(first.jwt_secret_len >= 32);

    struct stat st;
    assert_int_equal(stat(t->file, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(st.st_size >= 32);
    assert_int_equal((size_t)st.st_size, first.jwt_secret_len);

    assert_int_equal(parse(&second, vars, err, sizeof err), 0);
    assert_int_equal(second.jwt_secret_len, 0);
    assert_int_equal(config_ensure_jwt_secret(&second, err, sizeof err), 0);
    assert_int_equal(second.jwt_secret_len, first.jwt_secret_len);
    assert_memory_equal(second.jwt_secret, first.jwt_secret, first.jwt_secret_len);
}

static void test_jwt_secret_from_env_untouched(void **state)
{
    tmp_data *t = *state;
    static config cfg;
    char err[256];
    var vars[] = { { "DATA_DIR", t->dir }, { "JWT_SECRET", SECRET_32 }, { NULL, NULL } };
    assert_int_equal(parse(&cfg, vars, err, sizeof err), 0);
    assert_int_equal(config_ensure_jwt_secret(&cfg, err, sizeof err), 0);
    assert_false(cfg.jwt_secret_generated);
    assert_int_equal(cfg.jwt_secret_len, 32);
    assert_memory_equal(cfg.jwt_secret, SECRET_32, 32);
    assert_int_equal(access(t->file, F_OK), -1);
}

static void test_jwt_secret_too_short_file_refused(void **state)
{
    tmp_data *t = *state;
    int fd = open(t->file, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    const char short_secret[] = "only-twenty-bytes-xx\n";
    assert_int_equal(write(fd, short_secret, sizeof short_secret - 1), (ssize_t)(sizeof short_secret - 1));
    close(fd);

    static config cfg;
    char err[256];
    var vars[] = { { "DATA_DIR", t->dir }, { NULL, NULL } };
    assert_int_equal(parse(&cfg, vars, err, sizeof err), 0);
    assert_int_equal(config_ensure_jwt_secret(&cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "JWT_SECRET"));
    /* The short file is left alone, not replaced. */
    struct stat st;
    assert_int_equal(stat(t->file, &st), 0);
    assert_int_equal(st.st_size, (off_t)(sizeof short_secret - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_data_dir_paths_and_port_in_public_url),
        cmocka_unit_test(test_public_url_trailing_slash_trimmed),
        cmocka_unit_test(test_good_values),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_realtime_settings),
        cmocka_unit_test(test_bucket_without_region),
        cmocka_unit_test(test_production_requires_secret),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_dotenv_line),
        cmocka_unit_test_setup_teardown(test_jwt_secret_created_then_reused, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_jwt_secret_from_env_untouched, make_tmp, remove_tmp),
        cmocka_unit_test_setup_teardown(test_jwt_secret_too_short_file_refused, make_tmp, remove_tmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
