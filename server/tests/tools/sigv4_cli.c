/* Prints a SigV4 presigned URL for the request described on the command line; used by
 * sigv4_botocore_check.py to compare against botocore.
 *
 *   sigv4_cli [--debug] METHOD SCHEME HOST PATH REGION ACCESS_KEY SECRET TOKEN|- UNIX_TIME EXPIRES
 *             [-H name:value]... [-Q name=value]...
 *
 * With --debug the canonical request and string to sign go to stderr. Exit 0, 1 when
 * signing fails, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/sigv4.h"

#define MAX_PAIRS 64
#define OUT_SIZE 65536

typedef struct {
    const char *names[MAX_PAIRS];
    const char *values[MAX_PAIRS];
    int n;
} pairs;

/* Splits "name<sep>value" in place (argv strings are writable). */
static int add_pair(pairs *p, char *arg, char sep) {
    char *at = strchr(arg, sep);
    if (at == NULL || p->n >= MAX_PAIRS) return -1;
    *at = '\0';
    p->names[p->n] = arg;
    p->values[p->n] = at + 1;
    p->n++;
    return 0;
}

static int parse_extras(int argc, char **argv, pairs *headers, pairs *query) {
    for (int i = 0; i < argc; i += 2) {
        if (i + 1 >= argc) return -1;
        if (strcmp(argv[i], "-H") == 0) {
            if (add_pair(headers, argv[i + 1], ':') != 0) return -1;
        } else if (strcmp(argv[i], "-Q") == 0) {
            if (add_pair(query, argv[i + 1], '=') != 0) return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: sigv4_cli [--debug] METHOD SCHEME HOST PATH REGION ACCESS_KEY SECRET "
                    "TOKEN|- UNIX_TIME EXPIRES [-H name:value]... [-Q name=value]...\n");
    return 2;
}

static void print_debug(const sigv4_credentials *cred, const sigv4_request *req) {
    char *canonical = malloc(OUT_SIZE), *to_sign = malloc(OUT_SIZE);

    if (canonical && to_sign &&
        sigv4_presign_debug(cred, req, canonical, OUT_SIZE, to_sign, OUT_SIZE) == 0)
        fprintf(stderr, "--- canonical request ---\n%s\n--- string to sign ---\n%s\n", canonical,
                to_sign);
    free(canonical);
    free(to_sign);
}

int main(int argc, char **argv) {
    static char url[OUT_SIZE];
    pairs headers = {0}, query = {0};
    int debug = argc > 1 && strcmp(argv[1], "--debug") == 0;

    argv += debug;
    argc -= debug;
    if (argc < 11 || parse_extras(argc - 11, argv + 11, &headers, &query) != 0) return usage();
    sigv4_credentials cred = {
        .access_key_id = argv[6],
        .secret_access_key = argv[7],
        .session_token = strcmp(argv[8], "-") == 0 ? NULL : argv[8],
        .region = argv[5],
        .service = "s3",
    };
    sigv4_request req = {
        .method = argv[1],
        .scheme = argv[2],
        .host = argv[3],
        .path = argv[4],
        .signed_header_names = headers.names,
        .signed_header_values = headers.values,
        .nheaders = headers.n,
        .query_names = query.names,
        .query_values = query.values,
        .nquery = query.n,
        .now = (time_t)strtoll(argv[9], NULL, 10),
        .expires_seconds = atoi(argv[10]),
    };
    if (debug) print_debug(&cred, &req);
    if (sigv4_presign_url(&cred, &req, url, sizeof url) != 0) {
        fprintf(stderr, "sigv4_cli: signing failed (bad input?)\n");
        return 1;
    }
    puts(url);
    return 0;
}
