/*
 * enrol.h - a parent enrols a child once, with a one-time token.
 *
 * Design note.  Three steps (docs/SYNC.md, "enrolment"):
 *
 *   1. On the parent, an operator issues a token for a child unit
 *      (sync_enrol_issue; "lienthong enrol --child-unit CODE").  Only the
 *      token's BLAKE2b hash is stored, with the unit and an expiry.
 *   2. On the child, the operator runs "lienthong enrol --token T": the
 *      child sends the token, its origin, unit and public key to
 *      POST /sync/v1/enrol, signed with that key (proof that it holds it).
 *   3. The parent checks the token (known, unexpired, unused, for this
 *      unit), pins the key, and in the same transaction writes a
 *      node.enrolled event carrying the key into its own log.  That event
 *      travels up like any other, signed by the parent, so every ancestor
 *      learns the child's key from a chain it already trusts.
 *
 * A token works once; the same child repeating the same enrolment (its
 * first answer was lost) gets the same answer again.  A node keeps its key
 * for life: an origin already pinned with another key is refused.
 */
#ifndef LT_SYNC_ENROL_H
#define LT_SYNC_ENROL_H

#include <jansson.h>
#include <stdint.h>

#include "core/error.h"
#include "registry/registry.h"
#include "sync/keys.h"
#include "sync/state.h"

#define SYNC_TOKEN_BYTES  20
#define SYNC_TOKEN_CHARS  (2 * SYNC_TOKEN_BYTES)
#define SYNC_TOKEN_TTL_MS ((int64_t)24 * 3600 * 1000)

/*
 * Parent side: issue a token for child_unit (a unit in force today, inside
 * node n's unit and not n's unit itself), valid for ttl_ms.  token gets
 * SYNC_TOKEN_CHARS hex digits.  LT_EINVAL for a unit that cannot be a
 * child of this node.
 */
enum lt_code sync_enrol_issue(struct node *n, const char *child_unit, int64_t ttl_ms,
                              char token[SYNC_TOKEN_CHARS + 1], int64_t *expires_ms,
                              struct lt_error *err);

/*
 * Parent side, for POST /sync/v1/enrol: check and record an enrolment.
 * key is this node's (its public half goes back to the child).  On
 * success *reply (new reference) is the answer body; on failure
 * *http_status is the status to answer with (403 for a bad token or
 * signature, 409 for a pinned key, 400 for a malformed body).
 */
enum lt_code sync_enrol_accept(struct node *n, const struct sync_key *key, const char *body,
                               size_t len, const char *origin_hdr, const char *time_hdr,
                               const char *sig_hdr, json_t **reply, int *http_status,
                               struct lt_error *err);

/* What a child learns of its parent. */
struct sync_enrolment {
    char parent_url[SYNC_URL_MAX];
    char parent_origin[EVLOG_ORIGIN_MAX];
    char parent_unit[UNIT_CODE_MAX];
    uint8_t parent_pk[SYNC_PK_BYTES];
    int64_t position; /* of the enrolment event in the parent's log */
};

/*
 * Child side: enrol node n (data directory dir, for its key) with the
 * parent at parent_url (NULL: the URL given at init) using token, and
 * record the parent.  LT_EINVAL without a URL or for a parent whose unit
 * does not contain ours; LT_EUNAVAIL if the parent cannot be reached;
 * the parent's refusal (its message) otherwise.
 */
enum lt_code sync_enrol_request(struct node *n, const char *dir, const char *token,
                                const char *parent_url, struct sync_enrolment *out,
                                struct lt_error *err);

/* An http:// or https:// URL of at most SYNC_URL_MAX - 1 bytes. */
bool sync_url_ok(const char *url);

#endif
