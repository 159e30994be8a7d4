/*
 * policy.h - who may use which route: the one table of access rules.
 *
 * Design note.  Every (method, route pattern) the server serves has
 * exactly one rule here, reviewed in one place:
 *
 *   public   anyone, no account (units, address conversion, the procedure
 *            catalogue, the public dossier look-up, static web files, the
 *            login itself)
 *   signed   a node-to-node route whose handler authenticates the caller by
 *            its Ed25519 signature or one-time enrolment token (src/sync),
 *            so the guard lets it through without an account
 *   roles    an account with one of the roles listed; optionally a path
 *            capture naming a unit, and the ?unit= argument when given,
 *            must lie within the account's jurisdiction
 *
 * Checks that need the record (whose record it is, the unit of a record
 * read by its key, which dossier actions a role may take) stay in the
 * handlers; a rule marks them with handler_checks.  HEAD uses the rule of
 * GET.  A pattern ending in '*' covers every route starting with what
 * precedes it ("/static/" then anything).  A route without a rule is a defect:
 * auth_policy_check finds it and "lienthong serve" refuses to start.
 */
#ifndef LT_AUTH_POLICY_H
#define LT_AUTH_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/principal.h"
#include "core/error.h"
#include "http/server.h"

#define AUTH_ROLE_BIT(r) (1u << (r))

enum auth_access {
    AUTH_PUBLIC,
    AUTH_SIGNED,
    AUTH_ROLES,
};

struct auth_rule {
    const char *method;
    const char *pattern;
    enum auth_access access;
    unsigned roles;         /* AUTH_ROLE_BIT of each role allowed (AUTH_ROLES) */
    const char *unit_param; /* a path capture holding a unit code, or NULL */
    bool unit_query;        /* ?unit=, when given, must lie within */
    bool handler_checks;    /* the handler narrows further (see above) */
};

/* The rule of a request (HEAD is looked up as GET), or NULL. */
const struct auth_rule *auth_policy_find(const char *method, const char *pattern);

/* Every rule, for tests and documentation (borrowed, static). */
const struct auth_rule *auth_policy_rules(size_t *n);

/*
 * Check that every route of s has a rule.  LT_EINTERNAL listing the routes
 * without one (in the detail) otherwise.
 */
enum lt_code auth_policy_check(struct http_server *s, struct lt_error *err);

#endif
