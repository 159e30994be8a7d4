/*
 * auth.h - accounts, passwords and sessions of a node.
 *
 * Design note.  An account is a login name bound to one role and one
 * jurisdiction unit (a commune, a province or "VN": the unit and its whole
 * subtree, as units_code_within tells).  A citizen's account also names the
 * citizen's personal ID, which is what "own records" means.
 *
 * A login checks the password (argon2id, password.h) and opens a session:
 * a random bearer token of AUTH_TOKEN_BYTES bytes from randombytes, written
 * base64url without padding (43 characters), and a CSRF value made the
 * same way.  Only their BLAKE2b hashes are stored (schema.h), so a copy of
 * the database opens no session.  A session ends at its expiry
 * (AUTH_SESSION_MS, 8 hours, by default), at logout, when its account is
 * disabled or when its password is changed.
 *
 * Failed logins are rate limited (ratelimit.h) per account and per client
 * address: after AUTH_FAIL_MAX failures within AUTH_FAIL_WINDOW_MS (5 in 15
 * minutes) both are refused with LT_ELIMIT until the oldest failure leaves
 * the window, whatever password comes.  A success clears the account's
 * count (not the address's).
 *
 * Thread safety: a struct auth is shared by every worker thread; the store
 * serialises writes, reads use the store's reader pool, and the rate
 * limiter has its own lock.
 */
#ifndef LT_AUTH_AUTH_H
#define LT_AUTH_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/principal.h"
#include "core/error.h"
#include "store/store.h"
#include "units/units.h"

#define AUTH_TOKEN_BYTES    32
#define AUTH_TOKEN_CHARS    43 /* base64url of 32 bytes, no padding */
#define AUTH_HASH_BYTES     32 /* BLAKE2b-256 of a token or a CSRF value */
#define AUTH_SESSION_MS     ((int64_t)8 * 3600 * 1000)
#define AUTH_FAIL_MAX       5
#define AUTH_FAIL_WINDOW_MS ((int64_t)15 * 60 * 1000)

struct auth_options {
    int64_t session_ms;     /* lifetime of a session; 0: AUTH_SESSION_MS */
    unsigned fail_max;      /* failures before the limit; 0: AUTH_FAIL_MAX */
    int64_t fail_window_ms; /* the window they count in; 0: AUTH_FAIL_WINDOW_MS */
};

struct auth;

/* Accounts over store st (borrowed) and jurisdictions over u (borrowed). */
struct auth *auth_new(struct store *st, const struct units *u, const struct auth_options *o);
void auth_free(struct auth *a); /* NULL ok */
const struct units *auth_units(const struct auth *a);

/* "citizen", "clerk", "officer", "auditor", "admin", "node". */
const char *auth_role_name(enum auth_role role);
bool auth_role_parse(const char *name, enum auth_role *out);

/* True if principal p's jurisdiction holds unit code (units_code_within). */
bool auth_within(const struct auth *a, const struct auth_principal *p, const char *unit);

/*
 * Add the account acct (name, role, unit, person_id: required for a
 * citizen, else empty) with password.  by is who asks: NULL for the
 * command line (the owner of the data directory), else an admin, who may
 * only create accounts whose unit lies within its own and never a node
 * account.  LT_EINVAL (with the field) for a malformed name, an unknown
 * unit or personal ID, a weak password; LT_EFORBIDDEN outside by's
 * jurisdiction; LT_ECONFLICT if the name is taken.  Nothing is written on
 * error.
 */
enum lt_code auth_account_add(struct auth *a, const struct auth_principal *by,
                              const struct auth_principal *acct, const char *password,
                              struct lt_error *err);

/* Disable account name and revoke its sessions (by as above).
 * LT_ENOTFOUND, LT_EFORBIDDEN when its unit is outside by's. */
enum lt_code auth_account_disable(struct auth *a, const struct auth_principal *by, const char *name,
                                  struct lt_error *err);

/* Set a new password (strength checked) and revoke the sessions.
 * LT_ENOTFOUND, LT_EINVAL. */
enum lt_code auth_account_passwd(struct auth *a, const char *name, const char *password,
                                 struct lt_error *err);

/*
 * The accounts whose unit lies within unit (NULL: all), by name, as a new
 * JSON array of {account, role, unit, person_id?, created_at, created_by,
 * disabled_at?}.
 */
enum lt_code auth_account_list(struct auth *a, const char *unit, json_t **out,
                               struct lt_error *err);

/* An open session: the token and CSRF value in clear, returned once. */
struct auth_session {
    char token[AUTH_TOKEN_CHARS + 1];
    char csrf[AUTH_TOKEN_CHARS + 1];
    int64_t expires_ms; /* Unix time */
    struct auth_principal principal;
};

/*
 * Check account's password and open a session for client (its address).
 * LT_EUNAUTH for an unknown or disabled account or a wrong password (one
 * message for all three); LT_ELIMIT when the account or the address is
 * rate limited, with *retry_ms set to the wait.
 */
enum lt_code auth_login(struct auth *a, const char *account, const char *password,
                        const char *client, struct auth_session *out, int64_t *retry_ms,
                        struct lt_error *err);

/*
 * Open a session for an active account without a password, lasting
 * lifetime_ms (0: the default): for the command line ("lienthong user
 * token") and for tests.  LT_ENOTFOUND, LT_EFORBIDDEN for a disabled one.
 */
enum lt_code auth_session_open(struct auth *a, const char *account, const char *client,
                               int64_t lifetime_ms, struct auth_session *out, struct lt_error *err);

/*
 * The principal of a live session (not expired, revoked or disabled) and
 * the hash of its CSRF value.  LT_EUNAUTH otherwise.
 */
enum lt_code auth_authenticate(struct auth *a, const char *token, struct auth_principal *out,
                               unsigned char csrf_hash[AUTH_HASH_BYTES], struct lt_error *err);

/* True if csrf hashes to csrf_hash (compared in constant time). */
bool auth_csrf_matches(const unsigned char csrf_hash[AUTH_HASH_BYTES], const char *csrf);

/* Revoke the session of token.  LT_EUNAUTH if it is not live. */
enum lt_code auth_logout(struct auth *a, const char *token, struct lt_error *err);

#endif
