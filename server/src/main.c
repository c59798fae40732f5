/* zencast: the server, the render worker and the migrations, in one binary. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static const char USAGE[] =
    "Usage: zencast <command> [--help]\n\n"
    "Commands:\n"
    "  serve     HTTP API, WebSocket signalling, the web app and an embedded render worker\n"
    "  worker    a render worker only (run many, on many machines)\n"
    "  migrate   apply the database migrations and exit\n"
    "  storage   storage init: prepare the bucket (CORS, lifecycle) or the local folder\n\n"
    "Configuration comes from the environment and ./.env; see .env.example.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(USAGE, stderr);
        return 2;
    }
    const char *command = argv[1];
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 || strcmp(command, "help") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (strcmp(command, "serve") == 0)
        return cmd_serve(argc, argv);
    if (strcmp(command, "worker") == 0)
        return cmd_worker(argc, argv);
    if (strcmp(command, "migrate") == 0)
        return cmd_migrate(argc, argv);
    if (strcmp(command, "storage") == 0)
        return cmd_storage(argc, argv);
    fprintf(stderr, "zencast: unknown command %s\n\n%s", command, USAGE);
    return 2;
}
