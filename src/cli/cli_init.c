/*
 * cli_init.c - "lienthong init": create a node's data directory.
 *
 *   lienthong init --data DIR --unit CODE [--parent URL]
 *
 * The unit must be in force today (a commune, a province, or VN for the
 * centre).  The directory is built under a temporary name next to DIR and
 * renamed into place only when complete, so a failure leaves nothing behind
 * and DIR either holds a whole node or does not exist.  DIR may exist if it
 * is empty; a directory that holds a node, or anything else, is refused
 * untouched.  The node's identity (its origin id: the unit code and 32
 * random bits) is recorded in the database, and its log starts with a
 * node.initialised event.  The node also gets its Ed25519 key pair: the
 * secret seed in DIR/node.key (mode 0600), the public key and the parent's
 * URL, if given, in the sync tables (src/sync/keys.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/date.h"
#include "core/error.h"
#include "evlog/evlog.h"
#include "store/store.h"
#include "sync/enrol.h"
#include "sync/keys.h"
#include "sync/state.h"
#include "units/units.h"
#include "core/banned.h"

#ifndef LT_VERSION
#define LT_VERSION "0.1.0"
#endif

static const char usage_text[] =
    "usage: lienthong init --data DIR --unit CODE [--parent URL]\n"
    "\n"
    "Create the data directory of a new node for an administrative unit.\n"
    "\n"
    "options:\n"
    "  --data DIR    the directory to create (it may exist if empty)\n"
    "  --unit CODE   a commune code (\"00004\"), a province code (\"01\") or VN\n"
    "                for the centre; the unit must be in force today\n"
    "  --parent URL  the parent node's URL (http://HOST:PORT), for nodes below\n"
    "                the centre; enrol with it later: lienthong enrol --token T\n";

static int fail(const struct lt_error *err)
{
    lt_error_print(err, stderr);
    return EXIT_FAILED;
}

/* DIR may be created, or is an empty directory; anything else is refused. */
static enum lt_code check_target(const char *dir, struct lt_error *err)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    bool empty = true;

    if (stat(dir, &st) != 0) {
        if (errno == ENOENT) {
            return LT_OK;
        }
        lt_error_set(err, LT_EIO, "could not look at \"%s\": %s", dir, strerror(errno));
        return LT_EIO;
    }
    if (store_exists(dir)) {
        lt_error_set(err, LT_ECONFLICT, "\"%s\" already holds a node", dir);
        lt_error_detail(err, "it has a database %s/%s; nothing was changed", dir, STORE_DB_NAME);
        lt_error_hint(err, "choose another directory, or list its log: lienthong log --data %s",
                      dir);
        return LT_ECONFLICT;
    }
    if (!S_ISDIR(st.st_mode)) {
        lt_error_set(err, LT_EIO, "\"%s\" exists and is not a directory", dir);
        return LT_EIO;
    }
    d = opendir(dir);
    if (d == NULL) {
        lt_error_set(err, LT_EIO, "could not read directory \"%s\": %s", dir, strerror(errno));
        return LT_EIO;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            empty = false;
            break;
        }
    }
    closedir(d);
    if (!empty) {
        lt_error_set(err, LT_ECONFLICT, "directory \"%s\" is not empty", dir);
        lt_error_hint(err, "give a new or empty directory; nothing was changed");
        return LT_ECONFLICT;
    }
    return LT_OK;
}

/* Split DIR into its parent and its last component (both owned by the caller). */
static void split_path(const char *dir, char *parent, size_t pcap, char *base, size_t bcap)
{
    size_t len = strlen(dir);
    const char *slash;

    while (len > 1 && dir[len - 1] == '/') {
        len--;
    }
    slash = len > 0 ? memrchr(dir, '/', len) : NULL;
    if (slash == NULL) {
        snprintf(parent, pcap, ".");
        snprintf(base, bcap, "%.*s", (int)len, dir);
    } else {
        snprintf(parent, pcap, "%.*s", slash == dir ? 1 : (int)(slash - dir), dir);
        snprintf(base, bcap, "%.*s", (int)(len - (size_t)(slash - dir) - 1), slash + 1);
    }
}

/* Remove a directory this command made, with whatever is in it (flat). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                unlinkat(dirfd(d), e->d_name, 0);
            }
        }
        closedir(d);
    }
    rmdir(dir);
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);

    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

struct genesis {
    struct evlog *log;
    const char *origin;
    const char *unit;
    const char *parent_url;
    const uint8_t *pk;
    struct event ev;
};

static enum lt_code write_identity(struct store_conn *c, void *arg, struct lt_error *err)
{
    const struct genesis *g = arg;

    return evlog_init_node(c, g->origin, g->unit, err);
}

static enum lt_code write_sync_identity(struct store_conn *c, void *arg, struct lt_error *err)
{
    const struct genesis *g = arg;

    return sync_self_create(c, g->pk, g->parent_url, err);
}

static enum lt_code write_genesis(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct genesis *g = arg;

    return evlog_append(g->log, c, &g->ev, NULL, err);
}

/* Build the node in dir (a fresh temporary directory). */
static enum lt_code build_node(const char *dir, const struct units *u, const struct unit *unit,
                               const char *origin, const char *parent_url, int *version,
                               struct event *first, uint8_t pk[SYNC_PK_BYTES], struct lt_error *err)
{
    const struct unit *province = unit_province(u, unit);
    struct store_options o;
    struct store *s = NULL;
    struct genesis g = { .origin = origin, .unit = unit->code, .parent_url = parent_url, .pk = pk };
    struct sync_key key = { { 0 }, { 0 } };
    json_t *body;
    enum lt_code rc;

    store_options_default(&o);
    o.create = true;
    o.readers = 1;
    rc = store_open(dir, &o, &s, err);
    if (rc != LT_OK) {
        return rc;
    }
    *version = store_schema_version(s);
    rc = store_write(s, write_identity, &g, err);
    if (rc == LT_OK) {
        rc = sync_key_create(dir, &key, err);
        memcpy(pk, key.pk, SYNC_PK_BYTES);
        sync_key_wipe(&key); /* the secret lives in the key file only */
    }
    if (rc == LT_OK) {
        rc = store_write(s, write_sync_identity, &g, err);
    }
    if (rc == LT_OK) {
        rc = evlog_open(s, &g.log, err);
    }
    if (rc == LT_OK) {
        body = json_pack("{s:s, s:s, s:s, s:s, s:s*, s:s}", "origin", origin, "unit", unit->code,
                         "unit_name", unit->name, "level", unit_level_name(unit->level), "province",
                         province != NULL && province != unit ? province->code : NULL, "program",
                         "lienthong " LT_VERSION);
        snprintf(g.ev.actor, sizeof(g.ev.actor), "system");
        snprintf(g.ev.type, sizeof(g.ev.type), "node.initialised");
        snprintf(g.ev.entity, sizeof(g.ev.entity), "node/%s", origin);
        snprintf(g.ev.cause, sizeof(g.ev.cause), "lienthong init");
        g.ev.effective = date_today();
        g.ev.body = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(body);
        rc = store_write(s, write_genesis, &g, err);
        *first = g.ev;
        first->body = NULL;
        free(g.ev.body);
    }
    evlog_free(g.log);
    store_close(s);
    return rc;
}

/* Make the temporary directory next to dir that becomes dir when complete. */
static enum lt_code make_temp(const char *dir, const char *code, char *parent, size_t pcap,
                              char *tmp, size_t tcap, struct lt_error *err)
{
    char base[NAME_MAX + 1];

    split_path(dir, parent, pcap, base, sizeof(base));
    if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        lt_error_set(err, LT_EINVAL, "\"%s\" cannot be a new data directory", dir);
        lt_error_hint(err, "name the directory to create, e.g. --data /var/lib/lienthong/%s", code);
        return LT_EINVAL;
    }
    if ((size_t)snprintf(tmp, tcap, "%s/.%s.init-XXXXXX", parent, base) >= tcap) {
        return lt_error_set(err, LT_EINVAL, "data directory path \"%.64s...\" is too long", dir);
    }
    /* XXX: an init killed midway leaves this hidden directory behind; nothing removes it. */
    if (mkdtemp(tmp) == NULL) {
        lt_error_set(err, LT_EIO, "could not create data directory \"%s\": %s", dir,
                     strerror(errno));
        if (errno == ENOENT || errno == ENOTDIR) {
            lt_error_detail(err, "\"%s\" is not an existing directory", parent);
            lt_error_hint(err, "create the parent directory first");
        }
        return LT_EIO;
    }
    return LT_OK;
}

/* Build the node under tmp and move it to dir; on failure tmp goes. */
static enum lt_code make_node(const char *dir, const char *tmp, const char *parent,
                              const struct units *u, const struct unit *unit, const char *url,
                              char *origin, size_t ocap, int *version, struct event *first,
                              uint8_t pk[SYNC_PK_BYTES], struct lt_error *err)
{
    uint8_t rnd[4];
    enum lt_code rc = LT_OK;

    if (sodium_init() < 0) {
        rc = lt_error_set(err, LT_EINTERNAL, "could not initialise libsodium");
        goto out;
    }
    randombytes_buf(rnd, sizeof(rnd));
    snprintf(origin, ocap, "%s-%02x%02x%02x%02x", unit->code, rnd[0], rnd[1], rnd[2], rnd[3]);
    rc = build_node(tmp, u, unit, origin, url, version, first, pk, err);
    if (rc != LT_OK) {
        goto out;
    }
    if (rename(tmp, dir) != 0) {
        rc = lt_error_set(err, LT_EIO, "could not move the new node into \"%s\": %s", dir,
                          strerror(errno));
        lt_error_hint(err, "was the directory created meanwhile? nothing was changed");
        goto out;
    }
    sync_dir(parent);
out:
    if (rc != LT_OK) {
        remove_tree(tmp);
    }
    return rc;
}

static int init_node(const char *dir, const char *code, const char *url)
{
    const struct units *u = units_builtin();
    const struct unit *unit = units_find(u, code, date_today());
    char parent[PATH_MAX], tmp[PATH_MAX + NAME_MAX + 32], origin[EVLOG_ORIGIN_MAX];
    struct event first;
    struct lt_error err;
    uint8_t pk[SYNC_PK_BYTES];
    char pk_hex[SYNC_PK_HEX];
    int version = 0;

    if (unit == NULL) {
        units_explain_missing(u, code, &err);
        return fail(&err);
    }
    if (unit->level == UNIT_DISTRICT) {
        lt_error_set(&err, LT_EINVAL, "\"%s\" is a district; nodes serve communes and provinces",
                     code);
        return fail(&err);
    }
    if (url != NULL && unit->level == UNIT_NATION) {
        lt_error_set(&err, LT_EINVAL, "the centre (VN) has no parent");
        lt_error_hint(&err, "leave out --parent for the centre");
        return fail(&err);
    }
    if (url != NULL && !sync_url_ok(url)) {
        lt_error_set(&err, LT_EINVAL, "--parent must be an http:// or https:// URL, got \"%.80s\"",
                     url);
        return fail(&err);
    }
    if (check_target(dir, &err) != LT_OK ||
        make_temp(dir, code, parent, sizeof(parent), tmp, sizeof(tmp), &err) != LT_OK ||
        make_node(dir, tmp, parent, u, unit, url, origin, sizeof(origin), &version, &first, pk,
                  &err) != LT_OK) {
        return fail(&err);
    }
    sync_hex(pk, sizeof(pk), pk_hex);

    printf("created node %s for %s (%s, %s)\n", origin, unit->name, unit->code,
           unit_level_name(unit->level));
    printf("  data directory  %s\n", dir);
    printf("  database        %s/%s (schema version %d)\n", dir, STORE_DB_NAME, version);
    printf("  first event     position %lld: %s %s\n", (long long)first.pos, first.type,
           first.entity);
    printf("  public key      %s (secret in %s/%s)\n", pk_hex, dir, SYNC_KEY_FILE);
    if (url != NULL) {
        printf("  parent          %s\n", url);
        printf("next: get a token on the parent (lienthong enrol --child-unit %s), then\n"
               "      lienthong enrol --data %s --token TOKEN\n",
               unit->code, dir);
    }
    printf("next: lienthong serve --data %s\n", dir);
    return EXIT_OK;
}

int cmd_init(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "unit", required_argument, NULL, 'u' },
        { "parent", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = NULL, *code = NULL, *url = NULL;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:u:p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'u':
            code = optarg;
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
    if (optind != argc || dir == NULL || code == NULL || dir[0] == '\0' || code[0] == '\0') {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    return init_node(dir, code, url);
}
