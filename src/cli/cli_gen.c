/*
 * cli_gen.c - "lienthong gen": write synthetic registry data to files.
 *
 *   lienthong gen --units 00004,00008 [--people N] [--seed S] --out DIR
 *
 * One NDJSON file per registry in DIR (people.ndjson, households.ndjson,
 * residences.ndjson, parcels.ndjson, benefits.ndjson, businesses.ndjson),
 * each record in its canonical shape, ready for "lienthong import".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "core/buf.h"
#include "core/date.h"
#include "gen/gen.h"
#include "core/banned.h"

#define MAX_UNITS 256

static const char usage_text[] =
    "usage: lienthong gen --units CODE[,CODE...] --out DIR [options]\n"
    "\n"
    "Write realistic synthetic people, households, residences, parcels,\n"
    "benefits and businesses for today's communes (a province code means all\n"
    "of its communes), one NDJSON file per registry in DIR.\n"
    "\n"
    "options:\n"
    "  --units LIST   commune or province codes in force today\n"
    "  --people N     people per commune, in whole households: N or a few more\n"
    "                 (default 1000)\n"
    "  --seed S       the same seed gives the same data (default 1)\n"
    "  --out DIR      where to write (created if missing)\n";

struct sink {
    FILE *files[REG_KIND_COUNT];
    long counts[REG_KIND_COUNT];
};

static enum lt_code write_record(enum registry_kind kind, json_t *record, void *arg,
                                 struct lt_error *err)
{
    struct sink *s = arg;

    if (json_dumpf(record, s->files[kind], JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
        fputc('\n', s->files[kind]) == EOF) {
        return lt_error_set(err, LT_EIO, "could not write %s records: %s", registry_kind_name(kind),
                            strerror(errno));
    }
    s->counts[kind]++;
    return LT_OK;
}

static int fail(struct lt_error *err, int status)
{
    lt_error_print(err, stderr);
    return status;
}

int cmd_gen(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "units", required_argument, NULL, 'u' }, { "people", required_argument, NULL, 'p' },
        { "seed", required_argument, NULL, 's' },  { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 },
    };
    static const char *const file_names[REG_KIND_COUNT] = {
        [REG_PERSON] = "people",  [REG_RESIDENCE] = "residences", [REG_HOUSEHOLD] = "households",
        [REG_PARCEL] = "parcels", [REG_BENEFIT] = "benefits",     [REG_BUSINESS] = "businesses",
    };
    struct gen_options o = { .people = 1000, .seed = 1 };
    const char *units[MAX_UNITS];
    char *unit_list = NULL;
    const char *out = NULL;
    struct sink sink = { 0 };
    struct lt_error err;
    int status = EXIT_FAILED;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "u:p:s:o:h", longopts, NULL)) != -1) {
        char *end;

        switch (c) {
        case 'u':
            free(unit_list);
            unit_list = xstrdup(optarg);
            break;
        case 'p':
            o.people = strtol(optarg, &end, 10);
            if (*end != '\0' || o.people < 1 || o.people > 10000000) {
                lt_error_set(&err, LT_EINVAL, "--people must be a whole number from 1 to 10000000");
                free(unit_list);
                return fail(&err, EXIT_USAGE);
            }
            break;
        case 's':
            o.seed = strtoull(optarg, &end, 10);
            if (*end != '\0') {
                lt_error_set(&err, LT_EINVAL, "--seed must be a whole number");
                free(unit_list);
                return fail(&err, EXIT_USAGE);
            }
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            free(unit_list);
            return EXIT_OK;
        default:
            fputs(usage_text, stderr);
            free(unit_list);
            return EXIT_USAGE;
        }
    }
    if (unit_list == NULL || out == NULL || optind != argc) {
        fputs(usage_text, stderr);
        free(unit_list);
        return EXIT_USAGE;
    }
    {
        char *save = NULL;
        for (char *tok = strtok_r(unit_list, ",", &save); tok != NULL;
             tok = strtok_r(NULL, ",", &save)) {
            if (o.nunits == MAX_UNITS) {
                lt_error_set(&err, LT_EINVAL, "--units names more than %d units", MAX_UNITS);
                free(unit_list);
                return fail(&err, EXIT_USAGE);
            }
            units[o.nunits++] = tok;
        }
    }
    o.units = units;
    o.today = date_today();

    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        lt_error_set(&err, LT_EIO, "could not create \"%s\": %s", out, strerror(errno));
        free(unit_list);
        return fail(&err, EXIT_FAILED);
    }
    for (int k = 0; k < REG_KIND_COUNT; k++) {
        struct buf path;

        buf_init(&path, 4096);
        buf_printf(&path, "%s/%s.ndjson", out, file_names[k]);
        sink.files[k] = fopen(buf_str(&path), "w");
        if (sink.files[k] == NULL) {
            lt_error_set(&err, LT_EIO, "could not create \"%s\": %s", buf_str(&path),
                         strerror(errno));
            buf_release(&path);
            goto out;
        }
        buf_release(&path);
    }

    if (gen_run(units_builtin(), &o, write_record, &sink, &err) != LT_OK) {
        goto out;
    }
    status = EXIT_OK;
    for (int k = 0; k < REG_KIND_COUNT; k++) {
        fprintf(stderr, "%-11s %8ld  %s/%s.ndjson\n", file_names[k], sink.counts[k], out,
                file_names[k]);
    }

out:
    for (int k = 0; k < REG_KIND_COUNT; k++) {
        if (sink.files[k] != NULL && fclose(sink.files[k]) != 0 && status == EXIT_OK) {
            lt_error_set(&err, LT_EIO, "could not write in \"%s\": %s", out, strerror(errno));
            status = EXIT_FAILED;
        }
    }
    free(unit_list);
    if (status != EXIT_OK) {
        lt_error_print(&err, stderr);
    }
    return status;
}
