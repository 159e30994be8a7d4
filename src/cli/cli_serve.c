/*
 * cli_serve.c - "lienthong serve": run the HTTP API of a node.
 *
 *   lienthong serve [--data DIR] [--listen ADDR:PORT] [--threads N]
 *                   [--max-body BYTES] [--log-level LEVEL] [--trace SPEC]
 *
 * Without --data it serves what needs no storage: the units register and
 * address conversion.  With --data it opens the node made by "lienthong
 * init" and serves its registries and its one-stop shop (src/http/api_oss.h)
 * as well, and takes its place in the tree
 * (src/sync/sync.h): it pushes its log to its parent once enrolled and
 * receives its children's pushes.
 *
 * The main thread blocks SIGINT and SIGTERM before any worker thread
 * exists (threads inherit the mask), starts the server, then waits in
 * sigwait(); a signal stops the server cleanly and the command returns 0.
 * The register and the address converter are built before the first
 * request, so that no client pays for the load.  Teardown runs in the
 * reverse order: the server (and every handler) stops before the node and
 * the converter it uses are freed.
 */
#include <errno.h>
#include <getopt.h>
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address/address.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "http/api.h"
#include "http/api_oss.h"
#include "http/api_registry.h"
#include "http/server.h"
#include "registry/registry.h"
#include "store/store.h"
#include "sync/sync.h"
#include "units/units.h"
#include "core/banned.h"

#define THREADS_OPT_MAX 1024

static const char usage_text[] =
    "usage: lienthong serve [options]\n"
    "\n"
    "options:\n"
    "  --data DIR           serve the registries and the one-stop shop of the\n"
    "                       node in DIR (made by\n"
    "                       \"lienthong init\"); without it only units and\n"
    "                       address conversion are served\n"
    "  --listen ADDR:PORT   where to listen (default 127.0.0.1:8080; also\n"
    "                       [::1]:8080, or :8080 for every IPv4 interface)\n"
    "  --threads N          worker threads (default: the number of CPUs)\n"
    "  --max-body BYTES     largest request body, e.g. 1048576, 512K or 4M\n"
    "                       (default 1M)\n"
    "  --log-level LEVEL    debug, info, notice, warning or error (default notice)\n"
    "  --trace SPEC         trace components at debug level, e.g. http,-units\n"
    "  --sync-heartbeat S   push an empty batch to the parent after S idle\n"
    "                       seconds (default 10)\n"
    "  --silent-after S     flag a child silent after S seconds without\n"
    "                       contact (default 60)\n"
    "  --sync-retry-max S   wait at most S seconds between retries to reach\n"
    "                       the parent (default 30)\n";

static int usage_error(struct lt_error *err)
{
    lt_error_print(err, stderr);
    return EXIT_USAGE;
}

/* "1048576", "512K", "4M": a byte count with an optional binary suffix. */
static enum lt_code parse_bytes(const char *s, size_t *out, struct lt_error *err)
{
    char *end;
    unsigned long long v;
    unsigned shift = 0;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (end == s || s[0] == '-' || errno != 0) {
        goto bad;
    }
    if (*end == 'K' || *end == 'k') {
        shift = 10;
        end++;
    } else if (*end == 'M' || *end == 'm') {
        shift = 20;
        end++;
    }
    if (*end != '\0' || v == 0 || v > (1ULL << 30) >> shift) {
        goto bad;
    }
    *out = (size_t)(v << shift);
    return LT_OK;

bad:
    lt_error_set(err, LT_EINVAL, "--max-body must be a byte count from 1 to 1G, got \"%s\"", s);
    lt_error_hint(err, "write bytes as 1048576, 512K or 4M");
    return LT_EINVAL;
}

/* Seconds, with a fraction, from 0.05 to a day, into milliseconds. */
static enum lt_code parse_seconds(const char *opt, const char *s, int *ms, struct lt_error *err)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !(v >= 0.05 && v <= 86400)) {
        return lt_error_set(err, LT_EINVAL, "%s must be seconds from 0.05 to 86400, got \"%s\"",
                            opt, s);
    }
    *ms = (int)(v * 1000);
    return LT_OK;
}

static enum lt_code parse_threads(const char *s, unsigned *out, struct lt_error *err)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (end == s || *end != '\0' || v < 1 || v > THREADS_OPT_MAX) {
        lt_error_set(err, LT_EINVAL, "--threads must be a whole number from 1 to %d, got \"%s\"",
                     THREADS_OPT_MAX, s);
        return LT_EINVAL;
    }
    *out = (unsigned)v;
    return LT_OK;
}

/* Options into cfg and *data_dir; returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct http_config *cfg, const char **data_dir,
                         struct sync_options *so)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "listen", required_argument, NULL, 'l' },
        { "threads", required_argument, NULL, 't' },
        { "max-body", required_argument, NULL, 'b' },
        { "log-level", required_argument, NULL, 'L' },
        { "trace", required_argument, NULL, 'T' },
        { "sync-heartbeat", required_argument, NULL, 'H' },
        { "silent-after", required_argument, NULL, 'S' },
        { "sync-retry-max", required_argument, NULL, 'R' },
        { "exit-with-parent", no_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct lt_error err;
    enum log_level level;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            *data_dir = optarg;
            break;
        case 'l':
            cfg->listen = optarg;
            break;
        case 't':
            if (parse_threads(optarg, &cfg->threads, &err) != LT_OK) {
                return usage_error(&err);
            }
            break;
        case 'b':
            if (parse_bytes(optarg, &cfg->max_body, &err) != LT_OK) {
                return usage_error(&err);
            }
            break;
        case 'L':
            if (log_parse_level(optarg, &level, &err) != LT_OK) {
                return usage_error(&err);
            }
            log_set_level(level);
            break;
        case 'T':
            if (log_set_trace(optarg, &err) != LT_OK) {
                return usage_error(&err);
            }
            break;
        case 'H':
            if (parse_seconds("--sync-heartbeat", optarg, &so->heartbeat_ms, &err) != LT_OK) {
                return usage_error(&err);
            }
            break;
        case 'S':
            if (parse_seconds("--silent-after", optarg, &so->silent_after_ms, &err) != LT_OK) {
                return usage_error(&err);
            }
            break;
        case 'R':
            if (parse_seconds("--sync-retry-max", optarg, &so->retry_max_ms, &err) != LT_OK) {
                return usage_error(&err);
            }
            break;
        case 'P':
            /* Run under "lienthong up": end with it, even if it is killed. */
            if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() == 1) {
                return EXIT_FAILED;
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "lienthong: error: unexpected argument \"%s\"\n", argv[optind]);
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    return -1;
}

/* Wait for SIGINT or SIGTERM (blocked in every thread); returns it. */
static int wait_for_stop(const sigset_t *set)
{
    int sig = 0;

    while (sigwait(set, &sig) != 0) {
        /* sigwait only fails for an invalid set; retry is harmless. */
    }
    return sig;
}

/* Sync for the node; a node made before nodes had keys serves without it. */
static enum lt_code start_sync(struct node *node, const char *dir, const struct sync_options *o,
                               struct sync **out, struct lt_error *err)
{
    enum lt_code rc = sync_new(node, dir, o, out, err);

    if (rc == LT_ENOTFOUND) {
        log_warning("serve", "sync is off: %s", err->message);
        return LT_OK;
    }
    return rc;
}

int cmd_serve(int argc, char **argv)
{
    struct http_config cfg;
    struct lt_error err;
    struct http_server *server = NULL;
    struct address_converter *conv = NULL;
    struct node *node = NULL;
    struct sync *sync = NULL;
    struct oss *oss = NULL;
    struct sync_options sync_opt;
    const char *data_dir = NULL;
    const struct units *u;
    sigset_t set;
    int status, sig;

    http_config_init(&cfg);
    sync_options_default(&sync_opt);
    status = parse_options(argc, argv, &cfg, &data_dir, &sync_opt);
    if (status >= 0) {
        return status;
    }

    /* Before any thread: the workers inherit this mask, so only sigwait
     * below ever sees these signals. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    server = http_server_new(&cfg, &err);
    if (server == NULL) {
        lt_error_print(&err, stderr);
        status = EXIT_USAGE;
        goto out;
    }
    if (data_dir != NULL) {
        struct store_options so;

        store_options_default(&so);
        if (node_open(data_dir, &so, &node, &err) != LT_OK) {
            lt_error_print(&err, stderr);
            status = EXIT_FAILED;
            goto out;
        }
    }
    u = node != NULL ? node_units(node) : units_builtin();
    conv = address_converter_new(u);
    api_units_register(server, u);
    api_address_register(server, conv);
    if (node != NULL) {
        api_registry_register(server, node);
        /* XXX: no login guard yet: every request is anonymous, so only the procedures and
         * the public look-up of the one-stop shop answer (the rest say 401) */
        oss = oss_new(node, oss_catalogue_builtin(), oss_calendar_builtin());
        api_oss_register(server, oss);
        if (start_sync(node, data_dir, &sync_opt, &sync, &err) != LT_OK) {
            lt_error_print(&err, stderr);
            status = EXIT_FAILED;
            goto out;
        }
        if (sync != NULL) {
            sync_register(sync, server);
        }
    }

    if (http_server_start(server, &err) != LT_OK) {
        lt_error_print(&err, stderr);
        status = EXIT_FAILED;
        goto out;
    }
    log_notice("serve", "listening on %s (%zu units, body cap %zu bytes%s%s)",
               http_server_url(server), units_count(u), http_server_max_body(server),
               node != NULL ? ", node " : "", node != NULL ? data_dir : "");
    if (sync != NULL && sync_start(sync, &err) != LT_OK) {
        lt_error_print(&err, stderr);
        http_server_stop(server);
        status = EXIT_FAILED;
        goto out;
    }

    sig = wait_for_stop(&set);
    log_notice("serve", "stopping on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    sync_stop(sync);
    http_server_stop(server);
    log_notice("serve", "stopped");
    status = EXIT_OK;

out:
    http_server_free(server);
    sync_free(sync);
    oss_free(oss);
    node_close(node);
    address_converter_free(conv);
    return status;
}
