/*
 * Copyright (C) collab
 *
 * Prints the module's database schema as SQL: its own migrations
 * (storage/ngx_collab_schema.c), in a transaction that leaves the
 * database at their version, in WAL mode as the module keeps it.  The
 * runner's tests and bench make their databases with it:
 *
 *     collab-schema | sqlite3 collab.db
 */

#include <stdio.h>

#include "ngx_collab_schema.h"


int
main(void)
{
    size_t  i;

    printf("PRAGMA journal_mode = WAL;\nBEGIN;\n");

    for (i = 0; i < ngx_collab_nmigrations; i++) {
        printf("%s\n", ngx_collab_migrations[i]);
    }

    printf("PRAGMA user_version = %zu;\nCOMMIT;\n", ngx_collab_nmigrations);

    return 0;
}
