/*
 * cli_log.c - "lienthong log": list a node's events, verify its hash chains.
 *
 *   lienthong log --data DIR [--after POS] [--limit N] [--entity E]
 *   lienthong log --data DIR --verify
 *
 * Events go to stdout as NDJSON, one object per line in log order, with
 * the body as JSON and the hashes in hex.  The command only reads (from a
 * reader of the store), so it may run next to a serving node.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "core/date.h"
#include "core/error.h"
#include "evlog/evlog.h"
#include "store/store.h"
#include "core/banned.h"

static const char usage_text[] =
    "usage: lienthong log --data DIR [--after POS] [--limit N] [--entity E]\n"
    "       lienthong log --data DIR --verify\n"
    "\n"
    "List the events of a node's log as NDJSON, or check its hash chains.\n"
    "\n"
    "options:\n"
    "  --data DIR     the node's data directory\n"
    "  --after POS    only events after this log position (default 0)\n"
    "  --limit N      at most N events\n"
    "  --entity E     only the events of one entity (\"person/001085012345\")\n"
    "  --verify       check every event's hash and every origin's chain\n";

struct log_opts {
    const char *dir;
    const char *entity;
    int64_t after;
    int64_t limit; /* 0: no limit */
    bool verify;
    int64_t printed;
};

static int fail(const struct lt_error *err, int status)
{
    lt_error_print(err, stderr);
    return status;
}

static json_t *hex_or_null(const uint8_t *p, size_t n, bool present)
{
    char hex[2 * EVLOG_SIG_BYTES + 1];

    if (!present) {
        return json_null();
    }
    sodium_bin2hex(hex, sizeof(hex), p, n);
    return json_string(hex);
}

/* The time part of a clock value, as an ISO 8601 UTC instant. */
static void hlc_time(int64_t hlc, char out[32])
{
    int64_t ms = evlog_hlc_ms(hlc);
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char day[24];

    gmtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", day, (int)(ms % 1000));
}

static json_t *event_json(const struct event *ev)
{
    char when[32], eff[DATE_STR_MAX];
    json_t *body = json_loads(ev->body, JSON_DECODE_ANY, NULL);

    /* A body that no longer parses (an altered row) is shown as its text. */
    if (body == NULL) {
        body = json_string(ev->body);
    }
    hlc_time(ev->hlc, when);
    date_format(ev->effective, eff);
    return json_pack("{s:I, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:o, s:o, "
                     "s:o, s:o}",
                     "pos", (json_int_t)ev->pos, "origin", ev->origin, "seq", (json_int_t)ev->seq,
                     "hlc", (json_int_t)ev->hlc, "time", when, "actor", ev->actor, "type", ev->type,
                     "entity", ev->entity, "base_version", (json_int_t)ev->base_version, "version",
                     (json_int_t)ev->version, "effective", eff, "cause", ev->cause, "body", body,
                     "prev_hash", hex_or_null(ev->prev_hash, EVLOG_HASH_BYTES, ev->has_prev),
                     "hash", hex_or_null(ev->hash, EVLOG_HASH_BYTES, true), "sig",
                     hex_or_null(ev->sig, EVLOG_SIG_BYTES, ev->has_sig));
}

static enum lt_code print_event(const struct event *ev, void *arg, struct lt_error *err)
{
    struct log_opts *o = arg;
    json_t *j;

    if (ev->pos <= o->after || (o->limit > 0 && o->printed >= o->limit)) {
        return LT_OK; /* history has no position filter of its own */
    }
    j = event_json(ev);
    if (j == NULL || json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
        putchar('\n') == EOF) {
        json_decref(j);
        return lt_error_set(err, LT_EIO, "could not write event %lld to stdout: %s",
                            (long long)ev->pos, strerror(errno));
    }
    json_decref(j);
    o->printed++;
    return LT_OK;
}

static enum lt_code list_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct log_opts *o = arg;

    if (o->entity != NULL) {
        return evlog_history(c, o->entity, print_event, o, err);
    }
    return evlog_scan(c, o->after, (size_t)o->limit, print_event, o, err);
}

struct verify_result {
    int64_t checked;
    int64_t head;
};

static enum lt_code verify_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct verify_result *v = arg;
    enum lt_code rc = evlog_verify(c, &v->checked, err);

    return rc == LT_OK ? evlog_head(c, &v->head, err) : rc;
}

static int run(struct log_opts *o)
{
    struct store_options so;
    struct store *s = NULL;
    struct verify_result v = { 0, 0 };
    struct lt_error err;
    enum lt_code rc;

    store_options_default(&so);
    so.readers = 1;
    /* XXX: opening migrates a database of an older schema, so even this reader may write. */
    rc = store_open(o->dir, &so, &s, &err);
    if (rc != LT_OK) {
        return fail(&err, EXIT_FAILED);
    }
    if (o->verify) {
        rc = store_read(s, verify_fn, &v, &err);
        store_close(s);
        if (rc != LT_OK) {
            return fail(&err, EXIT_FAILED);
        }
        printf("verified %lld event%s up to position %lld: every hash chain is intact\n",
               (long long)v.checked, v.checked == 1 ? "" : "s", (long long)v.head);
        return EXIT_OK;
    }
    rc = store_read(s, list_fn, o, &err);
    store_close(s);
    if (fflush(stdout) != 0 && rc == LT_OK) {
        rc = lt_error_set(&err, LT_EIO, "could not write to stdout: %s", strerror(errno));
    }
    return rc == LT_OK ? EXIT_OK : fail(&err, EXIT_FAILED);
}

static bool parse_count(const char *s, int64_t min, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min) {
        return false;
    }
    *out = v;
    return true;
}

int cmd_log(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "after", required_argument, NULL, 'a' },
        { "limit", required_argument, NULL, 'n' },
        { "entity", required_argument, NULL, 'e' },
        { "verify", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct log_opts o = { 0 };
    struct lt_error err;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:a:n:e:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.dir = optarg;
            break;
        case 'a':
            if (!parse_count(optarg, 0, &o.after)) {
                lt_error_set(&err, LT_EINVAL, "--after must be a log position (0 or more)");
                lt_error_detail(&err, "got \"%s\"", optarg);
                return fail(&err, EXIT_USAGE);
            }
            break;
        case 'n':
            if (!parse_count(optarg, 1, &o.limit)) {
                lt_error_set(&err, LT_EINVAL, "--limit must be a whole number of 1 or more");
                lt_error_detail(&err, "got \"%s\"", optarg);
                return fail(&err, EXIT_USAGE);
            }
            break;
        case 'e':
            o.entity = optarg;
            break;
        case 'v':
            o.verify = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc || o.dir == NULL) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (o.verify && (o.entity != NULL || o.after != 0 || o.limit != 0)) {
        lt_error_set(&err, LT_EINVAL, "--verify checks the whole log");
        lt_error_hint(&err, "leave out --after, --limit and --entity with --verify");
        return fail(&err, EXIT_USAGE);
    }
    return run(&o);
}
