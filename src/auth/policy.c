/*
 * policy.c - the access rules of every route (see policy.h).
 *
 * Keep the table in the order of the modules that serve the routes; a new
 * endpoint gets its line here in the same change that adds it.
 */
#include "auth/policy.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/banned.h"

#define CITIZEN AUTH_ROLE_BIT(AUTH_CITIZEN)
#define CLERK   AUTH_ROLE_BIT(AUTH_CLERK)
#define OFFICER AUTH_ROLE_BIT(AUTH_OFFICER)
#define AUDITOR AUTH_ROLE_BIT(AUTH_AUDITOR)
#define ADMIN   AUTH_ROLE_BIT(AUTH_ADMIN)
#define NODE    AUTH_ROLE_BIT(AUTH_NODE)
#define PEOPLE  (CITIZEN | CLERK | OFFICER | AUDITOR | ADMIN)
#define ANYONE  (PEOPLE | NODE)

#define PUBLIC(m, p)                                                                               \
    {                                                                                              \
        m, p, AUTH_PUBLIC, 0, NULL, false, false                                                   \
    }
#define SIGNED(m, p)                                                                               \
    {                                                                                              \
        m, p, AUTH_SIGNED, 0, NULL, false, false                                                   \
    }
#define ROLES(m, p, r)                                                                             \
    {                                                                                              \
        m, p, AUTH_ROLES, r, NULL, false, false                                                    \
    }
#define ROLES_UNIT(m, p, r)                                                                        \
    {                                                                                              \
        m, p, AUTH_ROLES, r, NULL, true, false                                                     \
    }
#define ROLES_HANDLER(m, p, r)                                                                     \
    {                                                                                              \
        m, p, AUTH_ROLES, r, NULL, false, true                                                     \
    }
#define ROLES_UNIT_HANDLER(m, p, r)                                                                \
    {                                                                                              \
        m, p, AUTH_ROLES, r, NULL, true, true                                                      \
    }

/*
 * A registry kind: records are read by those who work with them (a
 * citizen only their own, checked by the handler, as is the unit of the
 * record read by its key), written by officers; lists and searches of a
 * unit are for staff of that unit; history (who changed what) for
 * officers and auditors.
 */
#define REGISTRY(plural, key)                                                                      \
    ROLES_HANDLER("POST", "/api/v1/" plural, OFFICER),                                             \
        ROLES_UNIT_HANDLER("GET", "/api/v1/" plural, CLERK | OFFICER),                             \
        ROLES_HANDLER("GET", "/api/v1/" plural "/" key, CITIZEN | CLERK | OFFICER),                \
        ROLES_HANDLER("PUT", "/api/v1/" plural "/" key, OFFICER),                                  \
        ROLES_HANDLER("GET", "/api/v1/" plural "/" key "/history", OFFICER | AUDITOR)

static const struct auth_rule rules[] = {
    /* Units and addresses (api_units.c, api_address.c): reference data. */
    PUBLIC("GET", "/healthz"),
    PUBLIC("GET", "/api/v1/units"),
    PUBLIC("GET", "/api/v1/units/{code}"),
    PUBLIC("GET", "/api/v1/units/{code}/children"),
    PUBLIC("GET", "/api/v1/units/{code}/parents"),
    PUBLIC("GET", "/api/v1/units/{code}/successors"),
    PUBLIC("GET", "/api/v1/units/{code}/predecessors"),
    PUBLIC("POST", "/api/v1/addresses/convert"),

    /* Registries (api_registry.c). */
    REGISTRY("people", "{key}"),
    REGISTRY("residences", "{key}/{part}"),
    REGISTRY("households", "{key}"),
    REGISTRY("parcels", "{key}"),
    REGISTRY("benefits", "{key}/{part}"),
    REGISTRY("businesses", "{key}"),
    ROLES_UNIT_HANDLER("GET", "/api/v1/people/search", CLERK | OFFICER),
    ROLES("GET", "/metrics", AUDITOR | ADMIN | NODE),

    /* Sync (src/sync/routes.c, pull.c): pushes and pulls are signed by the
     * child's key, enrolment carries a one-time token; the reports name no
     * person. */
    SIGNED("POST", "/sync/v1/push"),
    SIGNED("POST", "/sync/v1/pull"),
    SIGNED("POST", "/sync/v1/enrol"),
    ROLES("GET", "/sync/v1/status", OFFICER | AUDITOR | ADMIN | NODE),
    ROLES("GET", "/sync/v1/metrics", OFFICER | AUDITOR | ADMIN | NODE),

    /* Accounts (src/auth/routes.c). */
    PUBLIC("POST", "/api/v1/auth/login"),
    ROLES("POST", "/api/v1/auth/logout", ANYONE),
    ROLES("GET", "/api/v1/auth/me", ANYONE),
    ROLES_HANDLER("POST", "/api/v1/accounts", ADMIN),
    ROLES_UNIT_HANDLER("GET", "/api/v1/accounts", ADMIN),
    ROLES_HANDLER("POST", "/api/v1/accounts/{name}/disable", ADMIN),

    /* The one-stop shop: the catalogue and the public look-up are open; a
     * dossier is received by a clerk at the counter or filed online by a
     * citizen; a citizen sees only their own (handler); which actions
     * each role may take, and in which unit, is the handler's (src/oss/dossier.c,
     * check_right). */
    PUBLIC("GET", "/api/v1/procedures"),
    PUBLIC("GET", "/api/v1/procedures/{code}"),
    PUBLIC("GET", "/api/v1/public/dossiers/{code}"),
    PUBLIC("GET", "/lookup"),
    ROLES_HANDLER("POST", "/api/v1/dossiers", CLERK | CITIZEN),
    ROLES_UNIT_HANDLER("GET", "/api/v1/dossiers", CITIZEN | CLERK | OFFICER),
    ROLES_HANDLER("GET", "/api/v1/dossiers/{code}", CITIZEN | CLERK | OFFICER),
    ROLES_HANDLER("POST", "/api/v1/dossiers/{code}/actions", CLERK | OFFICER),
    ROLES_UNIT("GET", "/api/v1/indicators", OFFICER | AUDITOR | ADMIN),

    /* Reference data in use (no person in it), and its publication by an
     * administrator of the centre (the handler checks the unit is VN). */
    PUBLIC("GET", "/api/v1/reference"),
    ROLES_HANDLER("PUT", "/api/v1/reference/{kind}", ADMIN),

    /* The audit trail and the citizen's access log. */
    ROLES_UNIT_HANDLER("GET", "/api/v1/audit", AUDITOR),
    ROLES_UNIT_HANDLER("GET", "/api/v1/audit/export", AUDITOR),
    ROLES_HANDLER("GET", "/api/v1/me/access-log", CITIZEN),

    /* The web UI's files. */
    PUBLIC("GET", "/"),
    PUBLIC("GET", "/static/*"),
};

static bool pattern_fits(const char *rule, const char *pattern)
{
    size_t len = strlen(rule);

    if (len > 0 && rule[len - 1] == '*') {
        return strncmp(rule, pattern, len - 1) == 0;
    }
    return strcmp(rule, pattern) == 0;
}

const struct auth_rule *auth_policy_find(const char *method, const char *pattern)
{
    if (strcmp(method, "HEAD") == 0) {
        method = "GET";
    }
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        if (strcmp(rules[i].method, method) == 0 && pattern_fits(rules[i].pattern, pattern)) {
            return &rules[i];
        }
    }
    return NULL;
}

const struct auth_rule *auth_policy_rules(size_t *n)
{
    *n = sizeof(rules) / sizeof(rules[0]);
    return rules;
}

struct missing {
    struct buf list;
    size_t count;
};

static void check_route(const char *method, const char *pattern, void *arg)
{
    struct missing *m = arg;

    if (auth_policy_find(method, pattern) != NULL) {
        return;
    }
    if (m->count > 0) {
        buf_append_str(&m->list, ", ");
    }
    buf_append_str(&m->list, method);
    buf_append_char(&m->list, ' ');
    buf_append_str(&m->list, pattern);
    m->count++;
}

enum lt_code auth_policy_check(struct http_server *s, struct lt_error *err)
{
    struct missing m = { .count = 0 };
    enum lt_code rc = LT_OK;

    buf_init(&m.list, (size_t)64 << 10);
    http_server_each_route(s, check_route, &m);
    if (m.count > 0) {
        lt_error_set(err, LT_EINTERNAL, "%zu route%s without an access rule", m.count,
                     m.count == 1 ? "" : "s");
        lt_error_detail(err, "%s", buf_str(&m.list));
        lt_error_hint(err, "add a rule for each in src/auth/policy.c");
        rc = LT_EINTERNAL;
    }
    buf_release(&m.list);
    return rc;
}
