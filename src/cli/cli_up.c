/*
 * cli_up.c - "lienthong up": a whole tree of nodes on this machine.
 *
 *   lienthong up [--dir DIR] [--port BASE] [--people N] [--threads N]
 *                [--log-level LEVEL]
 *
 * Starts, on loopback, one "lienthong serve" process and one data
 * directory per node: the centre (VN), two provinces (01 Hà Nội, 79 Hồ
 * Chí Minh) and three communes (00004 Ba Đình and 00008 Ngọc Hà under 01,
 * 26740 Sài Gòn under 79), on ports BASE to BASE+5.  Data lives under DIR
 * (default ./lienthong-tree), one directory per node named by its unit
 * code, and logs under DIR/logs.  A directory that exists is reused as it
 * is; a new one is made with "lienthong init --parent", and a new commune
 * gets demo data from the generator, loaded with "lienthong import".  Each
 * child is enrolled with its parent once (a token issued on the parent's
 * database, sent by the child), parents are started before their children,
 * and the command prints each node's URL and the word "ready".
 *
 * Each new node also gets demo accounts, with passwords random to this
 * tree: a clerk and an officer at each commune, an officer, an auditor
 * and an admin at each province and at the centre, named "ROLE.CODE"
 * ("officer.00004", "admin.vn").  They are written to DIR/accounts.txt
 * (readable by its owner only) and printed with the URLs, so that a
 * newcomer can log in at once.
 *
 * SIGINT or SIGTERM (Ctrl-C) stops the tree: SIGINT to every node, then a
 * wait of up to STOP_WAIT_S seconds before SIGKILL.  A node that dies on
 * its own is reported and the rest keep running.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/auth.h"
#include "cli/commands.h"
#include "core/date.h"
#include "core/error.h"
#include "gen/gen.h"
#include "registry/registry.h"
#include "sync/client.h"
#include "sync/enrol.h"
#include "sync/state.h"
#include "core/banned.h"

#define NODES        6
#define STOP_WAIT_S  10
#define START_WAIT_S 30
#define MAX_RESTARTS 5

/* As registry.h asks records to be dumped. */
#define DEMO_DUMP (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

extern char **environ;

static const char usage_text[] =
    "usage: lienthong up [--dir DIR] [--port BASE] [--people N] [--threads N]\n"
    "                    [--log-level LEVEL]\n"
    "\n"
    "Run a local tree of nodes on loopback: the centre (VN), provinces 01 and\n"
    "79, and communes 00004, 00008 (under 01) and 26740 (under 79), each its own\n"
    "process and data directory.  Ctrl-C stops them all.\n"
    "\n"
    "options:\n"
    "  --dir DIR          where the nodes' data lives (default ./lienthong-tree);\n"
    "                     reused when present\n"
    "  --port BASE        the centre's port; the others follow (default 8400)\n"
    "  --people N         demo people per new commune (default 200; 0: none)\n"
    "  --threads N        HTTP worker threads per node (default 2)\n"
    "  --log-level LEVEL  the nodes' log level (default notice)\n";

struct tree_node {
    const char *code;
    int parent; /* index, -1 for the centre */
    char dir[PATH_MAX];
    char log[PATH_MAX];
    char url[64];
    int port;
    bool fresh;
    pid_t pid;
    int restarts;
};

struct up {
    char dir[PATH_MAX];
    char self[PATH_MAX];
    int port;
    long people;
    int threads;
    const char *level;
    struct tree_node nodes[NODES];
};

static const struct {
    const char *code;
    int parent;
} layout[NODES] = {
    { "VN", -1 }, { "01", 0 }, { "79", 0 }, { "00004", 1 }, { "00008", 1 }, { "26740", 2 },
};

static int fail(const struct lt_error *err)
{
    lt_error_print(err, stderr);
    return EXIT_FAILED;
}

/* Run self with args, output appended to log; returns the child's pid or -1. */
static pid_t spawn(const struct up *up, const char *log, char *const *args)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, deflt;
    pid_t pid = -1;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigemptyset(&deflt);
    sigaddset(&deflt, SIGINT);
    sigaddset(&deflt, SIGTERM);
    sigaddset(&deflt, SIGCHLD);
    sigaddset(&deflt, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &deflt);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (posix_spawn(&pid, up->self, &fa, &at, args, environ) != 0) {
        pid = -1;
    }
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* Run a command to completion; its exit status, or -1. */
static int run(const struct up *up, const char *log, char *const *args)
{
    pid_t pid = spawn(up, log, args);
    int st;

    if (pid < 0) {
        return -1;
    }
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static enum lt_code make_dir(const char *dir, struct lt_error *err)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        return lt_error_set(err, LT_EIO, "could not create \"%s\": %s", dir, strerror(errno));
    }
    return LT_OK;
}

/* Bring a reused node's parent URL in line with this run's ports. */
struct url_fix {
    const char *url;
    bool changed;
};

static enum lt_code fix_url_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct url_fix *f = arg;
    struct sync_self self;
    bool found = false;
    enum lt_code rc = sync_self_get(c, &self, &found, err);

    if (rc != LT_OK || !found || strcmp(self.parent_url, f->url) == 0) {
        return rc;
    }
    f->changed = true;
    return sync_self_set_url(c, f->url, err);
}

static enum lt_code fix_parent_url(const struct tree_node *t, const char *url, struct lt_error *err)
{
    struct store_options so;
    struct node *n = NULL;
    struct url_fix f = { .url = url };
    enum lt_code rc;

    store_options_default(&so);
    so.readers = 1;
    rc = node_open(t->dir, &so, &n, err);
    if (rc == LT_OK) {
        rc = store_write(node_store(n), fix_url_fn, &f, err);
    }
    node_close(n);
    if (rc == LT_OK && f.changed) {
        printf("  %-6s parent URL is now %s\n", t->code, url);
    }
    return rc;
}

/* Demo accounts (see the top of the file). */

static void accounts_path(const struct up *up, char *out, size_t cap)
{
    snprintf(out, cap, "%s/accounts.txt", up->dir);
}

static enum lt_code add_demo_account(struct auth *au, FILE *list, const struct tree_node *t,
                                     enum auth_role role, struct lt_error *err)
{
    struct auth_principal acct;
    unsigned char raw[12];
    char secret[24], password[32];
    enum lt_code rc;

    memset(&acct, 0, sizeof(acct));
    acct.role = role;
    snprintf(acct.unit, sizeof(acct.unit), "%s", t->code);
    snprintf(acct.account, sizeof(acct.account), "%s.%s", auth_role_name(role),
             strcmp(t->code, "VN") == 0 ? "vn" : t->code);
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(secret, sizeof(secret), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    /* The "-7-" makes sure of a digit and a sign whatever the random part. */
    snprintf(password, sizeof(password), "lt-7-%s", secret);
    rc = auth_account_add(au, NULL, &acct, password, err);
    if (rc == LT_OK) {
        fprintf(list, "%-22s %-16s %-8s %-6s %s\n", t->url, acct.account, auth_role_name(role),
                t->code, password);
    }
    return rc;
}

static enum lt_code make_demo_accounts(const struct up *up, const struct tree_node *t,
                                       struct lt_error *err)
{
    static const enum auth_role commune[] = { AUTH_CLERK, AUTH_OFFICER };
    static const enum auth_role upper[] = { AUTH_OFFICER, AUTH_AUDITOR, AUTH_ADMIN };
    bool is_commune = strlen(t->code) == 5;
    const enum auth_role *roles = is_commune ? commune : upper;
    size_t n = is_commune ? 2 : 3;
    char path[PATH_MAX + 16];
    struct store_options so;
    struct store *st = NULL;
    struct auth *au;
    FILE *list;
    int fd;
    enum lt_code rc = LT_OK;

    accounts_path(up, path, sizeof(path));
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    list = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (list == NULL) {
        if (fd >= 0) {
            close(fd);
        }
        lt_error_set(err, LT_EIO, "could not write \"%s\"", path);
        lt_error_detail(err, "%s", strerror(errno));
        return LT_EIO;
    }
    store_options_default(&so);
    rc = store_open(t->dir, &so, &st, err);
    if (rc == LT_OK) {
        au = auth_new(st, units_builtin(), NULL);
        for (size_t i = 0; i < n && rc == LT_OK; i++) {
            rc = add_demo_account(au, list, t, roles[i], err);
        }
        auth_free(au);
        store_close(st);
    }
    fclose(list);
    return rc;
}

/* Create (or keep) each node's data directory. */
static enum lt_code prepare_nodes(struct up *up, struct lt_error *err)
{
    for (int i = 0; i < NODES; i++) {
        struct tree_node *t = &up->nodes[i];
        const char *parent_url = t->parent >= 0 ? up->nodes[t->parent].url : NULL;
        char *args[10];
        int k = 0, st;

        if (store_exists(t->dir)) {
            if (parent_url != NULL && fix_parent_url(t, parent_url, err) != LT_OK) {
                return err->code;
            }
            continue;
        }
        args[k++] = (char *)"lienthong";
        args[k++] = (char *)"init";
        args[k++] = (char *)"--data";
        args[k++] = t->dir;
        args[k++] = (char *)"--unit";
        args[k++] = (char *)t->code;
        if (parent_url != NULL) {
            args[k++] = (char *)"--parent";
            args[k++] = (char *)parent_url;
        }
        args[k] = NULL;
        st = run(up, t->log, args);
        if (st != 0) {
            lt_error_set(err, LT_EIO, "could not create node %s in \"%s\"", t->code, t->dir);
            lt_error_hint(err, "see its log: %s", t->log);
            return LT_EIO;
        }
        t->fresh = true;
        if (make_demo_accounts(up, t, err) != LT_OK) {
            return err->code;
        }
    }
    return LT_OK;
}

/* Demo data: generated once for every new commune, split by commune. */

static const enum registry_kind import_order[REG_KIND_COUNT] = {
    REG_PERSON, REG_HOUSEHOLD, REG_RESIDENCE, REG_BUSINESS, REG_PARCEL, REG_BENEFIT,
};

struct demo_rec {
    enum registry_kind kind;
    json_t *rec;
};

struct demo {
    struct up *up;
    struct demo_rec *recs;
    size_t n, alloc;
};

static enum lt_code collect(enum registry_kind kind, json_t *record, void *arg,
                            struct lt_error *err)
{
    struct demo *d = arg;

    (void)err;
    if (d->n == d->alloc) {
        d->alloc = d->alloc ? 2 * d->alloc : 1024;
        d->recs = xrealloc(d->recs, d->alloc * sizeof(*d->recs));
    }
    d->recs[d->n].kind = kind;
    d->recs[d->n++].rec = json_incref(record);
    return LT_OK;
}

static const char *str_of(const json_t *rec, const char *field)
{
    return json_string_value(json_object_get(rec, field));
}

static int node_of_unit(const struct up *up, const char *unit)
{
    for (int i = 0; unit != NULL && i < NODES; i++) {
        if (strcmp(up->nodes[i].code, unit) == 0) {
            return i;
        }
    }
    return -1;
}

/* The person IDs' communes, from their permanent residences. */
static int person_node(const struct demo *d, const char *id)
{
    for (size_t i = 0; id != NULL && i < d->n; i++) {
        const json_t *r = d->recs[i].rec;

        if (d->recs[i].kind == REG_RESIDENCE && strcmp(str_of(r, "kind"), "permanent") == 0 &&
            strcmp(str_of(r, "person_id"), id) == 0) {
            return node_of_unit(d->up, str_of(r, "unit"));
        }
    }
    return -1;
}

static int record_node(const struct demo *d, const struct demo_rec *r)
{
    switch (r->kind) {
    case REG_PERSON:
        return person_node(d, str_of(r->rec, "id"));
    case REG_BENEFIT:
        return person_node(d, str_of(r->rec, "person_id"));
    default:
        return node_of_unit(d->up, str_of(r->rec, "unit"));
    }
}

static const char *const plural[REG_KIND_COUNT] = {
    [REG_PERSON] = "people",  [REG_RESIDENCE] = "residences", [REG_HOUSEHOLD] = "households",
    [REG_PARCEL] = "parcels", [REG_BENEFIT] = "benefits",     [REG_BUSINESS] = "businesses",
};

/* DIR/demo/CODE/KINDS.ndjson; with kind -1 the directory itself. */
static void demo_path(const struct up *up, const struct tree_node *t, int kind, char *out,
                      size_t cap)
{
    if (kind < 0) {
        snprintf(out, cap, "%s/demo/%s", up->dir, t->code);
    } else {
        snprintf(out, cap, "%s/demo/%s/%s.ndjson", up->dir, t->code, plural[kind]);
    }
}

/* Write each new commune's records to its files, one per kind. */
static enum lt_code write_demo(struct demo *d, struct lt_error *err)
{
    FILE *files[NODES][REG_KIND_COUNT] = { { NULL } };
    char path[PATH_MAX + 64];
    enum lt_code rc = LT_OK;

    for (size_t i = 0; i < d->n && rc == LT_OK; i++) {
        int k = record_node(d, &d->recs[i]);
        enum registry_kind kind = d->recs[i].kind;

        if (k < 0 || !d->up->nodes[k].fresh) {
            continue; /* XXX: a person without a permanent residence is left out of the demo */
        }
        if (files[k][kind] == NULL) {
            demo_path(d->up, &d->up->nodes[k], -1, path, sizeof(path));
            if ((rc = make_dir(path, err)) != LT_OK) {
                break;
            }
            demo_path(d->up, &d->up->nodes[k], (int)kind, path, sizeof(path));
            files[k][kind] = fopen(path, "w");
            if (files[k][kind] == NULL) {
                rc = lt_error_set(err, LT_EIO, "could not write \"%s\": %s", path, strerror(errno));
                break;
            }
        }
        if (json_dumpf(d->recs[i].rec, files[k][kind], DEMO_DUMP) != 0 ||
            fputc('\n', files[k][kind]) == EOF) {
            rc = lt_error_set(err, LT_EIO, "could not write demo data: %s", strerror(errno));
        }
    }
    for (int k = 0; k < NODES; k++) {
        for (int j = 0; j < REG_KIND_COUNT; j++) {
            if (files[k][j] != NULL && fclose(files[k][j]) != 0 && rc == LT_OK) {
                rc = lt_error_set(err, LT_EIO, "could not write demo data: %s", strerror(errno));
            }
        }
    }
    return rc;
}

static void import_demo(const struct up *up, const struct tree_node *t)
{
    char path[PATH_MAX + 64];
    struct stat st;

    for (int j = 0; j < REG_KIND_COUNT; j++) {
        char *args[] = { (char *)"lienthong",
                         (char *)"import",
                         (char *)"--data",
                         (char *)t->dir,
                         (char *)"--kind",
                         (char *)plural[import_order[j]],
                         path,
                         NULL };
        int status;

        demo_path(up, t, (int)import_order[j], path, sizeof(path));
        if (stat(path, &st) != 0) {
            continue;
        }
        status = run(up, t->log, args);
        if (status != 0) {
            fprintf(stderr,
                    "lienthong: warning: demo import of %s into %s exited with %d (see %s)\n", path,
                    t->code, status, t->log);
        }
    }
}

static enum lt_code load_demo(struct up *up, struct lt_error *err)
{
    const char *units[NODES];
    struct gen_options o = { .units = units, .people = up->people, .seed = 1 };
    struct demo d = { .up = up };
    char dir[PATH_MAX + 8];
    enum lt_code rc;

    for (int i = 0; i < NODES; i++) {
        const struct unit *u = units_find(units_builtin(), up->nodes[i].code, date_today());

        if (up->nodes[i].fresh && u != NULL && u->level == UNIT_COMMUNE) {
            units[o.nunits++] = up->nodes[i].code;
        }
    }
    if (o.nunits == 0 || up->people == 0) {
        return LT_OK;
    }
    snprintf(dir, sizeof(dir), "%s/demo", up->dir);
    o.today = date_today();
    rc = make_dir(dir, err);
    if (rc == LT_OK) {
        rc = gen_run(units_builtin(), &o, collect, &d, err);
    }
    if (rc == LT_OK) {
        rc = write_demo(&d, err);
    }
    for (size_t i = 0; i < d.n; i++) {
        json_decref(d.recs[i].rec);
    }
    free(d.recs);
    if (rc != LT_OK) {
        return rc;
    }
    printf("loading demo data (%ld people per new commune) with lienthong import\n", up->people);
    fflush(stdout);
    for (int i = 0; i < NODES; i++) {
        if (up->nodes[i].fresh) {
            import_demo(up, &up->nodes[i]);
        }
    }
    return LT_OK;
}

/* Starting, enrolling, stopping. */

static bool node_alive(struct tree_node *t)
{
    int st;

    if (t->pid <= 0) {
        return false;
    }
    if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
        t->pid = 0;
        return false;
    }
    return true;
}

static enum lt_code wait_healthy(struct tree_node *t, struct lt_error *err)
{
    struct sync_client *cl = sync_client_new(t->url, NULL, NULL, NULL, 1000);
    struct buf reply;
    struct lt_error ignored;
    enum lt_code rc = LT_EUNAVAIL;

    buf_init(&reply, SYNC_REPLY_MAX);
    for (int i = 0; i < START_WAIT_S * 20 && node_alive(t); i++) {
        long status = 0;

        if (sync_client_request(cl, "GET", "/healthz", NULL, 0, &status, &reply, &ignored) ==
                LT_OK &&
            status == 200) {
            rc = LT_OK;
            break;
        }
        usleep(50 * 1000);
    }
    buf_release(&reply);
    sync_client_free(cl);
    if (rc != LT_OK) {
        lt_error_set(err, LT_EUNAVAIL, "node %s did not come up on %s", t->code, t->url);
        lt_error_hint(err, "see its log: %s", t->log);
    }
    return rc;
}

/* True if nothing listens on 127.0.0.1:port now. */
static bool port_free(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    bool ok;

    if (fd < 0) {
        return false;
    }
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static enum lt_code start_node(struct up *up, struct tree_node *t, struct lt_error *err)
{
    char listen[32], threads[16];
    char *args[] = { (char *)"lienthong",
                     (char *)"serve",
                     (char *)"--data",
                     t->dir,
                     (char *)"--listen",
                     listen,
                     (char *)"--threads",
                     threads,
                     (char *)"--log-level",
                     (char *)up->level,
                     (char *)"--exit-with-parent",
                     NULL };

    if (!port_free(t->port)) {
        lt_error_set(err, LT_EIO, "port %d for node %s is taken", t->port, t->code);
        lt_error_hint(err,
                      "is another \"lienthong up\" or \"serve\" running? stop it, or give --port");
        return LT_EIO;
    }
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", t->port);
    snprintf(threads, sizeof(threads), "%d", up->threads);
    t->pid = spawn(up, t->log, args);
    if (t->pid < 0) {
        t->pid = 0;
        return lt_error_set(err, LT_EIO, "could not start node %s: %s", t->code, strerror(errno));
    }
    return wait_healthy(t, err);
}

struct enrolled_read {
    struct sync_self self;
    bool found;
};

static enum lt_code enrolled_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct enrolled_read *r = arg;

    return sync_self_get(c, &r->self, &r->found, err);
}

/* Enrol child t with its parent p (serving) unless it is enrolled already. */
static enum lt_code enrol_node(struct tree_node *t, struct tree_node *p, struct lt_error *err)
{
    struct store_options so;
    struct node *child = NULL, *parent = NULL;
    struct enrolled_read r;
    struct sync_enrolment e;
    char token[SYNC_TOKEN_CHARS + 1];
    int64_t expires;
    enum lt_code rc;

    store_options_default(&so);
    so.readers = 1;
    rc = node_open(t->dir, &so, &child, err);
    if (rc == LT_OK) {
        rc = store_read(node_store(child), enrolled_fn, &r, err);
    }
    if (rc == LT_OK && r.found && r.self.enrolled) {
        node_close(child);
        return LT_OK;
    }
    if (rc == LT_OK) {
        rc = node_open(p->dir, &so, &parent, err);
    }
    if (rc == LT_OK) {
        rc = sync_enrol_issue(parent, t->code, 0, token, &expires, err);
    }
    node_close(parent);
    if (rc == LT_OK) {
        rc = sync_enrol_request(child, t->dir, token, p->url, &e, err);
    }
    node_close(child);
    if (rc == LT_OK) {
        printf("  enrolled %s with %s\n", t->code, p->code);
    }
    return rc;
}

static void stop_tree(struct up *up)
{
    for (int i = NODES - 1; i >= 0; i--) {
        if (up->nodes[i].pid > 0) {
            kill(up->nodes[i].pid, SIGINT);
        }
    }
    for (int w = 0; w < STOP_WAIT_S * 20; w++) {
        bool any = false;

        for (int i = 0; i < NODES; i++) {
            any = node_alive(&up->nodes[i]) || any;
        }
        if (!any) {
            return;
        }
        usleep(50 * 1000);
    }
    for (int i = 0; i < NODES; i++) {
        if (node_alive(&up->nodes[i])) {
            fprintf(stderr, "lienthong: node %s did not stop in %d s; killing it\n",
                    up->nodes[i].code, STOP_WAIT_S);
            kill(up->nodes[i].pid, SIGKILL);
            waitpid(up->nodes[i].pid, NULL, 0);
            up->nodes[i].pid = 0;
        }
    }
}

/* Reap nodes that died on their own, say so, and start them again (a few
 * times: a node that keeps dying needs a person to read its log). */
static void reap(struct up *up)
{
    for (int i = 0; i < NODES; i++) {
        struct tree_node *t = &up->nodes[i];
        struct lt_error err;
        int st;

        if (t->pid <= 0 || waitpid(t->pid, &st, WNOHANG) != t->pid) {
            continue;
        }
        fprintf(stderr, "lienthong: node %s exited (%s %d); see %s\n", t->code,
                WIFEXITED(st) ? "status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
                t->log);
        t->pid = 0;
        if (t->restarts >= MAX_RESTARTS) {
            fprintf(stderr, "lienthong: node %s is left stopped after %d restarts\n", t->code,
                    t->restarts);
            continue;
        }
        t->restarts++;
        if (start_node(up, t, &err) == LT_OK) {
            fprintf(stderr, "lienthong: node %s restarted on %s\n", t->code, t->url);
        } else {
            lt_error_print(&err, stderr);
        }
    }
}

/* Spaces that bring UTF-8 text s to width columns (one per code point). */
static int pad(const char *s, int width)
{
    int n = 0;

    for (; *s != '\0'; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n < width ? width - n : 0;
}

static void print_accounts(const struct up *up)
{
    char path[PATH_MAX + 16], line[256];
    FILE *f;

    accounts_path(up, path, sizeof(path));
    f = fopen(path, "r");
    if (f == NULL) {
        printf("no demo accounts (%s is missing): add some with \"lienthong user add\"\n", path);
        return;
    }
    printf("accounts (also in %s):\n  %-22s %-16s %-8s %-6s %s\n", path, "NODE", "ACCOUNT", "ROLE",
           "UNIT", "PASSWORD");
    while (fgets(line, sizeof(line), f) != NULL) {
        printf("  %s", line);
    }
    fclose(f);
}

static void print_tree(const struct up *up)
{
    printf("lienthong tree in %s:\n", up->dir);
    for (int i = 0; i < NODES; i++) {
        const struct tree_node *t = &up->nodes[i];
        const struct unit *u = units_find(units_builtin(), t->code, date_today());
        char parent[32] = "centre";

        if (t->parent >= 0) {
            snprintf(parent, sizeof(parent), "parent %s", up->nodes[t->parent].code);
        }
        printf("  %-6s %s%*s %s  %s\n", t->code, u != NULL ? u->name : "",
               pad(u != NULL ? u->name : "", 26), "", t->url, parent);
    }
    print_accounts(up);
    printf("web UI, the counter of 00004: %s/ (clerk.00004 receives, officer.00004 decides)\n",
           up->nodes[3].url);
    printf("web UI, the sync dashboard of 01: %s/nodes (officer.01)\n", up->nodes[1].url);
    printf("try (log in as the officer of commune 00004, then use the token):\n"
           "  TOKEN=$(curl -s %s/api/v1/auth/login -d '{\"account\":\"officer.00004\","
           "\"password\":\"PASSWORD\"}' | sed 's/.*\"token\":\"\\([^\"]*\\)\".*/\\1/')\n"
           "  curl -H \"Authorization: Bearer $TOKEN\" %s/sync/v1/status\n"
           "  curl -H \"Authorization: Bearer $TOKEN\" -H 'X-Purpose: demo' -X POST "
           "%s/api/v1/people -d '{\"id\":\"001090123456\",\"full_name\":\"Nguyễn "
           "Văn An\",\"birth_date\":\"1990-05-01\",\"sex\":\"male\",\"ethnicity\":\"01\","
           "\"nationality\":\"VN\",\"status\":\"alive\"}'\n"
           "  curl -H \"Authorization: Bearer $TOKEN\" -H 'X-Purpose: demo' "
           "%s/api/v1/people/001090123456\n"
           "logs in %s/logs; Ctrl-C stops the tree\n",
           up->nodes[3].url, up->nodes[3].url, up->nodes[3].url, up->nodes[3].url, up->dir);
}

static int run_tree(struct up *up, const sigset_t *set)
{
    struct lt_error err;
    int sig = 0;

    for (int i = 0; i < NODES; i++) {
        struct tree_node *t = &up->nodes[i];

        if (t->parent >= 0 && enrol_node(t, &up->nodes[t->parent], &err) != LT_OK) {
            lt_error_print(&err, stderr);
            stop_tree(up);
            return EXIT_FAILED;
        }
        if (start_node(up, t, &err) != LT_OK) {
            lt_error_print(&err, stderr);
            stop_tree(up);
            return EXIT_FAILED;
        }
    }
    print_tree(up);
    printf("ready\n");
    fflush(stdout);

    for (;;) {
        while (sigwait(set, &sig) != 0) {
            /* only an invalid set makes sigwait fail */
        }
        if (sig != SIGCHLD) {
            break;
        }
        reap(up);
    }
    printf("stopping the tree (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    fflush(stdout);
    stop_tree(up);
    printf("stopped\n");
    return EXIT_OK;
}

static int setup(struct up *up, struct lt_error *err)
{
    char logs[PATH_MAX + 8];
    ssize_t n = readlink("/proc/self/exe", up->self, sizeof(up->self) - 1);

    if (n <= 0) {
        lt_error_set(err, LT_EIO, "could not find this program: %s", strerror(errno));
        return fail(err);
    }
    up->self[n] = '\0';
    snprintf(logs, sizeof(logs), "%s/logs", up->dir);
    if (make_dir(up->dir, err) != LT_OK || make_dir(logs, err) != LT_OK) {
        return fail(err);
    }
    for (int i = 0; i < NODES; i++) {
        struct tree_node *t = &up->nodes[i];

        t->code = layout[i].code;
        t->parent = layout[i].parent;
        t->port = up->port + i;
        if ((size_t)snprintf(t->dir, sizeof(t->dir), "%s/%s", up->dir, t->code) >= sizeof(t->dir) ||
            (size_t)snprintf(t->log, sizeof(t->log), "%s/%s.log", logs, t->code) >=
                sizeof(t->log)) {
            lt_error_set(err, LT_EINVAL, "--dir \"%.60s...\" is too long", up->dir);
            return fail(err);
        }
        snprintf(t->url, sizeof(t->url), "http://127.0.0.1:%d", t->port);
    }
    return -1;
}

static bool parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

static int parse_options(int argc, char **argv, struct up *up)
{
    static const struct option longopts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "port", required_argument, NULL, 'p' },
        { "people", required_argument, NULL, 'n' },
        { "threads", required_argument, NULL, 't' },
        { "log-level", required_argument, NULL, 'L' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long v;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            snprintf(up->dir, sizeof(up->dir), "%s", optarg);
            break;
        case 'p':
            if (!parse_int(optarg, 1, 65535 - NODES, &v)) {
                fprintf(stderr, "lienthong: error: --port must be a port from 1 to %d\n",
                        65535 - NODES);
                return EXIT_USAGE;
            }
            up->port = (int)v;
            break;
        case 'n':
            if (!parse_int(optarg, 0, 100000, &up->people)) {
                fprintf(stderr, "lienthong: error: --people must be from 0 to 100000\n");
                return EXIT_USAGE;
            }
            break;
        case 't':
            if (!parse_int(optarg, 1, 64, &v)) {
                fprintf(stderr, "lienthong: error: --threads must be from 1 to 64\n");
                return EXIT_USAGE;
            }
            up->threads = (int)v;
            break;
        case 'L':
            up->level = optarg;
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
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    return -1;
}

int cmd_up(int argc, char **argv)
{
    struct up *up = xcalloc(1, sizeof(*up));
    struct lt_error err;
    sigset_t set;
    int status;

    snprintf(up->dir, sizeof(up->dir), "./lienthong-tree");
    up->port = 8400;
    up->people = 200;
    up->threads = 2;
    up->level = "notice";
    status = parse_options(argc, argv, up);
    if (status < 0) {
        status = setup(up, &err);
    }
    if (status >= 0) {
        free(up);
        return status;
    }

    /* Blocked before any child exists; children get a clean mask (spawn). */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (sync_client_global_init(&err) != LT_OK || prepare_nodes(up, &err) != LT_OK ||
        load_demo(up, &err) != LT_OK) {
        free(up);
        return fail(&err);
    }
    status = run_tree(up, &set);
    free(up);
    return status;
}
