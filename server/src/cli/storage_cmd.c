/* zencast storage init: prepares the object storage for uploads. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "log.h"
#include "storage/s3_bucket_rules.h"
#include "storage/storage_local.h"

static const char USAGE[] =
    "Usage: zencast storage init\n\n"
    "Prepares the object storage. On S3 (AWS_S3_BUCKET set): applies the bucket's CORS rules\n"
    "(ALLOWED_ORIGINS may PUT and GET) and a lifecycle rule deleting raw chunks under recordings/\n"
    "RAW_RETENTION after upload. On the local folder: creates DATA_DIR/objects; the server\n"
    "itself deletes raw chunks RAW_RETENTION after their take rendered.\n";

static int init_s3(const config *cfg)
{
    storage_s3_options opts = { cfg->s3_bucket, cfg->s3_region, cfg->s3_endpoint, cfg->aws_access_key_id,
                                cfg->aws_secret_access_key, "" };
    char err[512];
    int days = (int)((cfg->raw_retention_s + 86399) / 86400);
    if (s3_apply_bucket_rules(&opts, cfg->allowed_origins, days, err, sizeof err) < 0) {
        log_error("storage init: %s", err);
        return 1;
    }
    log_info("storage init: bucket %s: CORS for %s, raw chunks expire after %d day(s)", cfg->s3_bucket,
             cfg->allowed_origins, days);
    return 0;
}

static int init_local(const config *cfg)
{
    char probe[700];
    snprintf(probe, sizeof probe, "%s/", cfg->objects_dir);
    if (storage_local_make_parents(probe) < 0) {
        log_error("storage init: cannot create %s", cfg->objects_dir);
        return 1;
    }
    log_info("storage init: local folder %s ready", cfg->objects_dir);
    return 0;
}

int cmd_storage(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "init") != 0) {
        if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
            fputs(USAGE, stdout);
            return 0;
        }
        fputs(USAGE, stderr);
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(USAGE, stdout);
            return 0;
        }
        fprintf(stderr, "zencast storage init: unknown option %s\n\n%s", argv[i], USAGE);
        return 2;
    }
    config cfg;
    if (cli_load_config(&cfg) < 0)
        return 1;
    return cfg.s3_bucket[0] ? init_s3(&cfg) : init_local(&cfg);
}
