/*
 * api_registry.h - the registries over HTTP.
 *
 * For each kind, with its plural in the path (people, residences,
 * households, parcels, benefits, businesses):
 *
 *   POST /api/v1/{kinds}                 register a new record (201)
 *   GET  /api/v1/{kinds}/{key}           the record; ?as_of=YYYY-MM-DD for a past day
 *   PUT  /api/v1/{kinds}/{key}           change it: If-Match: "<version>" (or
 *                                        ?base_version=N) is required (428
 *                                        without); 409 when stale
 *   GET  /api/v1/{kinds}/{key}/history   every change, with actor and cause
 *   GET  /api/v1/{kinds}?unit=CODE&after=KEY&limit=N   records of a unit, paged
 *   GET  /api/v1/people/search?name=&birth_year=&unit=&limit=
 *
 * Residences and benefits have two-part keys: /api/v1/residences/{person}/{kind}
 * and /api/v1/benefits/{person}/{scheme}.  GET /metrics gives the store's
 * writer counters (writes, commits, group sizes) in Prometheus text, and
 * what other modules add (api_registry_set_metrics: the sync series).
 *
 * Reads answer {"version": N, "record": {...}} (the record as stored,
 * sent without re-encoding) with ETag: "N"; an If-None-Match naming that
 * version (or "*", weak tags compared weakly) gets 304 with no body.  A
 * record with open conflicts (a change from below set aside, see
 * src/sync/conflict.h) also has "conflicts": ["<id>", ...].  With
 * ?as_of= the answer is {"as_of": day, "record": {...}} and has no ETag.
 *
 * Writes take the legal cause and the effective day from ?cause= (default
 * "api") and ?effective= (default today), and answer {"version": N,
 * "record": {...}} (the canonical record) with its ETag; POST gives 201 and
 * a Location.  The actor is the principal's account (the client address
 * on a node without accounts).  Refusals are the
 * JSON error with the field at fault: 400 for input (malformed JSON, an
 * unknown field, a wrong type, a bad check digit, a future date, a unit not
 * in force on the effective day, a body whose key is not the path's), 404
 * for a change to a record that does not exist, 409 with "current_version"
 * for a stale version (or a POST of a record that exists), 413 for a body
 * over the cap.  A PUT that names no version (no If-Match, no
 * base_version) gets 428 Precondition Required, code "invalid_input",
 * field "If-Match": blind overwrites are never taken.  A refused write
 * changes nothing.
 *
 * Access (when a guard attached a principal; without one, as before):
 * reads need X-Purpose (400 naming it otherwise); staff see records
 * whose unit lies in their jurisdiction (units_code_within; a person or
 * benefit with no residence counts as the node's unit) and get 403
 * otherwise; lists need a unit inside it, and a search without unit= is
 * narrowed to it.  A citizen reads only records about their own person
 * (their person, residences, benefits; parcels they hold, businesses they
 * represent, households they head) and gets 404, as for a missing record,
 * for any other, and lists, searches and writes nothing (403).  Auditors
 * and nodes do not write; a node account reads nothing.  Only officers
 * and auditors may seal a law-enforcement read (X-Sealed-Until).  Every
 * successful read, list and search is queued for the audit trail
 * (api_registry_set_audit), anonymous ones as actor "anonymous".  Unknown
 * query parameters are refused (400 naming them).
 *
 * Writes wait for their commit on the server's blocking pool
 * (http_request_defer), so concurrent writers share the store's commits.
 */
#ifndef LT_HTTP_API_REGISTRY_H
#define LT_HTTP_API_REGISTRY_H

#include "http/server.h"
#include "registry/registry.h"

struct audit;

/*
 * Record every read (point reads, as-of reads, histories, lists and
 * searches) through a (borrowed, must outlive the server), or nothing with
 * NULL, the default.  Set before the server starts.
 */
void api_registry_set_audit(struct audit *a);

struct audit_subject;

/*
 * Record a read of other routes that shows personal data (a dossier, the
 * queue of dossiers): action ("read", "list") of the subjects, by the
 * request's principal, with its X-Purpose (checked: LT_EINVAL naming it)
 * or else purpose.  Nothing when no recorder is set.
 */
enum lt_code api_registry_record_read(struct http_request *req, const char *action,
                                      const char *purpose, const struct audit_subject *subj,
                                      size_t count, struct lt_error *err);

/*
 * Append more series to GET /metrics: fn(out, arg, err) adds Prometheus
 * text to out; its error fails the request.  NULL removes it.  Set before
 * the server starts and cleared after it stops.
 */
typedef enum lt_code (*api_metrics_fn)(struct buf *out, void *arg, struct lt_error *err);
void api_registry_set_metrics(api_metrics_fn fn, void *arg);

/* A registry record an endpoint shows (record may be NULL: the key tells the person). */
struct api_record_ref {
    enum registry_kind kind;
    const char *key;
    const json_t *record;
};

/*
 * For other endpoints that show registry records (the conflict inbox):
 * check the read's purpose and seal as a registry read does (X-Purpose is
 * required with an account: LT_EINVAL; a node account reads nothing:
 * LT_EFORBIDDEN) and record one access to refs[0..n) under action.
 * LT_ELIMIT when the audit queue is full (the read must be refused).
 */
enum lt_code api_registry_record_access(struct http_request *req, const char *action,
                                        const struct api_record_ref *refs, size_t n,
                                        struct lt_error *err);

/* Register the routes of every registry kind over node n (borrowed). */
void api_registry_register(struct http_server *s, struct node *n);

#endif
