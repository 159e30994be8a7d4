/*
 * oss_int.h - inside the one-stop shop: the shared state and the helpers
 * its files use.  Not for use outside src/oss.
 *
 * A dossier is held as one JSON object (the "doc"): the members of the API
 * shape (oss.h) plus internal ones whose names start with "_", stripped
 * before a dossier leaves the module:
 *   _received_ms        the time of receipt, ms since the epoch
 *   _received_province, _competent_province
 *   _seen               {entity: version} of the records the dossier named at receipt
 *   _paused_on          the day the clock paused (waiting for the applicant)
 *   _settled_on         the day of the decision
 */
#ifndef LT_OSS_INT_H
#define LT_OSS_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "oss/oss.h"
#include "oss/state.h"
#include "units/units.h"

/* A catalogue or calendar published at the centre that an oss was given (reference.h). */
struct oss_published {
    struct oss_catalogue *cat; /* one of the two, owned */
    struct oss_calendar *cal;
    int64_t version; /* of its entity, reference/<kind> */
    char origin[48];
};

struct oss {
    struct node *node;
    const struct units *u;
    /* Read by every request; swapped when reference data is published or
     * pulled (reference.h).  Those replaced stay in published until
     * oss_free, as a request may still be reading them. */
    _Atomic(const struct oss_catalogue *) cat;
    _Atomic(const struct oss_calendar *) cal;
    pthread_mutex_t ref_mu; /* guards published */
    struct oss_published *published;
    size_t npublished;
    int64_t (*now_ms)(void *arg);
    void *clock_arg;
};

#define OSS_DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))
#define OSS_TIME_MAX   32 /* "2025-07-03T09:12:00+07:00" */

int64_t oss_now(const struct oss *o);
int32_t oss_today(const struct oss *o);

/* "2025-07-03T09:12:00+07:00": a time in Vietnam. */
void oss_format_time(int64_t ms, char out[OSS_TIME_MAX]);

/* The province of a unit code as in force on day ("" if unknown); the code itself for a province.
 */
void oss_province_of(const struct oss *o, const char *code, char out[UNIT_CODE_MAX]);

/* The competent unit at level for a commune: the commune, or its province. */
void oss_unit_at_level(const struct oss *o, const char *commune, enum oss_level level,
                       char out[UNIT_CODE_MAX]);

/* True if code lies in the caller's jurisdiction. */
bool oss_within(const struct oss *o, const struct auth_principal *who, const char *code);

/* May who read doc? (citizen: their own; others: received or competent unit in jurisdiction) */
bool oss_may_read(const struct oss *o, const struct auth_principal *who, const json_t *doc);

/* A copy of doc without its internal members (new reference). */
json_t *oss_doc_public(const json_t *doc, int64_t version);

/* Routing (routing.c): the competent unit of a dossier.  LT_EINVAL naming the field
 * whose record gives no unit. */
enum lt_code oss_route(struct oss *o, const struct oss_procedure *p, const json_t *fields,
                       const char *applicant_id, char out[UNIT_CODE_MAX], struct lt_error *err);

/* Write the projection row of a new dossier (inside a write). */
enum lt_code oss_row_insert(struct store_conn *c, const json_t *doc, int64_t version,
                            struct lt_error *err);

/* Read a dossier's doc and version on c.  LT_ENOTFOUND. */
enum lt_code oss_row_load(struct store_conn *c, const char *code, json_t **doc, int64_t *version,
                          struct lt_error *err);

/*
 * At receipt: apply every effect the approval of the whole dossier would
 * apply (every step, in order), in a write that is then rolled back, so
 * that a dossier that could never be approved is refused at the counter.
 * LT_OK when all would apply; else the refusal, its message saying at
 * which step, field "fields".
 */
enum lt_code oss_try_effects(struct oss *o, const struct oss_procedure *p, const char *actor,
                             const char *applicant_kind, const char *applicant,
                             const json_t *fields, const json_t *seen, struct lt_error *err);

/* Append a dossier event (entity "dossier/<code>") with body, on c. */
enum lt_code oss_append_event(struct oss *o, struct store_conn *c, const char *code,
                              const char *type, const char *actor, int64_t base_version,
                              const json_t *body, int64_t *version, struct lt_error *err);

#endif
