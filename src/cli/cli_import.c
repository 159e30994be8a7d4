/*
 * cli_import.c - "lienthong import": load a CSV or NDJSON file into a registry.
 *
 *   lienthong import --data DIR [--kind KIND] [--format csv|ndjson]
 *                    [--all-or-nothing] [--errors FILE] FILE|-
 *
 * The kind and the format come from the file name when not given
 * ("people.csv", "residence.ndjson", "people-2025.csv"); standard input
 * needs both.  Good rows
 * go in, each refused row is listed on standard error (the first
 * STDERR_ROWS_MAX of them) and, with --errors, in a CSV file of line, field,
 * code and message.  A progress bar is drawn on standard error when it is a
 * terminal; a summary line ends every run.  Exit status: 0 every row
 * written, 1 some refused (with --all-or-nothing: then none written) or the
 * import failed, 2 a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/buf.h"
#include "core/utf8.h"
#include "evlog/evlog.h"
#include "import/import.h"
#include "registry/registry.h"
#include "core/banned.h"

#define STDERR_ROWS_MAX  1000
#define BAR_INTERVAL     0.1 /* seconds between redraws of the progress bar */
#define BAR_WIDTH        30
#define IMPORT_CACHE_KIB (512 * 1024) /* the writer's page cache while importing */

static const char usage_text[] =
    "usage: lienthong import --data DIR [--kind KIND] [--format csv|ndjson]\n"
    "                        [--all-or-nothing] [--errors FILE] FILE|-\n"
    "\n"
    "Load records into a registry of a node: people, residences, households,\n"
    "parcels, benefits or businesses.  A CSV file starts with a header naming\n"
    "the columns of the registry; an NDJSON file holds one record per line.\n"
    "Records that refer to others (a residence to its person) need those\n"
    "imported first, earlier in the same file or before.\n"
    "\n"
    "options:\n"
    "  --data DIR         the node's data directory\n"
    "  --kind KIND        the registry (default: from the file name, e.g. people.csv,\n"
    "                     people-2025.csv)\n"
    "  --format FMT       csv or ndjson (default: from the file name's extension)\n"
    "  --all-or-nothing   write nothing if any row is refused\n"
    "  --errors FILE      also write the refused rows to FILE as CSV\n"
    "                     (line,field,code,message)\n"
    "\n"
    "Exit status: 0 all rows written, 1 some refused or the import failed, 2 usage.\n";

struct ui {
    const char *name; /* the input as messages name it */
    bool tty;
    uint64_t size; /* of the input, 0 if unknown */
    double start, last_draw;
    bool drawn; /* a progress bar is on the terminal's last line */
    FILE *errors;
    const char *errors_path;
    bool errors_failed;
    long printed;
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
    lt_error_hint(&err, "run \"lienthong import --help\" for the options");
    lt_error_print(&err, stderr);
    return EXIT_USAGE;
}

static void clear_bar(struct ui *ui)
{
    if (ui->drawn) {
        fputs("\r\033[K", stderr);
        ui->drawn = false;
    }
}

/* One CSV cell of the errors file, quoted when it must be. */
static void csv_cell(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') {
            fputc('"', f);
        }
        fputc(*s, f);
    }
    fputc('"', f);
}

static void on_refused(void *arg, long line, const struct lt_error *why)
{
    struct ui *ui = arg;

    if (ui->printed < STDERR_ROWS_MAX) {
        clear_bar(ui);
        fprintf(stderr, "%s:%ld: %s\n", ui->name, line, why->message);
    } else if (ui->printed == STDERR_ROWS_MAX) {
        clear_bar(ui);
        fprintf(stderr, "%s: more refused rows are not shown here%s\n", ui->name,
                ui->errors != NULL ? " (all are in the --errors file)" : "; use --errors FILE");
    }
    ui->printed++;
    if (ui->errors != NULL) {
        fprintf(ui->errors, "%ld,", line);
        csv_cell(ui->errors, why->field);
        fprintf(ui->errors, ",%s,", lt_code_name(why->code));
        csv_cell(ui->errors, why->message);
        fputc('\n', ui->errors);
    }
}

static void on_progress(void *arg, const struct import_stats *st)
{
    struct ui *ui = arg;
    double now = now_s();
    double secs = now - ui->start;
    int filled;

    if (!ui->tty || now - ui->last_draw < BAR_INTERVAL) {
        return;
    }
    ui->last_draw = now;
    fputs("\r\033[K", stderr);
    if (ui->size > 0) {
        double frac = (double)st->bytes / (double)ui->size;

        frac = frac > 1 ? 1 : frac;
        filled = (int)(frac * BAR_WIDTH);
        fprintf(stderr, "[%.*s%*s] %3d%%  ", filled, "##############################",
                BAR_WIDTH - filled, "", (int)(frac * 100));
    }
    fprintf(stderr, "%lld rows  %.0f rows/s  %lld refused", (long long)st->read,
            secs > 0 ? (double)st->read / secs : 0.0, (long long)st->refused);
    ui->drawn = true;
}

/* The kind a file's stem names: all of it, else its first or last word ("people-2025"). */
static bool kind_of_stem(const char *stem, enum registry_kind *kind)
{
    size_t first = strcspn(stem, "-_. ");
    const char *last = stem + strlen(stem);
    char word[64];

    if (registry_kind_parse(stem, kind)) {
        return true;
    }
    if (first < sizeof(word)) {
        memcpy(word, stem, first);
        word[first] = '\0';
        if (registry_kind_parse(word, kind)) {
            return true;
        }
    }
    while (last > stem && strchr("-_. ", last[-1]) == NULL) {
        last--;
    }
    return last != stem && registry_kind_parse(last, kind);
}

/* "people.csv" -> the kind and format its name says, where it says them. */
static void from_name(const char *path, bool *have_kind, enum registry_kind *kind,
                      bool *have_format, enum import_format *format)
{
    const char *base = strrchr(path, '/');
    const char *dot;
    char stem[64];

    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    if (dot == NULL) {
        return;
    }
    if (!*have_format && (strcmp(dot, ".csv") == 0 || strcmp(dot, ".CSV") == 0)) {
        *format = IMPORT_CSV;
        *have_format = true;
    } else if (!*have_format && (strcmp(dot, ".ndjson") == 0 || strcmp(dot, ".jsonl") == 0)) {
        *format = IMPORT_NDJSON;
        *have_format = true;
    }
    if (!*have_kind && (size_t)(dot - base) < sizeof(stem)) {
        memcpy(stem, base, (size_t)(dot - base));
        stem[dot - base] = '\0';
        *have_kind = kind_of_stem(stem, kind);
    }
}

/* The events' cause: "import:<file name>", kept to valid, short text. */
static void make_cause(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/');
    size_t len;

    base = base ? base + 1 : path;
    len = strlen(base);
    if (strcmp(path, "-") == 0 || len == 0 || len > cap - 16 || !utf8_valid_text(base, len, NULL)) {
        snprintf(out, cap, "import:%s", strcmp(path, "-") == 0 ? "stdin" : "file");
        return;
    }
    snprintf(out, cap, "import:%s", base);
}

static void summary(const struct ui *ui, const struct import_stats *st, bool all, enum lt_code rc)
{
    double secs = now_s() - ui->start;

    fprintf(stderr, "%s: %lld rows read, %lld written, %lld refused in %.2f s (%.0f rows/s)%s\n",
            ui->name, (long long)st->read, (long long)st->written, (long long)st->refused, secs,
            secs > 0 ? (double)st->read / secs : 0.0,
            rc == LT_OK && all && st->refused > 0 ? "; --all-or-nothing: nothing written" : "");
}

struct args {
    const char *dir;
    const char *input;
    const char *errors;
    bool have_kind, have_format, all;
    enum registry_kind kind;
    enum import_format format;
};

static int run(const struct args *a)
{
    struct ui ui = { .name = strcmp(a->input, "-") == 0 ? "stdin" : a->input };
    struct import_options o = { .kind = a->kind, .all_or_nothing = a->all, .actor = "import" };
    struct import_stats st = { 0 };
    struct import_reader *r = NULL;
    struct store_options so;
    struct node *n = NULL;
    struct lt_error err;
    char cause[EVLOG_CAUSE_MAX];
    struct stat sb;
    int fd = 0, status = EXIT_FAILED;
    enum lt_code rc;

    if (strcmp(a->input, "-") != 0 && (fd = open(a->input, O_RDONLY | O_CLOEXEC)) < 0) {
        lt_error_set(&err, LT_EIO, "could not open \"%s\": %s", a->input, strerror(errno));
        lt_error_print(&err, stderr);
        return EXIT_FAILED;
    }
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        ui.size = (uint64_t)sb.st_size;
    }
    if (a->errors != NULL) {
        ui.errors = fopen(a->errors, "w");
        if (ui.errors == NULL) {
            lt_error_set(&err, LT_EIO, "could not create \"%s\": %s", a->errors, strerror(errno));
            goto fail;
        }
        ui.errors_path = a->errors;
        fputs("line,field,code,message\n", ui.errors);
    }
    store_options_default(&so);
    so.readers = 1;
    so.cache_kib = IMPORT_CACHE_KIB;
    rc = node_open(a->dir, &so, &n, &err);
    if (rc != LT_OK) {
        goto fail;
    }

    make_cause(a->input, cause, sizeof(cause));
    o.cause = cause;
    o.refused = on_refused;
    o.progress = on_progress;
    o.arg = &ui;
    ui.tty = isatty(STDERR_FILENO) == 1;
    ui.start = now_s();
    r = import_reader_fd(fd, a->format);
    rc = import_run(n, r, &o, &st, &err);
    clear_bar(&ui);
    summary(&ui, &st, a->all, rc);
    if (rc != LT_OK && rc != LT_EINVAL) {
        goto fail; /* a bad header was reported as its line */
    }
    status = rc == LT_OK && st.refused == 0 ? EXIT_OK : EXIT_FAILED;
    goto out;

fail:
    lt_error_print(&err, stderr);
out:
    if (ui.errors != NULL && fclose(ui.errors) != 0) {
        fprintf(stderr, "lienthong: error: could not write \"%s\": %s\n", ui.errors_path,
                strerror(errno));
        status = EXIT_FAILED;
    }
    import_reader_free(r);
    node_close(n);
    if (fd > 0) {
        close(fd);
    }
    return status;
}

int cmd_import(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "kind", required_argument, NULL, 'k' },
        { "format", required_argument, NULL, 'f' },
        { "all-or-nothing", no_argument, NULL, 'a' },
        { "errors", required_argument, NULL, 'e' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct args a = { 0 };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:k:f:ae:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            a.dir = optarg;
            break;
        case 'k':
            if (!registry_kind_parse(optarg, &a.kind)) {
                return usage_error("--kind \"%s\" is not a registry: people, residences, "
                                   "households, parcels, benefits or businesses",
                                   optarg);
            }
            a.have_kind = true;
            break;
        case 'f':
            if (strcmp(optarg, "csv") != 0 && strcmp(optarg, "ndjson") != 0) {
                return usage_error("--format must be csv or ndjson, not \"%s\"", optarg);
            }
            a.format = strcmp(optarg, "csv") == 0 ? IMPORT_CSV : IMPORT_NDJSON;
            a.have_format = true;
            break;
        case 'a':
            a.all = true;
            break;
        case 'e':
            a.errors = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (a.dir == NULL || optind != argc - 1) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    a.input = argv[optind];
    from_name(a.input, &a.have_kind, &a.kind, &a.have_format, &a.format);
    if (!a.have_kind) {
        return usage_error("which registry is \"%s\" for? give --kind", a.input);
    }
    if (!a.have_format) {
        return usage_error("is \"%s\" CSV or NDJSON? give --format", a.input);
    }
    return run(&a);
}
