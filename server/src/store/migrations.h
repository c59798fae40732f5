/* The SQL migrations compiled into the binary, in version order. */
#ifndef ZC_MIGRATIONS_H
#define ZC_MIGRATIONS_H

typedef struct {
    int version;
    const char *name;
    const char *sql;
} migration;

extern const migration MIGRATIONS[];
extern const int MIGRATION_COUNT;

#endif
