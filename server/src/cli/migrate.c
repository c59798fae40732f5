#include "cli/commands.h"
#include "log.h"

static const char USAGE[] =
    "Usage: zencast migrate\n\n"
    "Applies every database migration not yet applied, then exits.\n"
    "The database is DATABASE_URL (PostgreSQL), or SQLite under DATA_DIR when unset.\n";

int cmd_migrate(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, USAGE))
        return 0;
    config cfg;
    if (cli_load_config(&cfg) < 0)
        return 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    db *d = cli_open_database(&loop, &cfg, true);
    if (!d)
        return 1;
    db_close(d);
    cli_drain_loop(&loop);
    log_info("migrations up to date");
    return 0;
}
