/*
 * Copyright (C) collab
 *
 * Test driver for json-vs-node.t: reads one JSON text per line from
 * stdin and prints collab_json_canonical() of it, one line each, or
 * "!error" when the text is rejected.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_collab_json.h"


int
main(void)
{
    char     *line, *out;
    size_t    cap, outlen;
    ssize_t   n;

    line = NULL;
    cap = 0;

    while ((n = getline(&line, &cap, stdin)) != -1) {
        if (n > 0 && line[n - 1] == '\n') {
            n--;
        }

        out = collab_json_canonical(line, (size_t) n, &outlen);

        if (out == NULL) {
            fputs("!error\n", stdout);
            continue;
        }

        fwrite(out, 1, outlen, stdout);
        fputc('\n', stdout);
        free(out);
    }

    free(line);

    if (fflush(stdout) != 0 || ferror(stdin)) {
        return 1;
    }

    return 0;
}
