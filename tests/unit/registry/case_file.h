/*
 * case_file.h - reading the data-driven cases of tests/data/registry.
 *
 * A case file holds one case per line, fields separated by blanks, the
 * last field being the rest of the line; '#' starts a comment line.  Files
 * are found from this source file's path (__FILE__ as the compiler saw it,
 * relative to the build directory where the tests also run).
 */
#ifndef LT_TEST_CASE_FILE_H
#define LT_TEST_CASE_FILE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CASE_FIELDS_MAX 8
#define CASE_LINE_MAX   4096

struct case_line {
    int lineno;
    int nf;
    char *f[CASE_FIELDS_MAX];
    char buf[CASE_LINE_MAX];
};

/* The path of a file under tests/data/registry. */
static inline void case_path(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/data/registry/%s", LT_TESTS_DIR, name);
}

static inline FILE *case_open(const char *name)
{
    char path[1024];
    FILE *f;

    case_path(name, path, sizeof(path));
    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot open case file %s\n", path);
        abort();
    }
    return f;
}

/*
 * Read the next case, split into at most nfields fields (the last gets the
 * rest of the line, trimmed).  Returns 0 at the end of the file.
 */
static inline int case_next(FILE *f, struct case_line *c, int nfields)
{
    while (fgets(c->buf, sizeof(c->buf), f) != NULL) {
        char *p = c->buf;
        size_t len = strlen(p);

        c->lineno++;
        while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' ')) {
            p[--len] = '\0';
        }
        if (len == 0 || p[0] == '#') {
            continue;
        }
        c->nf = 0;
        while (*p && c->nf < nfields) {
            while (*p == ' ' || *p == '\t') {
                p++;
            }
            c->f[c->nf++] = p;
            if (c->nf == nfields) {
                break;
            }
            while (*p && *p != ' ' && *p != '\t') {
                p++;
            }
            if (*p) {
                *p++ = '\0';
            }
        }
        return 1;
    }
    return 0;
}

#endif
