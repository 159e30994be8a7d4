/*
 * cli_serve.c - "lienthong serve": run the HTTP API of a node.
 *
 *   lienthong serve [--data DIR] [--listen ADDR:PORT] [--threads N]
 *                   [--max-body BYTES] [--log-level LEVEL] [--trace SPEC]
 *                   [--tls-cert FILE --tls-key FILE] [--header-timeout S]
 *                   [--trust-proxy ADDR]
 *                   [--no-auth]
 *
 * Without --data it serves what needs no storage: the units register and
 * address conversion.  With --data it opens the node made by "lienthong
 * init" and serves its registries and its one-stop shop (src/http/api_oss.h)
 * as well, and takes its place in the tree
 * (src/sync/sync.h): it pushes its log to its parent once enrolled and
 * receives its children's pushes.  With --data, accounts are on: every
 * route answers by its rule in the access policy (src/auth/policy.h), and
 * a route without a rule keeps the server from starting.  --no-auth turns
 * accounts off, for measuring their cost only, and says so loudly.
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
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address/address.h"
#include "auth/auth.h"
#include "auth/http.h"
#include "auth/policy.h"
#include "audit/audit.h"
#include "cli/commands.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/error.h"
#include "core/log.h"
#include "http/api.h"
#include "http/api_oss.h"
#include "http/api_audit.h"
#include "http/api_registry.h"
#include "http/server.h"
#include "oss/reference.h"
#include "registry/registry.h"
#include "store/store.h"
#include "sync/pull.h"
#include "sync/sync.h"
#include "units/units.h"
#include "web/web.h"
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
    "  --cache BYTES        the database page cache of the node's writer, e.g.\n"
    "                       2M or 64M; each reader gets an eighth (default 2M at\n"
    "                       a commune's node, 64M at a province's or the centre's)\n"
    "  --log-level LEVEL    debug, info, notice, warning or error (default notice)\n"
    "  --trace SPEC         trace components at debug level, e.g. http,-units\n"
    "  --sync-heartbeat S   push an empty batch to the parent after S idle\n"
    "                       seconds (default 10)\n"
    "  --silent-after S     flag a child silent after S seconds without\n"
    "                       contact (default 60)\n"
    "  --sync-retry-max S   wait at most S seconds between retries to reach\n"
    "                       the parent (default 30)\n"
    "  --tls-cert FILE      serve HTTPS with this PEM certificate (chain)\n"
    "  --tls-key FILE       and this unencrypted PEM private key\n"
    "  --header-timeout S   close connections that send no complete request\n"
    "                       headers within S seconds (default 10)\n"
    "  --trust-proxy ADDR   requests from this address (a reverse proxy) are\n"
    "                       the client's its X-Forwarded-For names last\n"
    "  --no-auth            serve the registries WITHOUT accounts (anyone may\n"
    "                       read and write): only to measure the cost of the\n"
    "                       checks, never in service\n"
    "  --no-audit           do not record reads of personal data (for\n"
    "                       measuring the audit trail's cost only: never in\n"
    "                       service)\n";

struct serve_opts {
    const char *data_dir;
    const char *tls_cert;
    const char *tls_key;
    bool no_auth;
    bool no_audit;
    size_t cache; /* --cache in bytes; 0: by the node's level */
};

/*
 * The database page caches.  A commune's node holds a few tens of thousands
 * of people and must stay small (under 20 MB, docs/PERFORMANCE.md): its
 * writer gets 2 MiB.  Provinces and the centre keep the store's defaults
 * (64 MiB for the writer), which spare their writer a read per insert.
 * Each reader gets an eighth of the writer's.
 */
#define CACHE_MIN     (256 * 1024)
#define CACHE_COMMUNE (2 * 1024 * 1024)

static enum lt_code size_caches(struct node *n, size_t cache, struct lt_error *err)
{
    const struct unit *u;
    int kib;

    if (cache == 0) {
        u = units_find(node_units(n), evlog_unit(node_evlog(n)), date_today());
        if (u == NULL || u->level != UNIT_COMMUNE) {
            return LT_OK;
        }
        cache = CACHE_COMMUNE;
    }
    kib = (int)(cache / 1024);
    log_notice("serve", "page cache: the writer's %d KiB, each reader's %d KiB", kib, kib / 8);
    return store_set_cache(node_store(n), kib / 8, kib, err);
}

static int usage_error(struct lt_error *err)
{
    lt_error_print(err, stderr);
    return EXIT_USAGE;
}

/* "1048576", "512K", "4M": a byte count with an optional binary suffix, from min to 1G. */
static enum lt_code parse_bytes(const char *opt, const char *s, size_t min, const char *min_text,
                                size_t *out, struct lt_error *err)
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
    if (*end != '\0' || v == 0 || v > (1ULL << 30) >> shift || (v << shift) < min) {
        goto bad;
    }
    *out = (size_t)(v << shift);
    return LT_OK;

bad:
    lt_error_set(err, LT_EINVAL, "%s must be a byte count from %s to 1G, got \"%s\"", opt, min_text,
                 s);
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
static int parse_options(int argc, char **argv, struct http_config *cfg, struct serve_opts *opts,
                         struct sync_options *so)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "listen", required_argument, NULL, 'l' },
        { "threads", required_argument, NULL, 't' },
        { "max-body", required_argument, NULL, 'b' },
        { "cache", required_argument, NULL, 'c' },
        { "log-level", required_argument, NULL, 'L' },
        { "trace", required_argument, NULL, 'T' },
        { "sync-heartbeat", required_argument, NULL, 'H' },
        { "silent-after", required_argument, NULL, 'S' },
        { "sync-retry-max", required_argument, NULL, 'R' },
        { "exit-with-parent", no_argument, NULL, 'P' },
        { "tls-cert", required_argument, NULL, 'C' },
        { "tls-key", required_argument, NULL, 'K' },
        { "header-timeout", required_argument, NULL, 'W' },
        { "trust-proxy", required_argument, NULL, 'X' },
        { "no-auth", no_argument, NULL, 'N' },
        { "no-audit", no_argument, NULL, 'A' },
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
            opts->data_dir = optarg;
            break;
        case 'C':
            opts->tls_cert = optarg;
            break;
        case 'K':
            opts->tls_key = optarg;
            break;
        case 'N':
            opts->no_auth = true;
            break;
        case 'W': {
            int ms = 0;

            if (parse_seconds("--header-timeout", optarg, &ms, &err) != LT_OK || ms < 1000) {
                lt_error_set(&err, LT_EINVAL,
                             "--header-timeout must be whole seconds from 1 to 86400, got \"%s\"",
                             optarg);
                return usage_error(&err);
            }
            cfg->header_timeout_seconds = (unsigned)(ms / 1000);
            break;
        }
        case 'l':
            cfg->listen = optarg;
            break;
        case 'X':
            cfg->trusted_proxy = optarg;
            break;
        case 't':
            if (parse_threads(optarg, &cfg->threads, &err) != LT_OK) {
                return usage_error(&err);
            }
            break;
        case 'b':
            if (parse_bytes("--max-body", optarg, 1, "1", &cfg->max_body, &err) != LT_OK) {
                return usage_error(&err);
            }
            break;
        case 'c':
            if (parse_bytes("--cache", optarg, CACHE_MIN, "256K", &opts->cache, &err) != LT_OK) {
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
        case 'A':
            opts->no_audit = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_OK;
        default:
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
    }
    if ((opts->tls_cert == NULL) != (opts->tls_key == NULL)) {
        fprintf(stderr, "lienthong: error: --tls-cert and --tls-key go together\n");
        return EXIT_USAGE;
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

/* Pulled reference data committed: use it (on the puller's thread). */
static void reload_reference(void *arg)
{
    struct lt_error err;

    if (oss_reference_load(arg, &err) != LT_OK) {
        log_error("serve", "could not load the reference data pulled: %s", err.message);
    }
}

/* Read a PEM file whole (at most 1 MiB) into *out (malloc'd). */
static enum lt_code read_pem(const char *path, char **out, struct lt_error *err)
{
    FILE *f = fopen(path, "rb");
    char *data;
    size_t n;

    if (f == NULL) {
        lt_error_set(err, LT_EIO, "could not open \"%s\"", path);
        lt_error_detail(err, "%s", strerror(errno));
        return LT_EIO;
    }
    data = xmalloc((1 << 20) + 1);
    n = fread(data, 1, 1 << 20, f);
    fclose(f);
    data[n] = '\0';
    if (n == 0 || n == 1 << 20 || strstr(data, "-----BEGIN ") == NULL) {
        free(data);
        lt_error_set(err, LT_EINVAL, "\"%s\" is not a PEM file", path);
        lt_error_hint(err, "give a certificate or key in PEM form (\"-----BEGIN ...\")");
        return LT_EINVAL;
    }
    *out = data;
    return LT_OK;
}

/* Accounts on the node's server: the guard, the routes, the policy. */
static enum lt_code start_auth(struct http_server *server, struct node *node, bool no_auth,
                               struct auth **out, struct lt_error *err)
{
    *out = auth_new(node_store(node), node_units(node), NULL);
    auth_http_register(*out, server);
    if (no_auth) {
        http_server_set_guard(server, NULL, NULL);
        log_warning("serve", "!!! --no-auth: ACCOUNTS ARE OFF. Anyone who can reach this node "
                             "may read and change every record. Use it to measure, never in "
                             "service. !!!");
        fprintf(stderr, "\nlienthong: WARNING: --no-auth: accounts are off; anyone can read and "
                        "change every record\n\n");
    }
    return auth_policy_check(server, err);
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
    struct serve_opts opts = { NULL, NULL, NULL, false, false };
    struct auth *auth = NULL;
    char *tls_cert = NULL, *tls_key = NULL;
    const char *data_dir;
    struct audit *audit = NULL;
    const struct units *u;
    sigset_t set;
    int status, sig;

    http_config_init(&cfg);
    sync_options_default(&sync_opt);
    status = parse_options(argc, argv, &cfg, &opts, &sync_opt);
    if (status >= 0) {
        return status;
    }
    data_dir = opts.data_dir;
    if (opts.tls_cert != NULL && (read_pem(opts.tls_cert, &tls_cert, &err) != LT_OK ||
                                  read_pem(opts.tls_key, &tls_key, &err) != LT_OK)) {
        lt_error_print(&err, stderr);
        free(tls_cert);
        return EXIT_USAGE;
    }
    cfg.tls_cert_pem = tls_cert;
    cfg.tls_key_pem = tls_key;

#ifdef __GLIBC__
    /* Before any thread: a node's threads mostly wait, and an arena per
     * thread keeps what each freed for itself; two shared arenas keep a
     * commune's node small (docs/PERFORMANCE.md, "Sync"). */
    mallopt(M_ARENA_MAX, 2);
#endif
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
        if (node_open(data_dir, &so, &node, &err) != LT_OK ||
            size_caches(node, opts.cache, &err) != LT_OK) {
            lt_error_print(&err, stderr);
            status = EXIT_FAILED;
            goto out;
        }
    }
    u = node != NULL ? node_units(node) : units_builtin();
    conv = address_converter_new(u);
    api_units_register(server, u);
    api_address_register(server, conv);
    web_register(server);
    if (node != NULL) {
        if (opts.no_audit) {
            log_warning("serve", "--no-audit: READS OF PERSONAL DATA ARE NOT RECORDED; "
                                 "this is for measuring the audit trail's cost, never for "
                                 "service");
        } else if (audit_new(node_store(node), node_evlog(node), NULL, &audit, &err) != LT_OK) {
            lt_error_print(&err, stderr);
            status = EXIT_FAILED;
            goto out;
        }
        api_registry_set_audit(audit);
        api_registry_register(server, node);
        oss = oss_new(node, oss_catalogue_builtin(), oss_calendar_builtin());
        if (oss_reference_load(oss, &err) != LT_OK) {
            lt_error_print(&err, stderr);
            status = EXIT_FAILED;
            goto out;
        }
        api_oss_register(server, oss);
        api_audit_register(server, node);
        if (start_sync(node, data_dir, &sync_opt, &sync, &err) != LT_OK) {
            lt_error_print(&err, stderr);
            status = EXIT_FAILED;
            goto out;
        }
        if (sync != NULL) {
            sync_register(sync, server);
            sync_on_reference(sync, reload_reference, oss);
        }
        if (start_auth(server, node, opts.no_auth, &auth, &err) != LT_OK) {
            lt_error_print(&err, stderr);
            status = EXIT_FAILED;
            goto out;
        }
    } else if (auth_policy_check(server, &err) != LT_OK) {
        lt_error_print(&err, stderr);
        status = EXIT_FAILED;
        goto out;
    }

    if (http_server_start(server, &err) != LT_OK) {
        lt_error_print(&err, stderr);
        status = EXIT_FAILED;
        goto out;
    }
    log_notice("serve", "listening on %s (%zu units, body cap %zu bytes%s%s%s)",
               http_server_url(server), units_count(u), http_server_max_body(server),
               node != NULL ? ", node " : "", node != NULL ? data_dir : "",
               node == NULL   ? ""
               : opts.no_auth ? ", ACCOUNTS OFF"
                              : ", accounts on");
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
    auth_free(auth);
    free(tls_cert);
    free(tls_key);
    api_registry_set_audit(NULL);
    audit_free(audit); /* after the server: writes what its last reads queued */
    sync_free(sync);
    oss_free(oss);
    node_close(node);
    address_converter_free(conv);
    return status;
}
