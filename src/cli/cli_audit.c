/*
 * cli_audit.c - "lienthong audit": the node's audit trail for inspectors.
 *
 *   lienthong audit export --data DIR [--from YYYY-MM-DD] [--to YYYY-MM-DD]
 *                          [--output FILE]
 *
 * Every access recorded on the node (its own and those its children sent
 * up), oldest first, as NDJSON: the shape of GET /api/v1/audit's items,
 * client addresses included.  It reads a snapshot from a reader, so it may
 * run next to a serving node; accesses still in the server's queue (at
 * most the last 150 ms) are not in it yet.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/commands.h"
#include "core/date.h"
#include "registry/registry.h"
#include "core/banned.h"

static const char usage_text[] =
    "usage: lienthong audit export --data DIR [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
    "                              [--output FILE]\n"
    "\n"
    "Write the node's audit trail (who read which record, when, from where,\n"
    "under which purpose) as NDJSON, oldest first.\n"
    "\n"
    "options:\n"
    "  --data DIR      the node's data directory\n"
    "  --from DAY      accesses from this day on (Vietnam time)\n"
    "  --to DAY        accesses up to this day, included\n"
    "  --output FILE   write there instead of standard output\n";

static enum lt_code put_line(const char *line, size_t len, void *arg, struct lt_error *err)
{
    FILE *out = arg;

    if (fwrite(line, 1, len, out) != len || fputc('\n', out) == EOF) {
        return lt_error_set(err, LT_EIO, "could not write the export: %s", strerror(errno));
    }
    return LT_OK;
}

static int export_trail(const char *dir, const struct audit_filter *f, const char *output)
{
    struct store_options so;
    struct node *n = NULL;
    struct lt_error err;
    FILE *out = stdout;
    enum lt_code rc;

    store_options_default(&so);
    so.readers = 1;
    if (node_open(dir, &so, &n, &err) != LT_OK) {
        lt_error_print(&err, stderr);
        return EXIT_FAILED;
    }
    if (output != NULL && (out = fopen(output, "w")) == NULL) {
        lt_error_set(&err, LT_EIO, "could not create \"%s\": %s", output, strerror(errno));
        lt_error_print(&err, stderr);
        node_close(n);
        return EXIT_FAILED;
    }
    rc = audit_export(node_store(n), f, put_line, out, &err);
    if ((fflush(out) != 0 || (output != NULL && fclose(out) != 0)) && rc == LT_OK) {
        rc = lt_error_set(&err, LT_EIO, "could not write the export: %s", strerror(errno));
    }
    if (rc != LT_OK) {
        lt_error_print(&err, stderr);
    }
    node_close(n);
    return rc == LT_OK ? EXIT_OK : EXIT_FAILED;
}

static int bad_day(const char *opt, struct lt_error *err)
{
    lt_error_hint(err, "write %s as YYYY-MM-DD", opt);
    lt_error_print(err, stderr);
    return EXIT_USAGE;
}

int cmd_audit(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' }, { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },   { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
    };
    struct audit_filter f;
    struct lt_error err;
    const char *dir = NULL, *output = NULL;
    int32_t day;
    int c;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "export") != 0) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    memset(&f, 0, sizeof(f));
    f.subject_today = DATE_MIN;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'f':
            if (date_parse(optarg, &day, &err) != LT_OK) {
                return bad_day("--from", &err);
            }
            f.from_ms = audit_day_start_ms(day);
            break;
        case 't':
            if (date_parse(optarg, &day, &err) != LT_OK) {
                return bad_day("--to", &err);
            }
            f.to_ms = audit_day_start_ms(day + 1);
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (dir == NULL || optind != argc - 1) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    return export_trail(dir, &f, output);
}
