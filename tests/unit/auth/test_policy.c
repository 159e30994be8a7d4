/*
 * test_policy.c - every route of a node, with every role, from inside and
 * outside the jurisdiction and with no account, against its access rule.
 *
 * The server gets the routes of every module that a node serves (units,
 * addresses, registries, sync, accounts, the one-stop shop, the audit
 * trail, the web UI) and the guard, and the test walks
 * the server's own route list: a route added without a rule in
 * src/auth/policy.c fails here, as it keeps "lienthong serve" from
 * starting.  Expected answers, by the rule:
 *
 *   public        never 401 or 403, whoever asks
 *   signed        the same answer whoever asks (the guard stays out of
 *                 the way; the handler checks the signature)
 *   roles         401 without an account; 403 for a role not listed; for a
 *                 role listed, neither 401 nor 403 from inside the
 *                 jurisdiction, and 403 from outside when the rule checks
 *                 the unit; a rule with handler_checks lets the handler
 *                 answer 403 by itself
 *
 * Requests name unit 00004 (a commune of province 01): accounts "inside"
 * are bound to 01, "outside" to 79.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "address/address.h"
#include "auth/auth.h"
#include "auth/http.h"
#include "auth/policy.h"
#include "core/log.h"
#include "oss/oss.h"
#include "http/api.h"
#include "http/api_audit.h"
#include "http/api_oss.h"
#include "http/api_registry.h"
#include "sync/sync.h"
#include "web/web.h"

#include "../sync/tree.h"

#define ROUTES_MAX 128
#define TARGET     "00004"

struct route {
    char method[16];
    char pattern[160];
};

struct fixture {
    char root[64];
    struct tnode node;
    struct sync *sync;
    struct auth *auth;
    struct oss *oss;
    struct http_server *srv;
    struct address_converter *conv;
    struct route routes[ROUTES_MAX];
    size_t nroutes;
};

static struct fixture fx;

static void collect(const char *method, const char *pattern, void *arg)
{
    struct fixture *f = arg;

    assert_true(f->nroutes < ROUTES_MAX);
    snprintf(f->routes[f->nroutes].method, sizeof(f->routes[0].method), "%s", method);
    snprintf(f->routes[f->nroutes].pattern, sizeof(f->routes[0].pattern), "%s", pattern);
    f->nroutes++;
}

/* The account of role, inside (unit 01) or outside (unit 79). */
static void account_name(enum auth_role role, bool inside, char out[AUTH_ACCOUNT_MAX])
{
    snprintf(out, AUTH_ACCOUNT_MAX, "%s-%s", auth_role_name(role), inside ? "in" : "out");
}

static void add_accounts(void)
{
    struct lt_error err;

    for (int r = 0; r < AUTH_ROLE_COUNT; r++) {
        for (int inside = 0; inside < 2; inside++) {
            struct auth_principal a;

            memset(&a, 0, sizeof(a));
            a.role = (enum auth_role)r;
            account_name(a.role, inside, a.account);
            snprintf(a.unit, sizeof(a.unit), "%s", inside ? "01" : "79");
            if (a.role == AUTH_CITIZEN) {
                snprintf(a.person_id, sizeof(a.person_id), "%s",
                         inside ? "001090000001" : "079090000001");
            }
            if (auth_account_add(fx.auth, NULL, &a, "correct-horse-battery-7", &err) != LT_OK) {
                fail_msg("add %s: %s (%s)", a.account, err.message, err.detail);
            }
        }
    }
}

static int setup(void **state)
{
    struct sync_options so;
    struct http_config cfg;
    struct lt_error err;

    (void)state;
    log_set_level(LT_LOG_ERROR); /* the sync handlers log every unsigned push they refuse */
    snprintf(fx.root, sizeof(fx.root), "/tmp/lt-policy-XXXXXX");
    assert_non_null(mkdtemp(fx.root));
    tnode_make(&fx.node, fx.root, "centre", "VN");
    sync_options_default(&so);
    if (sync_new(fx.node.n, fx.node.dir, &so, &fx.sync, &err) != LT_OK) {
        fail_msg("sync: %s", err.message);
    }
    http_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.threads = 2;
    fx.srv = http_server_new(&cfg, &err);
    assert_non_null(fx.srv);
    fx.conv = address_converter_new(node_units(fx.node.n));
    fx.auth = auth_new(node_store(fx.node.n), node_units(fx.node.n), NULL);
    api_units_register(fx.srv, node_units(fx.node.n));
    api_address_register(fx.srv, fx.conv);
    api_registry_register(fx.srv, fx.node.n);
    sync_register(fx.sync, fx.srv);
    auth_http_register(fx.auth, fx.srv);
    fx.oss = oss_new(fx.node.n, oss_catalogue_builtin(), oss_calendar_builtin());
    api_oss_register(fx.srv, fx.oss);
    api_audit_register(fx.srv, fx.node.n);
    web_register(fx.srv);
    add_accounts();
    if (http_server_start(fx.srv, &err) != LT_OK) {
        fail_msg("start: %s", err.message);
    }
    http_server_each_route(fx.srv, collect, &fx);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    http_server_free(fx.srv);
    sync_free(fx.sync);
    auth_free(fx.auth);
    oss_free(fx.oss);
    address_converter_free(fx.conv);
    tnode_close(&fx.node);
    tree_remove(fx.root);
    curl_global_cleanup();
    return 0;
}

/* The pattern with each capture filled: units by TARGET, others by a name. */
static void fill_path(const char *pattern, char *out, size_t cap)
{
    struct buf b;

    buf_init(&b, cap);
    for (const char *p = pattern; *p != '\0';) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            size_t len = (size_t)(end - p - 1);

            if (len == 4 && strncmp(p + 1, "code", 4) == 0) {
                buf_append_str(&b, TARGET);
            } else if (len == 4 && strncmp(p + 1, "unit", 4) == 0) {
                buf_append_str(&b, TARGET);
            } else if (len == 3 && strncmp(p + 1, "key", 3) == 0) {
                buf_append_str(&b, "001090000001");
            } else if (len == 4 && strncmp(p + 1, "part", 4) == 0) {
                buf_append_str(&b, "permanent");
            } else {
                buf_append_str(&b, "nobody");
            }
            p = end + 1;
        } else {
            buf_append_char(&b, *p++);
        }
    }
    snprintf(out, cap, "%s?unit=" TARGET, buf_str(&b));
    buf_release(&b);
}

static size_t drop(char *ptr, size_t size, size_t n, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * n;
}

/* Send method path with token (NULL: none); the status. */
static long send_req(const char *method, const char *path, const char *token)
{
    char url[512], hdr[128];
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    long status = 0;

    snprintf(url, sizeof(url), "%s%s", http_server_url(fx.srv), path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drop);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "X-Purpose: policy test");
    if (token != NULL) {
        snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, hdr);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
    }
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

/* A fresh session per request: a logout must not spoil the next one. */
static long send_as(const char *method, const char *path, enum auth_role role, bool inside)
{
    struct auth_session s;
    struct lt_error err;
    char name[AUTH_ACCOUNT_MAX];

    account_name(role, inside, name);
    if (auth_session_open(fx.auth, name, "test", 0, &s, &err) != LT_OK) {
        fail_msg("session of %s: %s", name, err.message);
    }
    return send_req(method, path, s.token);
}

static bool denied(long status)
{
    return status == 401 || status == 403;
}

static int check_roles(const struct route *rt, const struct auth_rule *rule, const char *path)
{
    int bad = 0;

    if (send_req(rt->method, path, NULL) != 401) {
        print_message("# %s %s: no account should get 401\n", rt->method, rt->pattern);
        bad++;
    }
    for (int r = 0; r < AUTH_ROLE_COUNT; r++) {
        bool allowed = (rule->roles & AUTH_ROLE_BIT(r)) != 0;
        bool unit_checked = rule->unit_query || rule->unit_param != NULL;

        for (int inside = 1; inside >= 0; inside--) {
            long got = send_as(rt->method, path, (enum auth_role)r, inside);
            bool ok;

            if (!allowed || (!inside && unit_checked)) {
                ok = got == 403;
            } else {
                ok = !denied(got) || (got == 403 && rule->handler_checks);
            }
            if (!ok) {
                print_message("# %s %s as %s from %s: got %ld\n", rt->method, rt->pattern,
                              auth_role_name((enum auth_role)r), inside ? "inside" : "outside",
                              got);
                bad++;
            }
        }
    }
    return bad;
}

static int check_open(const struct route *rt, const struct auth_rule *rule, const char *path)
{
    long anon = send_req(rt->method, path, NULL);
    int bad = 0;

    if (rule->access == AUTH_PUBLIC && denied(anon)) {
        print_message("# %s %s is public but answered %ld\n", rt->method, rt->pattern, anon);
        bad++;
    }
    for (int r = 0; r < AUTH_ROLE_COUNT; r++) {
        for (int inside = 1; inside >= 0; inside--) {
            long got = send_as(rt->method, path, (enum auth_role)r, inside);

            if (rule->access == AUTH_PUBLIC ? denied(got) : got != anon) {
                print_message("# %s %s as %s: got %ld, without an account %ld\n", rt->method,
                              rt->pattern, auth_role_name((enum auth_role)r), got, anon);
                bad++;
            }
        }
    }
    return bad;
}

static void every_route_answers_by_its_rule(void **state)
{
    int bad = 0;
    size_t checked = 0;

    (void)state;
    assert_true(fx.nroutes > 30);
    for (size_t i = 0; i < fx.nroutes; i++) {
        const struct route *rt = &fx.routes[i];
        const struct auth_rule *rule = auth_policy_find(rt->method, rt->pattern);
        char path[512];

        if (rule == NULL) {
            print_message("# %s %s has no rule in src/auth/policy.c\n", rt->method, rt->pattern);
            bad++;
            continue;
        }
        fill_path(rt->pattern, path, sizeof(path));
        bad +=
            rule->access == AUTH_ROLES ? check_roles(rt, rule, path) : check_open(rt, rule, path);
        checked++;
    }
    print_message("# %zu routes, %d roles, inside, outside and anonymous\n", checked,
                  AUTH_ROLE_COUNT);
    assert_int_equal(bad, 0);
}

/*
 * Answers written out by hand, independent of the table, so that a rule
 * loosened by mistake fails here too.
 */
static void known_answers(void **state)
{
    static const struct {
        const char *method, *path;
        int role; /* -1: no account */
        bool inside;
        long want; /* 0: neither 401 nor 403 */
    } cases[] = {
        { "GET", "/api/v1/people/001090000001", -1, true, 401 },
        { "GET", "/api/v1/people/001090000001", AUTH_ADMIN, true, 403 },
        { "GET", "/api/v1/people/001090000001", AUTH_AUDITOR, true, 403 },
        { "GET", "/api/v1/people/001090000001", AUTH_NODE, true, 403 },
        { "GET", "/api/v1/people/001090000001", AUTH_CLERK, true, 0 },
        { "PUT", "/api/v1/people/001090000001", AUTH_CLERK, true, 403 },
        { "POST", "/api/v1/people", AUTH_CITIZEN, true, 403 },
        { "GET", "/api/v1/people?unit=00004", AUTH_OFFICER, false, 403 },
        { "GET", "/api/v1/people?unit=00004", AUTH_OFFICER, true, 0 },
        { "GET", "/api/v1/people/search?name=an&unit=26740", AUTH_CLERK, true, 403 },
        { "GET", "/metrics", AUTH_CITIZEN, true, 403 },
        { "GET", "/metrics", -1, true, 401 },
        { "GET", "/sync/v1/status", -1, true, 401 },
        { "GET", "/api/v1/accounts?unit=79", AUTH_ADMIN, true, 403 },
        { "GET", "/api/v1/accounts", AUTH_OFFICER, true, 403 },
        { "GET", "/api/v1/units/00004", -1, true, 0 },
        { "GET", "/healthz", -1, true, 0 },
        { "GET", "/", -1, true, 0 },
        { "GET", "/receive", -1, true, 0 },
        { "GET", "/nodes", -1, true, 0 },
        { "GET", "/static/app.css", -1, true, 0 },
        { "GET", "/sync/v1/status", AUTH_CLERK, true, 403 },
        { "GET", "/api/v1/dossiers?unit=00004", -1, true, 401 },
        { "GET", "/api/v1/indicators?unit=00004", AUTH_CLERK, true, 403 },
        { "GET", "/api/v1/auth/me", AUTH_NODE, true, 0 },
    };
    int bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long got = cases[i].role < 0 ? send_req(cases[i].method, cases[i].path, NULL)
                                     : send_as(cases[i].method, cases[i].path,
                                               (enum auth_role)cases[i].role, cases[i].inside);

        if (cases[i].want == 0 ? denied(got) : got != cases[i].want) {
            print_message("# %s %s as %d: got %ld, want %ld\n", cases[i].method, cases[i].path,
                          cases[i].role, got, cases[i].want);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void the_policy_check_passes(void **state)
{
    struct lt_error err;

    (void)state;
    assert_int_equal(auth_policy_check(fx.srv, &err), LT_OK);
}

static enum lt_code nothing(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)req;
    (void)ctx;
    return lt_error_set(err, LT_EINTERNAL, "not reached");
}

static void a_route_without_a_rule_is_refused(void **state)
{
    struct http_config cfg;
    struct http_server *s;
    struct lt_error err;

    (void)state;
    http_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    s = http_server_new(&cfg, &err);
    assert_non_null(s);
    api_units_register(s, node_units(fx.node.n));
    assert_int_equal(auth_policy_check(s, &err), LT_OK);
    http_server_route(s, "GET", "/api/v1/secret/{code}", nothing, NULL);
    http_server_route(s, "DELETE", "/api/v1/units/{code}", nothing, NULL);
    assert_int_equal(auth_policy_check(s, &err), LT_EINTERNAL);
    assert_string_equal(err.message, "2 routes without an access rule");
    assert_non_null(strstr(err.detail, "GET /api/v1/secret/{code}"));
    assert_non_null(strstr(err.detail, "DELETE /api/v1/units/{code}"));
    http_server_free(s);
}

static void the_rules_table_is_sound(void **state)
{
    size_t n;
    const struct auth_rule *rules = auth_policy_rules(&n);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        /* One rule per (method, pattern): the first match is the only one. */
        assert_ptr_equal(auth_policy_find(rules[i].method, rules[i].pattern), &rules[i]);
        if (rules[i].access == AUTH_ROLES) {
            assert_true(rules[i].roles != 0);
        } else {
            assert_int_equal(rules[i].roles, 0);
        }
    }
    assert_ptr_equal(auth_policy_find("HEAD", "/healthz"), auth_policy_find("GET", "/healthz"));
    assert_non_null(auth_policy_find("GET", "/static/app.js"));
    assert_null(auth_policy_find("GET", "/staticx"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_policy_check_passes),
        cmocka_unit_test(every_route_answers_by_its_rule),
        cmocka_unit_test(known_answers),
        cmocka_unit_test(a_route_without_a_rule_is_refused),
        cmocka_unit_test(the_rules_table_is_sound),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
