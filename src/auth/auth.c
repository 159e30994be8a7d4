/*
 * auth.c - accounts and sessions over the store (see auth.h).
 *
 * Every change is one store_write callback, so a refused change writes
 * nothing.  Checks that need no database (name, role, unit, password
 * strength) run first, on the caller's thread; the argon2id hash too, so
 * the writer thread never waits for it.
 */
#include "auth/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/password.h"
#include "auth/ratelimit.h"
#include "core/buf.h"
#include "core/date.h"
#include "registry/ids.h"
#include "core/banned.h"

#define NAME_MIN 3

/*
 * The session cache.  Every request with a token would otherwise open a
 * read transaction and join sessions to accounts; a busy node asks for the
 * same few thousand tokens over and over.  A slot holds what the look-up
 * answered, for CACHE_TTL_MS at most.  A logout, a disabled account or a
 * new password in this process moves the generation on, which empties the
 * cache at once; the same changes made by another process on the same data
 * directory ("lienthong user disable") take effect within CACHE_TTL_MS.
 */
#define CACHE_SLOTS  4096 /* a power of two */
#define CACHE_LOCKS  64
#define CACHE_TTL_MS 1000 /* XXX: another process's revocation waits this long */

struct cache_slot {
    unsigned char token_hash[AUTH_HASH_BYTES];
    unsigned char csrf_hash[AUTH_HASH_BYTES];
    struct auth_principal p;
    int64_t expires_ms; /* the session's own end */
    int64_t until_ms;   /* the end of this entry: looked up + CACHE_TTL_MS */
    uint64_t gen;       /* 0: empty */
};

struct session_cache {
    pthread_mutex_t locks[CACHE_LOCKS];
    struct cache_slot slots[CACHE_SLOTS];
    atomic_uint_fast64_t gen; /* starts at 1 */
};

struct auth {
    struct store *store;
    const struct units *units;
    struct auth_options opt;
    struct ratelimit *failures;
    struct session_cache *cache;
};

static const char *const role_names[AUTH_ROLE_COUNT] = {
    [AUTH_CITIZEN] = "citizen", [AUTH_CLERK] = "clerk", [AUTH_OFFICER] = "officer",
    [AUTH_AUDITOR] = "auditor", [AUTH_ADMIN] = "admin", [AUTH_NODE] = "node",
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void iso_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void hash_secret(const char *secret, unsigned char out[AUTH_HASH_BYTES])
{
    crypto_generichash(out, AUTH_HASH_BYTES, (const unsigned char *)secret, strlen(secret), NULL,
                       0);
}

static size_t cache_index(const unsigned char token_hash[AUTH_HASH_BYTES])
{
    uint64_t v;

    memcpy(&v, token_hash, sizeof(v));
    return (size_t)(v & (CACHE_SLOTS - 1));
}

/* Copy a live entry for token_hash into p and csrf_hash; false if none. */
static bool cache_get(struct session_cache *sc, const unsigned char token_hash[AUTH_HASH_BYTES],
                      int64_t now, struct auth_principal *p,
                      unsigned char csrf_hash[AUTH_HASH_BYTES])
{
    size_t i = cache_index(token_hash);
    pthread_mutex_t *mu = &sc->locks[i % CACHE_LOCKS];
    const struct cache_slot *e = &sc->slots[i];
    uint64_t gen = atomic_load(&sc->gen);
    bool hit;

    pthread_mutex_lock(mu);
    hit = e->gen == gen && now < e->until_ms && now < e->expires_ms &&
          sodium_memcmp(e->token_hash, token_hash, AUTH_HASH_BYTES) == 0;
    if (hit) {
        *p = e->p;
        memcpy(csrf_hash, e->csrf_hash, AUTH_HASH_BYTES);
    }
    pthread_mutex_unlock(mu);
    return hit;
}

/* Keep what a look-up that began at generation gen answered. */
static void cache_put(struct session_cache *sc, const unsigned char token_hash[AUTH_HASH_BYTES],
                      uint64_t gen, int64_t now, int64_t expires_ms, const struct auth_principal *p,
                      const unsigned char csrf_hash[AUTH_HASH_BYTES])
{
    size_t i = cache_index(token_hash);
    pthread_mutex_t *mu = &sc->locks[i % CACHE_LOCKS];
    struct cache_slot *e = &sc->slots[i];

    pthread_mutex_lock(mu);
    memcpy(e->token_hash, token_hash, AUTH_HASH_BYTES);
    memcpy(e->csrf_hash, csrf_hash, AUTH_HASH_BYTES);
    e->p = *p;
    e->expires_ms = expires_ms;
    e->until_ms = now + CACHE_TTL_MS;
    e->gen = gen; /* a change since the look-up began left it stale: never a hit */
    pthread_mutex_unlock(mu);
}

/* After a change to sessions or accounts: forget every entry. */
static void cache_forget(struct session_cache *sc)
{
    atomic_fetch_add(&sc->gen, 1);
}

/* A fresh random secret as base64url without padding, and its hash. */
static void new_secret(char out[AUTH_TOKEN_CHARS + 1], unsigned char hash[AUTH_HASH_BYTES])
{
    unsigned char raw[AUTH_TOKEN_BYTES];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, AUTH_TOKEN_CHARS + 1, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    hash_secret(out, hash);
}

/* Checks of an account's fields. */

static enum lt_code check_name(const char *name, struct lt_error *err)
{
    size_t len = strlen(name);
    bool ok = len >= NAME_MIN && len < AUTH_ACCOUNT_MAX && name[0] >= 'a' && name[0] <= 'z';

    for (size_t i = 0; ok && i < len; i++) {
        char c = name[i];

        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    }
    if (!ok) {
        lt_error_set(err, LT_EINVAL, "malformed account name \"%.64s\"", name);
        lt_error_detail(err,
                        "a name has %d to %d characters: lower-case letters, digits, '.', "
                        "'_' or '-', starting with a letter",
                        NAME_MIN, AUTH_ACCOUNT_MAX - 1);
        lt_error_field(err, "account");
        return LT_EINVAL;
    }
    return LT_OK;
}

static enum lt_code check_account(const struct auth *a, const struct auth_principal *acct,
                                  struct lt_error *err)
{
    enum lt_code rc = check_name(acct->account, err);

    if (rc != LT_OK) {
        return rc;
    }
    if ((int)acct->role < 0 || acct->role >= AUTH_ROLE_COUNT) {
        lt_error_set(err, LT_EINVAL, "unknown role");
        lt_error_field(err, "role");
        return LT_EINVAL;
    }
    if (!units_code_within(a->units, acct->unit, "VN")) {
        lt_error_set(err, LT_EINVAL, "unknown unit \"%.16s\"", acct->unit);
        lt_error_hint(err, "give a commune or province code, or VN for the whole country");
        lt_error_field(err, "unit");
        return LT_EINVAL;
    }
    if (strcmp(acct->unit, "VN") != 0 && units_find(a->units, acct->unit, date_today()) == NULL) {
        units_explain_missing(a->units, acct->unit, err); /* merged away: name its successor */
        err->code = LT_EINVAL;
        lt_error_field(err, "unit");
        return LT_EINVAL;
    }
    if (acct->role == AUTH_CITIZEN) {
        struct personal_id pid;

        if (acct->person_id[0] == '\0') {
            lt_error_set(err, LT_EINVAL, "a citizen's account needs the citizen's personal ID");
            lt_error_field(err, "person_id");
            return LT_EINVAL;
        }
        if (ids_personal_id_parse(a->units, acct->person_id, &pid, err) != LT_OK) {
            lt_error_field(err, "person_id");
            return LT_EINVAL;
        }
    } else if (acct->person_id[0] != '\0') {
        lt_error_set(err, LT_EINVAL, "only a citizen's account names a personal ID");
        lt_error_field(err, "person_id");
        return LT_EINVAL;
    }
    return LT_OK;
}

/* May by manage an account of unit (NULL by: the command line)? */
static enum lt_code check_manager(const struct auth *a, const struct auth_principal *by,
                                  const char *unit, struct lt_error *err)
{
    if (by == NULL) {
        return LT_OK;
    }
    if (by->role != AUTH_ADMIN) {
        return lt_error_set(err, LT_EFORBIDDEN, "only an admin manages accounts");
    }
    if (!units_code_within(a->units, unit, by->unit)) {
        lt_error_set(err, LT_EFORBIDDEN, "unit \"%.16s\" is outside your jurisdiction (%s)", unit,
                     by->unit);
        lt_error_field(err, "unit");
        return LT_EFORBIDDEN;
    }
    return LT_OK;
}

/* Adding. */

struct add_job {
    const struct auth_principal *acct;
    const char *hash;
    const char *by;
};

static enum lt_code add_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct add_job *j = arg;
    struct store_stmt *st;
    enum lt_code rc;

    rc = store_prepare(c,
                       "INSERT INTO accounts (name, password_hash, role, unit, person_id, "
                       "created_ms, created_by, disabled_ms) VALUES (?, ?, ?, ?, ?, ?, ?, NULL);",
                       &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, j->acct->account);
    store_bind_text(st, 2, j->hash);
    store_bind_text(st, 3, role_names[j->acct->role]);
    store_bind_text(st, 4, j->acct->unit);
    store_bind_text(st, 5, j->acct->person_id[0] ? j->acct->person_id : NULL);
    store_bind_int(st, 6, now_ms());
    store_bind_text(st, 7, j->by);
    rc = store_exec_stmt(st, err);
    if (rc == LT_ECONFLICT) {
        lt_error_set(err, LT_ECONFLICT, "account \"%s\" exists", j->acct->account);
        lt_error_hint(err, "pick another name, or change its password with \"lienthong user "
                           "passwd\"");
        lt_error_field(err, "account");
    }
    return rc;
}

/* Sessions: revoke every live one of an account (inside a write). */
static enum lt_code revoke_all(struct store_conn *c, const char *name, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c,
                                    "UPDATE sessions SET revoked_ms = ? WHERE account = ? AND "
                                    "revoked_ms IS NULL;",
                                    &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, now_ms());
    store_bind_text(st, 2, name);
    return store_exec_stmt(st, err);
}

/* Reading one account. */

struct account_row {
    bool found;
    bool disabled;
    struct auth_principal p;
    char hash[PASSWORD_HASH_MAX];
};

static enum lt_code read_account(struct store_conn *c, const char *name, struct account_row *out,
                                 struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step step;
    enum lt_code rc = store_prepare(c,
                                    "SELECT role, unit, person_id, password_hash, disabled_ms "
                                    "FROM accounts WHERE name = ?;",
                                    &st, err);

    memset(out, 0, sizeof(*out));
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, name);
    step = store_step(st, err);
    if (step == STORE_ERROR) {
        return err->code;
    }
    if (step == STORE_ROW) {
        out->found = true;
        snprintf(out->p.account, sizeof(out->p.account), "%s", name);
        auth_role_parse(store_col_text(st, 0), &out->p.role);
        snprintf(out->p.unit, sizeof(out->p.unit), "%s", store_col_text(st, 1));
        snprintf(out->p.person_id, sizeof(out->p.person_id), "%s", store_col_text(st, 2));
        snprintf(out->hash, sizeof(out->hash), "%s", store_col_text(st, 3));
        out->disabled = !store_col_null(st, 4);
    }
    return LT_OK;
}

struct lookup_job {
    const char *name;
    struct account_row *row;
};

static enum lt_code read_account_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct lookup_job *j = arg;

    return read_account(c, j->name, j->row, err);
}

static enum lt_code lookup(struct auth *a, const char *name, struct account_row *row,
                           struct lt_error *err)
{
    struct lookup_job j = { name, row };

    return store_read(a->store, read_account_fn, &j, err);
}

/* Disabling and passwords. */

struct change_job {
    const struct auth *a;
    const struct auth_principal *by;
    const char *name;
    const char *hash; /* new password hash, or NULL to disable */
};

static enum lt_code change_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct change_job *j = arg;
    struct account_row row;
    struct store_stmt *st;
    enum lt_code rc = read_account(c, j->name, &row, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (!row.found) {
        lt_error_set(err, LT_ENOTFOUND, "no account \"%.64s\"", j->name);
        lt_error_field(err, "account");
        return LT_ENOTFOUND;
    }
    rc = check_manager(j->a, j->by, row.p.unit, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (j->hash != NULL) {
        rc = store_prepare(c, "UPDATE accounts SET password_hash = ? WHERE name = ?;", &st, err);
        if (rc == LT_OK) {
            store_bind_text(st, 1, j->hash);
        }
    } else {
        rc = store_prepare(c, "UPDATE accounts SET disabled_ms = ? WHERE name = ?;", &st, err);
        if (rc == LT_OK) {
            store_bind_int(st, 1, now_ms());
        }
    }
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 2, j->name);
    rc = store_exec_stmt(st, err);
    return rc != LT_OK ? rc : revoke_all(c, j->name, err);
}

/* Sessions. */

struct session_job {
    const char *account;
    const char *client;
    int64_t lifetime_ms;
    struct auth_session *out;
};

static enum lt_code session_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct session_job *j = arg;
    struct account_row row;
    unsigned char token_hash[AUTH_HASH_BYTES], csrf_hash[AUTH_HASH_BYTES];
    struct store_stmt *st;
    int64_t now = now_ms();
    enum lt_code rc = read_account(c, j->account, &row, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (!row.found) {
        return lt_error_set(err, LT_ENOTFOUND, "no account \"%.64s\"", j->account);
    }
    if (row.disabled) {
        return lt_error_set(err, LT_EFORBIDDEN, "account \"%.64s\" is disabled", j->account);
    }

    /* Ended sessions of this account are of no use any more. */
    rc = store_prepare(c, "DELETE FROM sessions WHERE account = ? AND expires_ms < ?;", &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, j->account);
    store_bind_int(st, 2, now);
    rc = store_exec_stmt(st, err);
    if (rc != LT_OK) {
        return rc;
    }

    new_secret(j->out->token, token_hash);
    new_secret(j->out->csrf, csrf_hash);
    j->out->expires_ms = now + j->lifetime_ms;
    j->out->principal = row.p;
    rc = store_prepare(c,
                       "INSERT INTO sessions (token_hash, account, csrf_hash, client, created_ms, "
                       "expires_ms, revoked_ms) VALUES (?, ?, ?, ?, ?, ?, NULL);",
                       &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_blob(st, 1, token_hash, sizeof(token_hash));
    store_bind_text(st, 2, j->account);
    store_bind_blob(st, 3, csrf_hash, sizeof(csrf_hash));
    store_bind_text(st, 4, j->client);
    store_bind_int(st, 5, now);
    store_bind_int(st, 6, j->out->expires_ms);
    return store_exec_stmt(st, err);
}

static enum lt_code logout_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    const unsigned char *token_hash = arg;
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c,
                                    "UPDATE sessions SET revoked_ms = ? WHERE token_hash = ? AND "
                                    "revoked_ms IS NULL AND expires_ms > ?;",
                                    &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, now_ms());
    store_bind_blob(st, 2, token_hash, AUTH_HASH_BYTES);
    store_bind_int(st, 3, now_ms());
    rc = store_exec_stmt(st, err);
    if (rc == LT_OK && store_changes(c) == 0) {
        return lt_error_set(err, LT_EUNAUTH, "the session is not open");
    }
    return rc;
}

/* Listing. */

struct list_job {
    const struct auth *a;
    const char *unit;
    json_t *out;
};

static enum lt_code list_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct list_job *j = arg;
    struct store_stmt *st;
    enum store_step step;
    enum lt_code rc = store_prepare(c,
                                    "SELECT name, role, unit, person_id, created_ms, created_by, "
                                    "disabled_ms FROM accounts ORDER BY name;",
                                    &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    while ((step = store_step(st, err)) == STORE_ROW) {
        const char *unit = store_col_text(st, 2);
        char when[32];
        json_t *o;

        if (j->unit != NULL && !units_code_within(j->a->units, unit, j->unit)) {
            continue;
        }
        iso_time(store_col_int(st, 4), when);
        o = json_pack("{s:s, s:s, s:s}", "account", store_col_text(st, 0), "role",
                      store_col_text(st, 1), "unit", unit);
        if (!store_col_null(st, 3)) {
            json_object_set_new(o, "person_id", json_string(store_col_text(st, 3)));
        }
        json_object_set_new(o, "created_at", json_string(when));
        json_object_set_new(o, "created_by", json_string(store_col_text(st, 5)));
        if (!store_col_null(st, 6)) {
            iso_time(store_col_int(st, 6), when);
            json_object_set_new(o, "disabled_at", json_string(when));
        }
        json_array_append_new(j->out, o);
    }
    return step == STORE_ERROR ? err->code : LT_OK;
}

/* Public API. */

struct auth *auth_new(struct store *st, const struct units *u, const struct auth_options *o)
{
    struct auth *a = xcalloc(1, sizeof(*a));

    if (sodium_init() < 0) {
        BUG("libsodium could not initialise");
    }
    a->store = st;
    a->units = u;
    if (o != NULL) {
        a->opt = *o;
    }
    if (a->opt.session_ms <= 0) {
        a->opt.session_ms = AUTH_SESSION_MS;
    }
    if (a->opt.fail_max == 0) {
        a->opt.fail_max = AUTH_FAIL_MAX;
    }
    if (a->opt.fail_window_ms <= 0) {
        a->opt.fail_window_ms = AUTH_FAIL_WINDOW_MS;
    }
    a->failures = ratelimit_new(a->opt.fail_max, a->opt.fail_window_ms);
    a->cache = xcalloc(1, sizeof(*a->cache));
    for (size_t i = 0; i < CACHE_LOCKS; i++) {
        pthread_mutex_init(&a->cache->locks[i], NULL);
    }
    atomic_init(&a->cache->gen, 1);
    return a;
}

void auth_free(struct auth *a)
{
    if (a == NULL) {
        return;
    }
    ratelimit_free(a->failures);
    for (size_t i = 0; i < CACHE_LOCKS; i++) {
        pthread_mutex_destroy(&a->cache->locks[i]);
    }
    sodium_memzero(a->cache->slots, sizeof(a->cache->slots));
    free(a->cache);
    free(a);
}

const struct units *auth_units(const struct auth *a)
{
    return a->units;
}

const char *auth_role_name(enum auth_role role)
{
    return (int)role >= 0 && role < AUTH_ROLE_COUNT ? role_names[role] : "?";
}

bool auth_role_parse(const char *name, enum auth_role *out)
{
    for (int r = 0; r < AUTH_ROLE_COUNT; r++) {
        if (strcmp(name, role_names[r]) == 0) {
            *out = (enum auth_role)r;
            return true;
        }
    }
    return false;
}

bool auth_within(const struct auth *a, const struct auth_principal *p, const char *unit)
{
    return units_code_within(a->units, unit, p->unit);
}

enum lt_code auth_account_add(struct auth *a, const struct auth_principal *by,
                              const struct auth_principal *acct, const char *password,
                              struct lt_error *err)
{
    char hash[PASSWORD_HASH_MAX];
    struct add_job job = { acct, hash, by != NULL ? by->account : "command line" };
    enum lt_code rc = check_account(a, acct, err);

    if (rc == LT_OK) {
        rc = check_manager(a, by, acct->unit, err);
    }
    if (rc == LT_OK && by != NULL && acct->role == AUTH_NODE) {
        rc = lt_error_set(err, LT_EFORBIDDEN, "node accounts are made on the command line only");
        lt_error_field(err, "role");
    }
    if (rc == LT_OK) {
        rc = password_check(acct->account, password, err);
    }
    if (rc == LT_OK) {
        rc = password_hash(password, hash, err);
    }
    if (rc == LT_OK) {
        rc = store_write(a->store, add_fn, &job, err);
    }
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

enum lt_code auth_account_disable(struct auth *a, const struct auth_principal *by, const char *name,
                                  struct lt_error *err)
{
    struct change_job job = { a, by, name, NULL };
    enum lt_code rc = store_write(a->store, change_fn, &job, err);

    cache_forget(a->cache);
    return rc;
}

enum lt_code auth_account_passwd(struct auth *a, const char *name, const char *password,
                                 struct lt_error *err)
{
    char hash[PASSWORD_HASH_MAX];
    struct change_job job = { a, NULL, name, hash };
    enum lt_code rc = password_check(name, password, err);

    if (rc == LT_OK) {
        rc = password_hash(password, hash, err);
    }
    if (rc == LT_OK) {
        rc = store_write(a->store, change_fn, &job, err);
        cache_forget(a->cache);
    }
    return rc;
}

enum lt_code auth_account_list(struct auth *a, const char *unit, json_t **out, struct lt_error *err)
{
    struct list_job job = { a, unit, json_array() };
    enum lt_code rc = store_read(a->store, list_fn, &job, err);

    if (rc != LT_OK) {
        json_decref(job.out);
        return rc;
    }
    *out = job.out;
    return LT_OK;
}

enum lt_code auth_session_open(struct auth *a, const char *account, const char *client,
                               int64_t lifetime_ms, struct auth_session *out, struct lt_error *err)
{
    struct session_job job = { account, client, lifetime_ms > 0 ? lifetime_ms : a->opt.session_ms,
                               out };

    memset(out, 0, sizeof(*out));
    return store_write(a->store, session_fn, &job, err);
}

/* The wait before key may try again, the longer of the account's and the address's. */
static int64_t limited(struct auth *a, const char *akey, const char *ckey, int64_t now)
{
    int64_t wa = ratelimit_wait(a->failures, akey, now);
    int64_t wc = ratelimit_wait(a->failures, ckey, now);

    return wa > wc ? wa : wc;
}

enum lt_code auth_login(struct auth *a, const char *account, const char *password,
                        const char *client, struct auth_session *out, int64_t *retry_ms,
                        struct lt_error *err)
{
    char akey[AUTH_ACCOUNT_MAX + 16], ckey[80];
    struct account_row row;
    enum lt_code rc;
    bool ok;

    *retry_ms = 0;
    /* XXX: behind a proxy client is the proxy's address; X-Forwarded-For is not trusted yet. */
    snprintf(akey, sizeof(akey), "account:%.63s", account);
    snprintf(ckey, sizeof(ckey), "client:%.64s", client);
    *retry_ms = limited(a, akey, ckey, now_ms());
    if (*retry_ms > 0) {
        lt_error_set(err, LT_ELIMIT, "too many failed logins");
        lt_error_detail(err, "%u failures within %lld minutes for this account or this address",
                        a->opt.fail_max, (long long)(a->opt.fail_window_ms / 60000));
        lt_error_hint(err, "try again in %lld seconds", (long long)(*retry_ms + 999) / 1000);
        return LT_ELIMIT;
    }

    rc = strlen(account) < AUTH_ACCOUNT_MAX ? lookup(a, account, &row, err) : LT_OK;
    if (rc != LT_OK) {
        return rc;
    }
    ok = password_verify(row.found && !row.disabled ? row.hash : NULL, password);
    sodium_memzero(row.hash, sizeof(row.hash));
    if (!ok) {
        int64_t now = now_ms();

        ratelimit_fail(a->failures, akey, now);
        ratelimit_fail(a->failures, ckey, now);
        lt_error_set(err, LT_EUNAUTH, "wrong account or password");
        lt_error_hint(err, "after %u failures within %lld minutes logins are refused for a while",
                      a->opt.fail_max, (long long)(a->opt.fail_window_ms / 60000));
        return LT_EUNAUTH;
    }
    ratelimit_clear(a->failures, akey);
    rc = auth_session_open(a, account, client, 0, out, err);
    if (rc == LT_ENOTFOUND || rc == LT_EFORBIDDEN) {
        /* Disabled between the check and now. */
        return lt_error_set(err, LT_EUNAUTH, "wrong account or password");
    }
    return rc;
}

enum lt_code auth_authenticate(struct auth *a, const char *token, struct auth_principal *out,
                               unsigned char csrf_hash[AUTH_HASH_BYTES], struct lt_error *err)
{
    unsigned char token_hash[AUTH_HASH_BYTES];
    struct store_conn *c;
    struct store_stmt *st;
    enum store_step step = STORE_DONE;
    int64_t now = now_ms();
    uint64_t gen;
    enum lt_code rc;

    if (strlen(token) != AUTH_TOKEN_CHARS) {
        return lt_error_set(err, LT_EUNAUTH, "the session token is malformed");
    }
    hash_secret(token, token_hash);
    if (cache_get(a->cache, token_hash, now, out, csrf_hash)) {
        return LT_OK;
    }
    gen = atomic_load(&a->cache->gen);
    c = store_reader_get(a->store);
    rc = store_prepare(c,
                       "SELECT a.name, a.role, a.unit, a.person_id, s.csrf_hash, s.expires_ms "
                       "FROM sessions s JOIN accounts a ON a.name = s.account WHERE "
                       "s.token_hash = ? AND s.revoked_ms IS NULL AND s.expires_ms > ? AND "
                       "a.disabled_ms IS NULL;",
                       &st, err);
    if (rc == LT_OK) {
        store_bind_blob(st, 1, token_hash, sizeof(token_hash));
        store_bind_int(st, 2, now);
        step = store_step(st, err);
    }
    if (step == STORE_ROW) {
        memset(out, 0, sizeof(*out));
        snprintf(out->account, sizeof(out->account), "%s", store_col_text(st, 0));
        auth_role_parse(store_col_text(st, 1), &out->role);
        snprintf(out->unit, sizeof(out->unit), "%s", store_col_text(st, 2));
        snprintf(out->person_id, sizeof(out->person_id), "%s", store_col_text(st, 3));
        if (store_col_bytes(st, 4) == AUTH_HASH_BYTES) {
            memcpy(csrf_hash, store_col_blob(st, 4), AUTH_HASH_BYTES);
        } else {
            memset(csrf_hash, 0, AUTH_HASH_BYTES);
        }
        cache_put(a->cache, token_hash, gen, now, store_col_int(st, 5), out, csrf_hash);
        /* Let the statement go before the connection does. */
        step = store_step(st, err);
    } else if (rc == LT_OK && step != STORE_ERROR) {
        rc = lt_error_set(err, LT_EUNAUTH, "the session has ended or does not exist");
        lt_error_hint(err, "log in again: POST /api/v1/auth/login");
    }
    if (step == STORE_ERROR && rc == LT_OK) {
        rc = err->code;
    }
    store_reader_put(a->store, c);
    return rc;
}

bool auth_csrf_matches(const unsigned char csrf_hash[AUTH_HASH_BYTES], const char *csrf)
{
    unsigned char h[AUTH_HASH_BYTES];

    if (csrf == NULL || strlen(csrf) != AUTH_TOKEN_CHARS) {
        return false;
    }
    hash_secret(csrf, h);
    return sodium_memcmp(h, csrf_hash, AUTH_HASH_BYTES) == 0;
}

enum lt_code auth_logout(struct auth *a, const char *token, struct lt_error *err)
{
    unsigned char token_hash[AUTH_HASH_BYTES];

    enum lt_code rc;

    hash_secret(token, token_hash);
    rc = store_write(a->store, logout_fn, token_hash, err);
    cache_forget(a->cache);
    return rc;
}
