/*
 * cli_enrol.c - "lienthong enrol": join a child node to its parent.
 *
 *   lienthong enrol --data PARENT_DIR --child-unit CODE [--ttl HOURS]
 *   lienthong enrol --data CHILD_DIR --token TOKEN [--parent URL]
 *
 * The first form runs on the parent and prints a one-time token (only the
 * token, on stdout, so that scripts can take it; what to do with it goes
 * to stderr).  The second runs on the child: it sends the token, the
 * child's unit, origin and public key to the parent, which pins the key
 * and records the enrolment in its signed log (src/sync/enrol.h).  Either
 * may run while the node serves; a serving child starts pushing within a
 * second of its enrolment.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "core/error.h"
#include "registry/registry.h"
#include "sync/client.h"
#include "sync/enrol.h"
#include "core/banned.h"

#define TTL_HOURS_MAX (24 * 30)

static const char usage_text[] =
    "usage: lienthong enrol --data PARENT_DIR --child-unit CODE [--ttl HOURS]\n"
    "       lienthong enrol --data CHILD_DIR --token TOKEN [--parent URL]\n"
    "\n"
    "Enrol a child node with its parent, once.  On the parent, --child-unit\n"
    "prints a one-time token for the node of that unit; on the child, --token\n"
    "sends it to the parent with the child's public key.\n"
    "\n"
    "options:\n"
    "  --data DIR         the node's data directory\n"
    "  --child-unit CODE  (parent) the unit of the child to enrol: a unit inside\n"
    "                     this node's\n"
    "  --ttl HOURS        (parent) how long the token stays valid (default 24)\n"
    "  --token TOKEN      (child) the token the parent's operator gave\n"
    "  --parent URL       (child) the parent's URL, if not given to init\n";

static int fail(const struct lt_error *err)
{
    lt_error_print(err, stderr);
    return EXIT_FAILED;
}

static void format_time(int64_t ms, char out[40])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 40, "%Y-%m-%d %H:%M UTC", &tm);
}

static int issue(const char *dir, const char *unit, long hours)
{
    struct store_options so;
    struct node *n = NULL;
    struct lt_error err;
    char token[SYNC_TOKEN_CHARS + 1], when[40];
    int64_t expires = 0;
    enum lt_code rc;

    store_options_default(&so);
    so.readers = 1;
    rc = node_open(dir, &so, &n, &err);
    if (rc == LT_OK) {
        rc = sync_enrol_issue(n, unit, (int64_t)hours * 3600 * 1000, token, &expires, &err);
    }
    if (rc != LT_OK) {
        node_close(n);
        return fail(&err);
    }
    format_time(expires, when);
    printf("%s\n", token);
    fprintf(stderr,
            "a one-time token for the node of unit %s, valid until %s; on that node run:\n"
            "  lienthong enrol --data DIR --token %s\n",
            unit, when, token);
    node_close(n);
    return EXIT_OK;
}

static int request(const char *dir, const char *token, const char *url)
{
    struct store_options so;
    struct node *n = NULL;
    struct sync_enrolment e;
    struct lt_error err;
    enum lt_code rc;

    store_options_default(&so);
    so.readers = 1;
    rc = sync_client_global_init(&err);
    if (rc == LT_OK) {
        rc = node_open(dir, &so, &n, &err);
    }
    if (rc == LT_OK) {
        rc = sync_enrol_request(n, dir, token, url, &e, &err);
    }
    if (rc != LT_OK) {
        node_close(n);
        return fail(&err);
    }
    printf("enrolled node %s (%s) with parent %s (%s) at %s\n", evlog_origin(node_evlog(n)),
           evlog_unit(node_evlog(n)), e.parent_origin, e.parent_unit, e.parent_url);
    if (e.position > 0) {
        printf("  the parent recorded the enrolment at position %lld of its log\n",
               (long long)e.position);
    } else {
        printf("  the parent had recorded this enrolment already\n");
    }
    printf("next: lienthong serve --data %s (it pushes its log to the parent)\n", dir);
    node_close(n);
    return EXIT_OK;
}

static bool parse_hours(const char *s, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > TTL_HOURS_MAX) {
        return false;
    }
    *out = v;
    return true;
}

int cmd_enrol(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "child-unit", required_argument, NULL, 'c' },
        { "ttl", required_argument, NULL, 't' },
        { "token", required_argument, NULL, 'k' },
        { "parent", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = NULL, *unit = NULL, *token = NULL, *url = NULL;
    struct lt_error err;
    long hours = 24;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'c':
            unit = optarg;
            break;
        case 't':
            if (!parse_hours(optarg, &hours)) {
                lt_error_set(&err, LT_EINVAL, "--ttl must be whole hours from 1 to %d, got \"%s\"",
                             TTL_HOURS_MAX, optarg);
                lt_error_print(&err, stderr);
                return EXIT_USAGE;
            }
            break;
        case 'k':
            token = optarg;
            break;
        case 'p':
            url = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc || dir == NULL || (unit == NULL) == (token == NULL) ||
        (unit != NULL && url != NULL)) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (url != NULL && !sync_url_ok(url)) {
        lt_error_set(&err, LT_EINVAL, "--parent must be an http:// or https:// URL, got \"%.80s\"",
                     url);
        lt_error_print(&err, stderr);
        return EXIT_USAGE;
    }
    return unit != NULL ? issue(dir, unit, hours) : request(dir, token, url);
}
