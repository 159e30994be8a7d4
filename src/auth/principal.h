/*
 * principal.h - who is making a request: an account, its role and the
 * unit whose subtree is its jurisdiction.
 *
 * The HTTP server's guard (http_server_set_guard) authenticates a request
 * and attaches a principal to it; handlers read it back with
 * http_request_principal() and decide what the role may see inside the
 * jurisdiction.  A request with no principal is anonymous.
 */
#ifndef LT_AUTH_PRINCIPAL_H
#define LT_AUTH_PRINCIPAL_H

enum auth_role {
    AUTH_CITIZEN, /* own records and own dossiers only */
    AUTH_CLERK,   /* receives dossiers, reads what receipt needs */
    AUTH_OFFICER, /* decides dossiers of the competent unit */
    AUTH_AUDITOR, /* reads audit trails */
    AUTH_ADMIN,   /* accounts of its jurisdiction */
    AUTH_NODE,    /* sync only */
    AUTH_ROLE_COUNT,
};

#define AUTH_ACCOUNT_MAX 64
#define AUTH_UNIT_MAX    16
#define AUTH_PERSON_MAX  16

struct auth_principal {
    char account[AUTH_ACCOUNT_MAX]; /* the login name */
    enum auth_role role;
    char unit[AUTH_UNIT_MAX];        /* jurisdiction root: a commune, a province or "VN" */
    char person_id[AUTH_PERSON_MAX]; /* a citizen's own personal ID, else "" */
};

#endif
