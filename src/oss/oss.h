/*
 * oss.h - the one-stop shop: dossiers received at any counter (or online),
 * routed to their competent unit, decided within their legal time limit,
 * and applied to the registries when approved.
 *
 * Design note.  A dossier is an entity of the event log ("dossier/<code>"):
 * every change of it (receipt, each action) is one event with its actor,
 * appended in one store_write callback together with its projection row
 * (table oss_dossiers: the whole dossier as JSON plus the columns the
 * officer's queue and the indicators filter and sort on) and, for an
 * approval, the registry effects of the procedure (registry_write_in).  So
 * an approval and its effects commit together or not at all, and a refused
 * request writes nothing.
 *
 * Requests and answers are JSON in the shapes of the HTTP API (README,
 * "The one-stop shop API"): this module validates them, so that HTTP,
 * tests and benchmarks share one path.  Who may do what is decided here
 * from the caller's principal (auth/principal.h):
 *   - clerks receive at their unit's counter, and see the dossiers they
 *     received or whose competent unit lies in their jurisdiction;
 *   - officers review and decide dossiers (and composite steps) whose
 *     competent unit lies in their jurisdiction;
 *   - citizens file online for themselves and read only their own dossiers;
 *   - auditors and admins read within their jurisdiction.
 * A NULL principal is refused (LT_EUNAUTH) except by oss_public.
 *
 * Threads: an oss is shared by every handler; it holds only read-only
 * state (the catalogue, the calendar, the node) and a clock.
 */
#ifndef LT_OSS_H
#define LT_OSS_H

#include <stdint.h>

#include <jansson.h>

#include "auth/principal.h"
#include "core/error.h"
#include "oss/calendar.h"
#include "oss/catalogue.h"
#include "registry/registry.h"

struct oss;

/* A one-stop shop over node n with a catalogue and a calendar (all borrowed). */
struct oss *oss_new(struct node *n, const struct oss_catalogue *cat,
                    const struct oss_calendar *cal);
void oss_free(struct oss *o); /* NULL ok */

/* Replace the wall clock (ms since the epoch); NULL restores it.  For tests and benchmarks. */
void oss_set_clock(struct oss *o, int64_t (*now_ms)(void *arg), void *arg);

/* LT_EUNAUTH ("sign in first") for an anonymous caller (who NULL), else LT_OK. */
enum lt_code oss_require_principal(const struct auth_principal *who, struct lt_error *err);

const struct oss_catalogue *oss_catalogue(const struct oss *o);
const struct oss_calendar *oss_calendar(const struct oss *o);
struct node *oss_node(const struct oss *o);

/*
 * Receive a dossier: req is {procedure, applicant: {kind, id}, channel,
 * fields, documents}.  The procedure version in force today is bound; the
 * fields are checked against it (types, required, the records they name:
 * new, existing, alive, held by the applicant); the competent unit is
 * derived (routing.h); the due date counted from now.  *dossier (new
 * reference) is the dossier as oss_get gives it.  Errors, nothing written:
 * LT_EUNAUTH, LT_EFORBIDDEN (a role that does not receive; a citizen filing
 * for someone else or at a counter), LT_ENOTFOUND (unknown procedure),
 * LT_EINVAL (a field at fault, named in err->field as "fields.<name>",
 * "applicant.id", "documents", ...), LT_EIO.
 */
enum lt_code oss_receive(struct oss *o, const struct auth_principal *who, const json_t *req,
                         json_t **dossier, struct lt_error *err);

/*
 * Act on a dossier: req is {action, step?, reason?, note?, version?}.
 * Errors, nothing written: LT_EINVAL (unknown action, a reject without a
 * reason, a composite approval without a step), LT_ENOTFOUND, LT_EFORBIDDEN
 * (outside the competent unit, or a role that may not act), LT_ECONFLICT (a
 * transition the status does not allow, naming the allowed ones; a stale
 * version; a record changed since receipt), and the refusals of the
 * registry effects (LT_EINVAL naming what is wrong).
 */
enum lt_code oss_act(struct oss *o, const struct auth_principal *who, const char *code,
                     const json_t *req, json_t **dossier, struct lt_error *err);

/* A dossier the caller may see (new reference).  LT_ENOTFOUND, LT_EFORBIDDEN, LT_EINVAL (code). */
enum lt_code oss_get(struct oss *o, const struct auth_principal *who, const char *code,
                     json_t **dossier, struct lt_error *err);

/* What anyone may know: {code, status, due_date, procedure: {code, name_vi, name_en}}. */
enum lt_code oss_public(struct oss *o, const char *code, json_t **out, struct lt_error *err);

/* The officer's queue (queue.c). */
struct oss_queue_query {
    const char *unit;   /* a commune, a province or "VN"; NULL: the caller's unit */
    const char *status; /* one status, or NULL: the open ones */
    const char *due;    /* NULL, "overdue" or "today" */
    const char *side;   /* NULL or "competent"; "received": the dossiers received there */
    int limit;          /* 1..OSS_QUEUE_MAX; 0: 50 */
    const char *after;  /* the "next" cursor of the previous page */
};

#define OSS_QUEUE_MAX 500

/*
 * The dossiers of a unit by due date, then code: {"dossiers": [...],
 * "next": cursor|null}.  A citizen gets their own dossiers (unit ignored).
 * LT_EINVAL (a bad unit, status, due, limit or cursor), LT_EFORBIDDEN (a
 * unit outside the caller's jurisdiction).
 */
enum lt_code oss_queue(struct oss *o, const struct auth_principal *who,
                       const struct oss_queue_query *q, json_t **page, struct lt_error *err);

/*
 * The on-time indicators of a unit (commune, province or "VN") for dossiers
 * received (and settled) from..to inclusive: {unit, from, to, received,
 * settled, settled_on_time, settled_late, open, overdue, online_share}.
 * open and overdue count the dossiers received in the period that are open
 * now, and of those the ones past their due date today.
 */
enum lt_code oss_indicators(struct oss *o, const struct auth_principal *who, const char *unit,
                            int32_t from, int32_t to, json_t **out, struct lt_error *err);

#endif
