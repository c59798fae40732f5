/* The sub-commands of the zencast binary, and what they share at start-up. */
#ifndef ZC_COMMANDS_H
#define ZC_COMMANDS_H

#include <stdbool.h>
#include <uv.h>

#include "config.h"
#include "store/db.h"

int cmd_serve(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_storage(int argc, char **argv);

/* True (and the usage printed to stdout) when argv asks for --help; exits 2 on an
 * unknown option. */
bool cli_wants_help(int argc, char **argv, const char *usage);

/* Loads the configuration (.env and the environment) and sets the log level.
 * Prints the error naming the variable and returns -1 on a bad value. */
int cli_load_config(config *cfg);

/* Opens the configured database on loop and brings its schema up to date. */
db *cli_open_database(uv_loop_t *loop, const config *cfg, bool migrate);

/* Opens the configured object storage (S3 when AWS_S3_BUCKET is set, else the local folder). */
struct storage *cli_open_storage(uv_loop_t *loop, const config *cfg);

/* Starts a render worker named host:pid on the loop. */
struct render_worker *cli_start_render_worker(uv_loop_t *loop, const config *cfg, db *d, struct storage *s);

/* Runs the loop until every handle has closed, then closes it. */
void cli_drain_loop(uv_loop_t *loop);

#endif
