/*
 * Copyright (C) collab
 *
 * The TAP output of the C unit tests: tap() records one test, with an
 * optional diagnostic; tap_done() prints the plan and the results and
 * gives the exit status.
 */

#ifndef _COLLAB_TAP_H_INCLUDED_
#define _COLLAB_TAP_H_INCLUDED_

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct {
    int    ok;
    char  *line;
} tap_result_t;


static tap_result_t  *results;
static size_t         nresults, cresults;


static void
tap(int ok, const char *diag, const char *fmt, ...)
{
    char          name[256], *line;
    size_t        n;
    va_list       ap;
    tap_result_t  *r;

    va_start(ap, fmt);
    vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);

    if (nresults == cresults) {
        cresults = cresults ? cresults * 2 : 64;
        r = realloc(results, cresults * sizeof(tap_result_t));
        if (r == NULL) {
            abort();
        }

        results = r;
    }

    n = strlen(name) + (diag ? strlen(diag) : 0) + 64;
    line = malloc(n);
    if (line == NULL) {
        abort();
    }

    snprintf(line, n, "%s %zu - %s%s%s", ok ? "ok" : "not ok",
             nresults + 1, name, diag ? "\n" : "", diag ? diag : "");

    results[nresults].ok = ok;
    results[nresults].line = line;
    nresults++;
}


static int
tap_done(void)
{
    size_t  i;
    int     failed;

    printf("1..%zu\n", nresults);

    failed = 0;

    for (i = 0; i < nresults; i++) {
        printf("%s\n", results[i].line);
        failed += !results[i].ok;
        free(results[i].line);
    }

    free(results);

    if (failed) {
        printf("# %d of %zu tests failed\n", failed, nresults);
    }

    return failed ? 1 : 0;
}

#endif /* _COLLAB_TAP_H_INCLUDED_ */
