/*
 * cli_address.c - "lienthong address": converting addresses on the command line.
 *
 *   lienthong address convert [--json] ADDRESS...
 *   lienthong address convert [--input FILE|-] [--csv-column N|NAME]
 *                             [--format csv|ndjson] [--output FILE] [--progress]
 *
 * One address prints a result for a person (or one JSON object with --json).
 * A batch (a file, or standard input when it is not a terminal) converts one
 * address per line, or one CSV column, and writes CSV or NDJSON.  A bad line
 * becomes an error record with its line number, in the output and on stderr,
 * and the batch goes on; the exit status then is 1.
 *
 * Input is read through a fixed buffer and every line or CSV record has a
 * hard cap, so a file with no newline cannot make the process grow.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address/address.h"
#include "cli/commands.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/error.h"
#include "core/utf8.h"
#include "units/units.h"
#include "core/banned.h"

#define READ_BLOCK        65536
#define CSV_RECORD_MAX    65536 /* bytes of one CSV record, all fields */
#define CSV_FIELDS_MAX    512
#define ERROR_INPUT_MAX   200          /* bytes of a bad line echoed in its error record */
#define PROGRESS_INTERVAL 0.5          /* seconds between progress lines */
#define RECORD_MAX        (256 * 1024) /* bytes of one output record */

enum out_format {
    FORMAT_CSV,
    FORMAT_NDJSON,
};

struct opts {
    bool json;
    bool progress;
    const char *input;  /* NULL: the addresses are arguments */
    const char *column; /* CSV column, by 1-based number or header name */
    const char *output;
    enum out_format format;
};

static const char usage_text[] =
    "usage: lienthong address convert [--json] ADDRESS...\n"
    "       lienthong address convert [--input FILE|-] [--csv-column N|NAME]\n"
    "                                 [--format csv|ndjson] [--output FILE] [--progress]\n"
    "\n"
    "Convert addresses written before the 2025 reform to today's communes and\n"
    "provinces.  Diacritics, case, abbreviations (P., X., TT., Q., H., TX., TP.,\n"
    "T.), numbered units (Q1, P.12) and shorthands (HCM, HN, ĐN, BRVT, Huế) are\n"
    "understood; the street part is kept as written.\n"
    "\n"
    "options:\n"
    "  --json                one JSON object per address given as an argument\n"
    "  --input FILE|-        convert every line of FILE (\"-\": standard input, also\n"
    "                        the default with no ADDRESS when it is not a terminal)\n"
    "  --csv-column N|NAME   the input is CSV with a header row: convert column N\n"
    "                        (from 1) or the column with this header\n"
    "  --format csv|ndjson   batch output format (default csv)\n"
    "  --output FILE         write the batch output to FILE (default standard output)\n"
    "  --progress            report progress on standard error (default when it is a\n"
    "                        terminal)\n"
    "  -h, --help            this text\n"
    "\n"
    "Status of a result: converted, unchanged (already today's units), ambiguous\n"
    "(every candidate listed), not_found (closest names suggested), or error for\n"
    "a bad input line.  Exit status: 0, 1 if any line failed, 2 for usage errors.\n";

static const char csv_header[] =
    "line,input,status,street,old_commune_code,old_commune,old_district_code,old_district,"
    "old_province_code,old_province,new_commune_code,new_commune,new_province_code,"
    "new_province,candidates,note\n";

static int usage_error(const char *fmt, ...) LT_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
    struct lt_error err;
    char msg[LT_ERROR_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lt_error_set(&err, LT_EINVAL, "%s", msg);
    lt_error_hint(&err, "run \"lienthong address --help\" for the options");
    lt_error_print(&err, stderr);
    return EXIT_USAGE;
}

static double seconds_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- one address, for a person ------------------------------------------ */

static void print_unit(const char *label, const struct unit *unit)
{
    if (unit != NULL) {
        printf("  %-9s %s %s\n", label, unit->code, unit->name);
    }
}

static void print_candidates(const struct address_result *r)
{
    printf("candidates:\n");
    for (size_t i = 0; i < r->ncandidates; i++) {
        const struct address_candidate *c = &r->candidates[i];

        printf("  %s %s, %s %s (%s", c->commune->code, c->commune->name, c->province->code,
               c->province->name, unit_edge_kind_name(c->kind));
        if (c->from != NULL) {
            printf(", from %s %s", c->from->code, c->from->name);
        }
        printf(")\n");
    }
}

static void print_human(const char *input, const struct address_result *r)
{
    printf("input:    %s\n", input);
    printf("status:   %s\n", address_status_name(r->status));
    printf("street:   %.*s\n", (int)r->street_len, r->street);
    if (r->old_commune || r->old_district || r->old_province) {
        printf("old:\n");
        print_unit("commune", r->old_commune);
        print_unit("district", r->old_district);
        print_unit("province", r->old_province);
    }
    if (r->new_commune || r->new_province) {
        printf("new:\n");
        print_unit("commune", r->new_commune);
        print_unit("province", r->new_province);
    }
    if (r->status == ADDRESS_AMBIGUOUS) {
        print_candidates(r);
    }
    if (r->nsuggestions > 0) {
        printf("did you mean:\n");
        for (size_t i = 0; i < r->nsuggestions; i++) {
            const struct unit *s = r->suggestions[i];
            char to[DATE_STR_MAX];

            date_format(s->valid_to, to);
            printf("  %s %s (%s%s%s)\n", s->code, s->name, unit_level_name(s->level),
                   to[0] ? ", until " : "", to);
        }
    }
    if (r->note[0] != '\0') {
        printf("note:     %s\n", r->note);
    }
}

static int convert_args(const struct address_converter *c, const struct opts *o, int n,
                        char **addrs)
{
    int rc = EXIT_OK;

    for (int i = 0; i < n; i++) {
        struct address_result r;
        struct lt_error err;

        if (address_convert(c, addrs[i], strlen(addrs[i]), &r, &err) != LT_OK) {
            lt_error_print(&err, stderr);
            rc = EXIT_FAILED;
            continue;
        }
        if (o->json) {
            json_t *j = address_result_json(addrs[i], strlen(addrs[i]), &r);
            char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

            puts(s);
            free(s);
            json_decref(j);
        } else {
            if (i > 0) {
                putchar('\n');
            }
            print_human(addrs[i], &r);
        }
    }
    return rc;
}

/* ---- reading lines and CSV records -------------------------------------- */

struct reader {
    FILE *f;
    char block[READ_BLOCK];
    size_t pos, len;
    bool eof;
    long line; /* physical lines begun so far */
};

/* Read the next block; false at the end of the input (or on an error). */
static bool refill(struct reader *r)
{
    if (r->eof) {
        return false;
    }
    r->len = fread(r->block, 1, sizeof(r->block), r->f);
    r->pos = 0;
    r->eof = r->len == 0;
    return !r->eof;
}

/* The next byte, or -1 at the end of the input. */
static int next_byte(struct reader *r)
{
    if (r->pos == r->len && !refill(r)) {
        return -1;
    }
    return (unsigned char)r->block[r->pos++];
}

/*
 * One line into line (no newline, no trailing CR), as much of it as the
 * buffer's cap holds; *total is the line's real length.  False at the end
 * of the input.
 */
static bool read_line(struct reader *r, struct buf *line, size_t *total)
{
    bool any = false;
    char last = '\0';

    buf_reset(line);
    *total = 0;
    while (r->pos < r->len || refill(r)) {
        const char *p = r->block + r->pos;
        size_t avail = r->len - r->pos;
        const char *nl = memchr(p, '\n', avail);
        size_t n = nl != NULL ? (size_t)(nl - p) : avail;
        size_t room = line->cap - line->len;

        any = true;
        buf_append(line, p, n < room ? n : room);
        if (n > 0) {
            last = p[n - 1];
        }
        *total += n;
        r->pos += n;
        if (nl != NULL) {
            r->pos++;
            break;
        }
    }
    if (!any) {
        return false;
    }
    r->line++;
    if (last == '\r') {
        if (line->len == *total) {
            line->data[--line->len] = '\0';
        }
        (*total)--;
    }
    return true;
}

struct csv_record {
    struct buf data;                /* the fields, each NUL-terminated */
    size_t off[CSV_FIELDS_MAX + 1]; /* start of each field in data */
    size_t len[CSV_FIELDS_MAX];
    int nfields;
    bool too_long; /* over CSV_RECORD_MAX bytes or CSV_FIELDS_MAX fields */
    long line;     /* physical line the record starts on */
};

static void csv_put(struct csv_record *rec, int ch)
{
    char c = (char)ch;

    if (rec->too_long || buf_append(&rec->data, &c, 1) != LT_OK) {
        rec->too_long = true;
    }
}

static void csv_end_field(struct csv_record *rec)
{
    if (rec->nfields == CSV_FIELDS_MAX) {
        rec->too_long = true;
        return;
    }
    rec->len[rec->nfields] = rec->data.len - rec->off[rec->nfields];
    csv_put(rec, '\0');
    rec->off[++rec->nfields] = rec->data.len;
}

/*
 * One CSV record (RFC 4180: quoted fields may hold commas, doubled quotes
 * and newlines).  A record over its cap is read to its end and marked
 * too_long.  False at the end of the input.
 * XXX: a line break in the address field is refused (control character); spreadsheets write them.
 */
static bool read_record(struct reader *r, struct csv_record *rec)
{
    bool quoted = false, any = false;
    int ch;

    buf_reset(&rec->data);
    rec->nfields = 0;
    rec->off[0] = 0;
    rec->too_long = false;
    rec->line = r->line + 1;
    while ((ch = next_byte(r)) >= 0) {
        any = true;
        if (quoted) {
            if (ch == '"') {
                int next = next_byte(r);

                if (next == '"') {
                    csv_put(rec, '"');
                    continue;
                }
                quoted = false;
                if (next < 0) {
                    break;
                }
                ch = next; /* the byte after the closing quote */
            } else {
                r->line += ch == '\n';
                csv_put(rec, ch);
                continue;
            }
        }
        if (ch == '"' && rec->data.len == rec->off[rec->nfields]) {
            quoted = true;
        } else if (ch == ',') {
            csv_end_field(rec);
        } else if (ch == '\n') {
            r->line++;
            break;
        } else if (ch != '\r') {
            csv_put(rec, ch);
        }
    }
    if (!any) {
        return false;
    }
    if (ch < 0) {
        r->line++;
    }
    csv_end_field(rec);
    return true;
}

/* ---- writing results ---------------------------------------------------- */

/*
 * A record is built in memory and written with one call: stdio's per-call
 * locking would cost more than the conversion.  Records are far below the
 * cap of their buffer (a 4 KiB input, doubled quotes, 16 candidates).
 */

/* buf_append, with the common case (room enough) done here. */
static inline void put(struct buf *rec, const char *s, size_t len)
{
    if (rec->alloc > rec->len + len) { /* alloc never exceeds cap + 1 */
        memcpy(rec->data + rec->len, s, len);
        rec->len += len;
        rec->data[rec->len] = '\0';
        return;
    }
    buf_append(rec, s, len);
}

static inline void put_char(struct buf *rec, char c)
{
    put(rec, &c, 1);
}

/* Bytes that make a CSV field need quotes. */
static const bool csv_special[256] = { [','] = true, ['"'] = true, ['\n'] = true, ['\r'] = true };

static void csv_field(struct buf *rec, const char *s, size_t len)
{
    const char *q;
    size_t i = 0;

    while (i < len && !csv_special[(unsigned char)s[i]]) {
        i++;
    }
    if (i == len) {
        put(rec, s, len);
        return;
    }
    put_char(rec, '"');
    while ((q = memchr(s, '"', len)) != NULL) {
        put(rec, s, (size_t)(q - s) + 1);
        put_char(rec, '"');
        len -= (size_t)(q - s) + 1;
        s = q + 1;
    }
    put(rec, s, len);
    put_char(rec, '"');
}

static void csv_str(struct buf *rec, const char *s)
{
    csv_field(rec, s, strlen(s));
    put_char(rec, ',');
}

static void csv_unit(struct buf *rec, const struct unit *unit)
{
    if (unit == NULL) {
        put(rec, ",,", 2);
        return;
    }
    csv_str(rec, unit->code);
    csv_str(rec, unit->name);
}

/* "00004 Phường Ba Đình (partial); ...", then the note with suggestions. */
static void csv_candidates(struct buf *rec, const struct address_result *r, struct buf *tmp)
{
    if (r->status != ADDRESS_AMBIGUOUS && r->nsuggestions == 0) {
        put_char(rec, ',');
        csv_field(rec, r->note, strlen(r->note));
        return;
    }
    buf_reset(tmp);
    for (size_t i = 0; r->status == ADDRESS_AMBIGUOUS && i < r->ncandidates; i++) {
        const struct address_candidate *c = &r->candidates[i];

        buf_printf(tmp, "%s%s %s (%s)", i ? "; " : "", c->commune->code, c->commune->name,
                   unit_edge_kind_name(c->kind));
    }
    csv_str(rec, buf_str(tmp));
    buf_reset(tmp);
    buf_append_str(tmp, r->note);
    for (size_t i = 0; i < r->nsuggestions; i++) {
        buf_printf(tmp, "%s%s %s", i ? ", " : "; did you mean: ", r->suggestions[i]->code,
                   r->suggestions[i]->name);
    }
    csv_field(rec, buf_str(tmp), tmp->len);
}

/* The line number and its comma. */
static void put_line_number(struct buf *rec, long line)
{
    char digits[24];
    size_t n = sizeof(digits);

    digits[--n] = ',';
    do {
        digits[--n] = (char)('0' + line % 10);
        line /= 10;
    } while (line > 0 && n > 0);
    put(rec, digits + n, sizeof(digits) - n);
}

static void write_csv(struct buf *rec, long line, const char *input, size_t len,
                      const struct address_result *r, struct buf *tmp)
{
    put_line_number(rec, line);
    csv_field(rec, input, len);
    put_char(rec, ',');
    csv_str(rec, address_status_name(r->status));
    csv_field(rec, r->street, r->street_len);
    put_char(rec, ',');
    csv_unit(rec, r->old_commune);
    csv_unit(rec, r->old_district);
    csv_unit(rec, r->old_province);
    csv_unit(rec, r->new_commune);
    csv_unit(rec, r->new_province);
    csv_candidates(rec, r, tmp);
    put_char(rec, '\n');
}

/*
 * NDJSON is written here rather than through address_result_json and
 * jansson, which cost five times the conversion per line; the shape is the
 * same ("line" first), as tests/integration/test_address.sh checks.
 */
static void json_str(struct buf *rec, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t plain = 0; /* s[plain .. i) is still to be written as it is */

    put_char(rec, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c != '"' && c != '\\' && c >= 0x20) {
            continue;
        }
        put(rec, s + plain, i - plain);
        plain = i + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };

            put(rec, esc, sizeof(esc));
        } else {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

            put(rec, esc, sizeof(esc));
        }
    }
    put(rec, s + plain, len - plain);
    put_char(rec, '"');
}

static void json_ref(struct buf *rec, const struct unit *unit)
{
    if (unit == NULL) {
        buf_append_str(rec, "null");
        return;
    }
    buf_append_str(rec, "{\"code\":");
    json_str(rec, unit->code, strlen(unit->code));
    buf_append_str(rec, ",\"name\":");
    json_str(rec, unit->name, strlen(unit->name));
    buf_append_char(rec, '}');
}

static void json_candidates(struct buf *rec, const struct address_result *r)
{
    buf_append_str(rec, ",\"candidates\":[");
    for (size_t i = 0; i < r->ncandidates; i++) {
        const struct address_candidate *c = &r->candidates[i];

        buf_append_str(rec, i ? ",{\"commune\":" : "{\"commune\":");
        json_ref(rec, c->commune);
        buf_append_str(rec, ",\"province\":");
        json_ref(rec, c->province);
        buf_append_str(rec, ",\"from\":");
        json_ref(rec, c->from);
        buf_printf(rec, ",\"kind\":\"%s\"}", unit_edge_kind_name(c->kind));
    }
    buf_append_str(rec, "],\"suggestions\":[");
    for (size_t i = 0; i < r->nsuggestions; i++) {
        const struct unit *u = r->suggestions[i];
        char to[DATE_STR_MAX];

        date_format(u->valid_to, to);
        buf_append_str(rec, i ? ",{\"code\":" : "{\"code\":");
        json_str(rec, u->code, strlen(u->code));
        buf_append_str(rec, ",\"name\":");
        json_str(rec, u->name, strlen(u->name));
        buf_printf(rec, ",\"level\":\"%s\",\"valid_to\":", unit_level_name(u->level));
        if (to[0] != '\0') {
            json_str(rec, to, strlen(to));
        } else {
            buf_append_str(rec, "null");
        }
        buf_append_char(rec, '}');
    }
    buf_append_char(rec, ']');
}

static void write_ndjson(struct buf *rec, long line, const char *input, size_t len,
                         const struct address_result *r)
{
    buf_printf(rec, "{\"line\":%ld,\"input\":", line);
    json_str(rec, input, len);
    buf_printf(rec, ",\"status\":\"%s\",\"street\":", address_status_name(r->status));
    json_str(rec, r->street, r->street_len);
    buf_append_str(rec, ",\"old\":{\"commune\":");
    json_ref(rec, r->old_commune);
    buf_append_str(rec, ",\"district\":");
    json_ref(rec, r->old_district);
    buf_append_str(rec, ",\"province\":");
    json_ref(rec, r->old_province);
    buf_append_str(rec, "},\"new\":{\"commune\":");
    json_ref(rec, r->new_commune);
    buf_append_str(rec, ",\"province\":");
    json_ref(rec, r->new_province);
    buf_append_char(rec, '}');
    json_candidates(rec, r);
    buf_append_str(rec, ",\"note\":");
    json_str(rec, r->note, strlen(r->note));
    buf_append_str(rec, "}\n");
}

/* A bad line echoed safely: invalid bytes and control characters become
 * U+FFFD, and only its start is kept. */
static void sanitise(const char *s, size_t len, struct buf *out)
{
    size_t i = 0;

    buf_reset(out);
    while (i < len && out->len < ERROR_INPUT_MAX) {
        int cp;
        int n = utf8_decode(s + i, len - i, &cp);

        if (n <= 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
            buf_append_str(out, "\xef\xbf\xbd");
            i += n > 0 ? (size_t)n : 1;
            continue;
        }
        buf_append(out, s + i, (size_t)n);
        i += (size_t)n;
    }
    if (i < len) {
        buf_append_str(out, "...");
    }
}

static void write_error(struct buf *rec, enum out_format format, long line, const char *input,
                        size_t len, const struct lt_error *err, struct buf *tmp)
{
    char msg[LT_ERROR_MESSAGE_MAX + LT_ERROR_DETAIL_MAX + 4];

    snprintf(msg, sizeof(msg), "%s%s%s", err->message, err->detail[0] ? ": " : "", err->detail);
    fprintf(stderr, "line %ld: %s\n", line, msg);
    sanitise(input, len, tmp);
    if (format == FORMAT_NDJSON) {
        json_t *o =
            json_pack("{s:I, s:s, s:s, s:{s:s, s:s, s:s}}", "line", (json_int_t)line, "input",
                      buf_str(tmp), "status", "error", "error", "code", lt_code_name(err->code),
                      "message", err->message, "detail", err->detail);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

        buf_append_str(rec, s);
        buf_append_char(rec, '\n');
        free(s);
        json_decref(o);
        return;
    }
    buf_printf(rec, "%ld,", line);
    csv_field(rec, buf_str(tmp), tmp->len);
    buf_append_str(rec, ",error,,,,,,,,,,,,,");
    csv_field(rec, msg, strlen(msg));
    buf_append_char(rec, '\n');
}

/* ---- a batch ------------------------------------------------------------ */

struct batch {
    const struct address_converter *c;
    const struct opts *o;
    FILE *out;
    struct buf rec; /* the output record being built */
    struct buf tmp;
    long done, errors;
    long by_status[ADDRESS_NOT_FOUND + 1]; /* addresses read, by their status */
    double start, last_progress;
    bool progress, tty;
};

static void progress(struct batch *b, bool final)
{
    double now = seconds_now();
    double dt = now - b->start;

    if (!final && b->progress && now - b->last_progress >= PROGRESS_INTERVAL) {
        fprintf(stderr, "%s%ld addresses, %.0f/s, %ld errors%s", b->tty ? "\r" : "", b->done,
                dt > 0 ? (double)b->done / dt : 0.0, b->errors, b->tty ? "" : "\n");
        b->last_progress = now;
    }
    if (final) {
        if (b->progress && b->tty) {
            fputc('\n', stderr);
        }
        fprintf(stderr,
                "read %ld addresses in %.2f s (%.0f/s): %ld converted, %ld unchanged, "
                "%ld ambiguous, %ld not found, %ld errors\n",
                b->done, dt, dt > 0 ? (double)b->done / dt : 0.0, b->by_status[ADDRESS_CONVERTED],
                b->by_status[ADDRESS_UNCHANGED], b->by_status[ADDRESS_AMBIGUOUS],
                b->by_status[ADDRESS_NOT_FOUND], b->errors);
    }
}

static void convert_one(struct batch *b, long line, const char *s, size_t len,
                        const struct lt_error *pre)
{
    struct address_result r;
    struct lt_error err;

    b->done++;
    buf_reset(&b->rec);
    if (pre != NULL) {
        err = *pre;
    } else if (address_convert(b->c, s, len, &r, &err) == LT_OK) {
        b->by_status[r.status]++;
        if (b->o->format == FORMAT_NDJSON) {
            write_ndjson(&b->rec, line, s, len, &r);
        } else {
            write_csv(&b->rec, line, s, len, &r, &b->tmp);
        }
        goto out;
    }
    b->errors++;
    write_error(&b->rec, b->o->format, line, s, len, &err, &b->tmp);
out:
    fwrite(b->rec.data, 1, b->rec.len, b->out);
    if ((b->done & 4095) == 0) {
        progress(b, false);
    }
}

static void too_long_error(struct lt_error *err, size_t total, size_t cap, const char *what)
{
    lt_error_set(err, LT_ETOOBIG, "%s too long: %zu bytes", what, total);
    lt_error_detail(err, "at most %zu bytes are accepted; byte offset %zu is past the limit", cap,
                    cap);
}

static void batch_lines(struct batch *b, struct reader *r)
{
    struct buf line;
    size_t total;

    buf_init(&line, ADDRESS_MAX_LEN + 3); /* room for a byte-order mark */
    while (read_line(r, &line, &total)) {
        struct lt_error err;
        const char *s = buf_str(&line);
        size_t len = line.len;

        if (r->line == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
            s += 3; /* the byte-order mark of a spreadsheet export */
            len -= 3;
            total -= 3;
        }
        if (total > ADDRESS_MAX_LEN) {
            too_long_error(&err, total, ADDRESS_MAX_LEN, "address");
            convert_one(b, r->line, s, len, &err);
        } else {
            convert_one(b, r->line, s, len, NULL);
        }
    }
    buf_release(&line);
}

/* The 0-based index of the column named by spec in the header, or -1. */
static int find_column(const struct csv_record *hdr, const char *spec)
{
    char *end;
    long n = strtol(spec, &end, 10);

    if (*spec != '\0' && *end == '\0') {
        return n >= 1 && n <= CSV_FIELDS_MAX ? (int)n - 1 : -1;
    }
    for (int i = 0; i < hdr->nfields; i++) {
        const char *name = hdr->data.data + hdr->off[i];

        if (i == 0 && strncmp(name, "\xef\xbb\xbf", 3) == 0) {
            name += 3;
        }
        if (strcmp(name, spec) == 0) {
            return i;
        }
    }
    return -1;
}

static int batch_csv(struct batch *b, struct reader *r)
{
    struct csv_record *rec = xcalloc(1, sizeof(*rec));
    int col;
    int rc = EXIT_OK;

    buf_init(&rec->data, CSV_RECORD_MAX);
    if (!read_record(r, rec) || (col = find_column(rec, b->o->column)) < 0) {
        struct lt_error err;

        lt_error_set(&err, LT_EINVAL, "no CSV column \"%s\" in the header row", b->o->column);
        lt_error_hint(&err, "give the column's header name or its number, from 1");
        lt_error_print(&err, stderr);
        rc = EXIT_USAGE;
        goto out;
    }
    while (read_record(r, rec)) {
        struct lt_error err;

        if (rec->too_long) {
            too_long_error(&err, rec->data.len, CSV_RECORD_MAX, "CSV record");
            convert_one(b, rec->line, "", 0, &err);
        } else if (col >= rec->nfields) {
            lt_error_set(&err, LT_EINVAL, "CSV row has %d column%s, column %d is missing",
                         rec->nfields, rec->nfields == 1 ? "" : "s", col + 1);
            convert_one(b, rec->line, "", 0, &err);
        } else {
            convert_one(b, rec->line, rec->data.data + rec->off[col], rec->len[col], NULL);
        }
    }
out:
    buf_release(&rec->data);
    free(rec);
    return rc;
}

static enum lt_code open_files(const struct opts *o, FILE **in, FILE **out, struct lt_error *err)
{
    *in = stdin;
    *out = stdout;
    if (o->input != NULL && strcmp(o->input, "-") != 0) {
        *in = fopen(o->input, "rb");
        if (*in == NULL) {
            return lt_error_set(err, LT_EIO, "could not open \"%s\": %s", o->input,
                                strerror(errno));
        }
    }
    if (o->output != NULL && strcmp(o->output, "-") != 0) {
        *out = fopen(o->output, "wb");
        if (*out == NULL) {
            lt_error_set(err, LT_EIO, "could not create \"%s\": %s", o->output, strerror(errno));
            if (*in != stdin) {
                fclose(*in);
            }
            return LT_EIO;
        }
    }
    return LT_OK;
}

static int convert_batch(const struct address_converter *c, const struct opts *o)
{
    struct batch b = { .c = c, .o = o };
    struct reader *r = xcalloc(1, sizeof(*r));
    struct lt_error err;
    int rc;

    if (open_files(o, &r->f, &b.out, &err) != LT_OK) {
        lt_error_print(&err, stderr);
        free(r);
        return EXIT_FAILED;
    }
    buf_init(&b.tmp, 64 * 1024);
    buf_init(&b.rec, RECORD_MAX);
    setvbuf(b.out, NULL, _IOFBF, 1 << 20);
    b.tty = isatty(STDERR_FILENO);
    b.progress = o->progress || b.tty;
    b.start = b.last_progress = seconds_now();
    if (o->format == FORMAT_CSV) {
        fputs(csv_header, b.out);
    }
    rc = o->column != NULL ? batch_csv(&b, r) : (batch_lines(&b, r), EXIT_OK);
    if (rc == EXIT_OK) {
        progress(&b, true);
        rc = b.errors > 0 ? EXIT_FAILED : EXIT_OK;
    }
    if (ferror(r->f) || (b.out != stdout ? fclose(b.out) : fflush(b.out)) != 0) {
        lt_error_set(&err, LT_EIO, "could not %s: %s",
                     ferror(r->f) ? "read the input" : "write the output", strerror(errno));
        lt_error_print(&err, stderr);
        rc = EXIT_FAILED;
    }
    if (r->f != stdin) {
        fclose(r->f);
    }
    buf_release(&b.tmp);
    buf_release(&b.rec);
    free(r);
    return rc;
}

/* ---- options ------------------------------------------------------------ */

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        { "json", no_argument, NULL, 'j' },
        { "input", required_argument, NULL, 'i' },
        { "csv-column", required_argument, NULL, 'c' },
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "progress", no_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int ch;

    memset(o, 0, sizeof(*o));
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "hi:o:", longopts, NULL)) != -1) {
        switch (ch) {
        case 'j':
            o->json = true;
            break;
        case 'i':
            o->input = optarg;
            break;
        case 'c':
            o->column = optarg;
            break;
        case 'o':
            o->output = optarg;
            break;
        case 'p':
            o->progress = true;
            break;
        case 'f':
            if (strcmp(optarg, "csv") == 0) {
                o->format = FORMAT_CSV;
            } else if (strcmp(optarg, "ndjson") == 0) {
                o->format = FORMAT_NDJSON;
            } else {
                return usage_error("unknown output format \"%s\" (csv or ndjson)", optarg);
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            return usage_error("unknown or incomplete option \"%s\"", argv[optind - 1]);
        }
    }
    return -1;
}

int cmd_address(int argc, char **argv)
{
    struct opts o;
    struct address_converter *c;
    int rc;

    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_text, stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "convert") != 0) {
        return usage_error("unknown address command \"%s\" (try \"convert\")", argv[1]);
    }
    rc = parse_opts(argc - 1, argv + 1, &o);
    if (rc >= 0) {
        return rc;
    }
    argc -= optind + 1;
    argv += optind + 1;
    if (argc > 0 && (o.input != NULL || o.column != NULL)) {
        return usage_error("give addresses as arguments or with --input, not both");
    }
    if (argc == 0 && o.input == NULL && isatty(STDIN_FILENO)) {
        return usage_error("no address given");
    }
    c = address_converter_new(units_builtin());
    rc = argc > 0 ? convert_args(c, &o, argc, argv) : convert_batch(c, &o);
    address_converter_free(c);
    return rc;
}
