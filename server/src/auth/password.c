#include "auth/password.h"

#include <argon2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

/* OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane. */
#define ARGON2_T_COST 2
#define ARGON2_M_COST_KIB 19456
#define ARGON2_LANES 1
#define SALT_LEN 16
#define HASH_LEN 32

typedef struct {
    uv_work_t work;
    char password[PASSWORD_MAX_LEN + 1];
    char hash[PASSWORD_HASH_MAX];
    bool verify;
    bool ok;
    password_hash_cb hash_cb;
    password_verify_cb verify_cb;
    void *ctx;
} password_job;

static void hash_on_pool(uv_work_t *w)
{
    password_job *job = w->data;
    uint8_t salt[SALT_LEN];
    job->ok = crypto_random_bytes(salt, sizeof salt) == 0 &&
              argon2id_hash_encoded(ARGON2_T_COST, ARGON2_M_COST_KIB, ARGON2_LANES, job->password,
                                    strlen(job->password), salt, sizeof salt, HASH_LEN, job->hash,
                                    sizeof job->hash) == ARGON2_OK;
}

/* A real hash of a random password, made once, checked when the account is unknown
 * so that "no such account" takes as long as "wrong password". */
static char dummy_hash[PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy_hash(void)
{
    uint8_t salt[SALT_LEN], secret[24];
    char pw[2 * sizeof secret + 1];
    crypto_random_bytes(salt, sizeof salt);
    crypto_random_bytes(secret, sizeof secret);
    crypto_hex(secret, sizeof secret, pw);
    argon2id_hash_encoded(ARGON2_T_COST, ARGON2_M_COST_KIB, ARGON2_LANES, pw, strlen(pw), salt,
                          sizeof salt, HASH_LEN, dummy_hash, sizeof dummy_hash);
}

static void verify_on_pool(uv_work_t *w)
{
    password_job *job = w->data;
    bool dummy = job->hash[0] == '\0';
    if (dummy) {
        pthread_once(&dummy_once, make_dummy_hash);
        snprintf(job->hash, sizeof job->hash, "%s", dummy_hash);
    }
    job->ok = argon2id_verify(job->hash, job->password, strlen(job->password)) == ARGON2_OK && !dummy;
}

static void job_done(uv_work_t *w, int status)
{
    password_job *job = w->data;
    bool ok = status == 0 && job->ok;
    explicit_bzero(job->password, sizeof job->password);
    if (job->verify)
        job->verify_cb(ok, job->ctx);
    else
        job->hash_cb(ok ? job->hash : NULL, job->ctx);
    free(job);
}

static password_job *job_new(const char *password, void *ctx)
{
    if (strlen(password) > PASSWORD_MAX_LEN)
        return NULL;
    password_job *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    strcpy(job->password, password);
    job->work.data = job;
    job->ctx = ctx;
    return job;
}

int password_hash_async(uv_loop_t *loop, const char *password, password_hash_cb cb, void *ctx)
{
    password_job *job = job_new(password, ctx);
    if (!job)
        return -1;
    job->hash_cb = cb;
    if (uv_queue_work(loop, &job->work, hash_on_pool, job_done) != 0) {
        free(job);
        return -1;
    }
    return 0;
}

int password_verify_async(uv_loop_t *loop, const char *hash, const char *password,
                          password_verify_cb cb, void *ctx)
{
    password_job *job = job_new(password, ctx);
    if (!job)
        return -1;
    job->verify = true;
    job->verify_cb = cb;
    snprintf(job->hash, sizeof job->hash, "%s", hash ? hash : "");
    if (uv_queue_work(loop, &job->work, verify_on_pool, job_done) != 0) {
        free(job);
        return -1;
    }
    return 0;
}
