/*
 * cli_export.c - "lienthong export": write a registry's records as CSV or NDJSON.
 *
 *   lienthong export --data DIR --kind KIND [--unit CODE] [--format csv|ndjson]
 *                    [--output FILE]
 *
 * Every record of the kind (of a commune, of a province's communes, or of
 * the whole node) in key order, each in its canonical shape: CSV with a
 * header of the kind's columns, which "lienthong import" reads back into
 * the same records, or NDJSON.  The records are read page by page from a
 * reader of the store, so an export may run next to a serving node; each
 * page is one snapshot.  A progress line is drawn on standard error when it
 * is a terminal.
 *
 * Every export is recorded in the node's audit trail before the first
 * record is written: actor "cli:<user>", client "local", the purpose of
 * --purpose, and the scope (kind and unit) rather than each key.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pwd.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/commands.h"
#include "core/buf.h"
#include "core/date.h"
#include "registry/registry.h"
#include "core/banned.h"

#define DUMP_FLAGS   (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))
#define LINE_CAP     (4 * 1024 * 1024) /* bytes of one output line: far above any record */
#define DRAW_SECONDS 0.1

static const char usage_text[] =
    "usage: lienthong export --data DIR --kind KIND [--unit CODE] [--format csv|ndjson]\n"
    "                        [--output FILE] [--purpose TEXT]\n"
    "\n"
    "Write every record of a registry in key order, as CSV (with a header of\n"
    "its columns, which \"lienthong import\" reads back) or as NDJSON.\n"
    "\n"
    "options:\n"
    "  --data DIR      the node's data directory\n"
    "  --kind KIND     people, residences, households, parcels, benefits or businesses\n"
    "  --unit CODE     only the records of a commune or of a province's communes\n"
    "  --format FMT    csv or ndjson (default: from --output's extension, else csv)\n"
    "  --output FILE   write there instead of standard output\n"
    "  --purpose TEXT  why, for the audit trail (default \"command-line export\")\n";

struct exp {
    struct node *n;
    enum registry_kind kind;
    const char *unit;
    const char *purpose;
    bool csv;
    FILE *out;
    const char *out_name;
    int64_t count;
    bool tty;
    double start, last_draw;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage_error(const char *fmt, const char *arg)
{
    struct lt_error err;

    lt_error_set(&err, LT_EINVAL, fmt, arg);
    lt_error_hint(&err, "run \"lienthong export --help\" for the options");
    lt_error_print(&err, stderr);
    return EXIT_USAGE;
}

static enum lt_code write_header(struct exp *x, struct lt_error *err)
{
    const char *const *cols = registry_columns(x->kind);

    for (size_t i = 0; cols[i] != NULL; i++) {
        fprintf(x->out, "%s%s", i ? "," : "", cols[i]);
    }
    if (fputc('\n', x->out) == EOF) {
        return lt_error_set(err, LT_EIO, "could not write to %s: %s", x->out_name, strerror(errno));
    }
    return LT_OK;
}

static enum lt_code write_record(struct exp *x, const json_t *rec, struct buf *line,
                                 struct lt_error *err)
{
    buf_reset(line);
    if (x->csv) {
        if (registry_record_to_csv(x->kind, rec, line) != LT_OK) {
            return lt_error_set(err, LT_ETOOBIG, "a %s record is over %d bytes as CSV",
                                registry_kind_name(x->kind), LINE_CAP);
        }
    } else {
        char *text = json_dumps(rec, DUMP_FLAGS);
        enum lt_code rc = text != NULL ? buf_append_str(line, text) : LT_EINTERNAL;

        free(text);
        if (rc == LT_OK) {
            rc = buf_append_char(line, '\n');
        }
        if (rc != LT_OK) {
            return lt_error_set(err, rc, "a %s record could not be written as JSON",
                                registry_kind_name(x->kind));
        }
    }
    if (fwrite(line->data, 1, line->len, x->out) != line->len) {
        return lt_error_set(err, LT_EIO, "could not write to %s: %s", x->out_name, strerror(errno));
    }
    return LT_OK;
}

static void draw(struct exp *x, bool final)
{
    double now = now_s();

    if (!x->tty || (!final && now - x->last_draw < DRAW_SECONDS)) {
        return;
    }
    x->last_draw = now;
    fprintf(stderr, "\r\033[K%lld records", (long long)x->count);
    if (final) {
        fputs("\r\033[K", stderr);
    }
}

/* Page through the registry in key order. */
/* XXX: each page is its own snapshot: rows written during an export may show in part */
static enum lt_code export_all(struct exp *x, struct lt_error *err)
{
    struct buf line;
    char *after = NULL;
    enum lt_code rc = LT_OK;

    buf_init(&line, LINE_CAP);
    if (x->csv) {
        rc = write_header(x, err);
    }
    while (rc == LT_OK) {
        json_t *page = NULL, *items, *rec;
        const char *next;
        size_t i;

        rc = registry_list(x->n, x->kind, x->unit, after, REGISTRY_LIST_MAX, &page, err);
        if (rc != LT_OK) {
            break;
        }
        items = json_object_get(page, "items");
        json_array_foreach(items, i, rec)
        {
            rc = write_record(x, rec, &line, err);
            if (rc != LT_OK) {
                break;
            }
            x->count++;
        }
        next = json_string_value(json_object_get(page, "next"));
        free(after);
        after = next != NULL ? xstrdup(next) : NULL;
        json_decref(page);
        draw(x, false);
        if (after == NULL) {
            break;
        }
    }
    draw(x, true);
    free(after);
    buf_release(&line);
    return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Record the export in the audit trail, durably, before anything is written. */
static enum lt_code record_export(struct exp *x, struct lt_error *err)
{
    struct passwd *pw = getpwuid(geteuid());
    char actor[AUDIT_ACTOR_MAX], scope[AUDIT_KEY_MAX];
    struct audit_subject subj;
    struct audit_access acc;

    snprintf(actor, sizeof(actor), "cli:%.48s", pw != NULL ? pw->pw_name : "unknown");
    /* XXX: the scope, not each key: an export is not in the citizens' access logs. */
    snprintf(scope, sizeof(scope), "unit=%.20s", x->unit != NULL ? x->unit : "VN");
    subj.kind = registry_kind_name(x->kind);
    subj.key = scope;
    subj.person = "";
    memset(&acc, 0, sizeof(acc));
    acc.actor = actor;
    acc.role = "operator";
    acc.unit = "";
    acc.client = "local";
    acc.purpose = x->purpose;
    acc.action = "export";
    acc.sealed_until = DATE_MIN;
    acc.subjects = &subj;
    acc.nsubjects = 1;
    return audit_write_now(node_store(x->n), node_evlog(x->n), &acc, err);
}

static int run(struct exp *x, const char *dir, const char *output)
{
    struct store_options so;
    struct lt_error err;
    int status = EXIT_FAILED;
    enum lt_code rc;

    store_options_default(&so);
    so.readers = 1;
    rc = node_open(dir, &so, &x->n, &err);
    if (rc != LT_OK) {
        lt_error_print(&err, stderr);
        return EXIT_FAILED;
    }
    if (record_export(x, &err) != LT_OK) {
        lt_error_print(&err, stderr);
        node_close(x->n);
        return EXIT_FAILED;
    }
    x->out = stdout;
    x->out_name = "standard output";
    if (output != NULL) {
        x->out = fopen(output, "w");
        x->out_name = output;
        if (x->out == NULL) {
            lt_error_set(&err, LT_EIO, "could not create \"%s\": %s", output, strerror(errno));
            lt_error_print(&err, stderr);
            node_close(x->n);
            return EXIT_FAILED;
        }
    }
    x->tty = isatty(STDERR_FILENO) == 1;
    x->start = now_s();
    rc = export_all(x, &err);
    if ((fflush(x->out) != 0 || (output != NULL && fclose(x->out) != 0)) && rc == LT_OK) {
        rc = lt_error_set(&err, LT_EIO, "could not write to %s: %s", x->out_name, strerror(errno));
    } else if (output != NULL && rc != LT_OK) {
        fclose(x->out);
    }
    if (rc == LT_OK) {
        fprintf(stderr, "exported %lld %s record%s in %.2f s\n", (long long)x->count,
                registry_kind_name(x->kind), x->count == 1 ? "" : "s", now_s() - x->start);
        status = EXIT_OK;
    } else {
        lt_error_print(&err, stderr);
    }
    node_close(x->n);
    return status;
}

int cmd_export(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },   { "kind", required_argument, NULL, 'k' },
        { "unit", required_argument, NULL, 'u' },   { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' }, { "purpose", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    struct exp x = { 0 };
    struct lt_error err;
    const char *dir = NULL, *output = NULL, *format = NULL;
    bool have_kind = false;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:k:u:f:o:p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'k':
            if (!registry_kind_parse(optarg, &x.kind)) {
                return usage_error("--kind \"%s\" is not a registry: people, residences, "
                                   "households, parcels, benefits or businesses",
                                   optarg);
            }
            have_kind = true;
            break;
        case 'u':
            x.unit = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "csv") != 0 && strcmp(optarg, "ndjson") != 0) {
                return usage_error("--format must be csv or ndjson, not \"%s\"", optarg);
            }
            format = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'p':
            if (audit_purpose_check(optarg, &err) != LT_OK) {
                lt_error_print(&err, stderr);
                return EXIT_USAGE;
            }
            x.purpose = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (dir == NULL || !have_kind || optind != argc) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (format == NULL) {
        format = output != NULL && (ends_with(output, ".ndjson") || ends_with(output, ".jsonl"))
                     ? "ndjson"
                     : "csv";
    }
    x.csv = strcmp(format, "csv") == 0;
    if (x.purpose == NULL) {
        x.purpose = "command-line export";
    }
    return run(&x, dir, output);
}
