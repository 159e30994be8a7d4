/*
 * effects.h - the registry changes a procedure's approval makes.
 *
 * Design note.  Each effect kind ("person.birth", "parcel.transfer", ...)
 * reads the dossier's fields and the registry records as they are inside
 * the approval's write callback, builds the new records and writes them
 * with registry_write_in, so the effects and the approval event commit or
 * roll back together.  A record the dossier saw at receipt (a parcel, a
 * business, a person) must still be at the version seen then: otherwise
 * the approval is refused and the officer told what changed.
 */
#ifndef LT_OSS_EFFECTS_H
#define LT_OSS_EFFECTS_H

#include <stdbool.h>

#include <jansson.h>

#include "core/error.h"
#include "registry/registry.h"

/* The fields an effect kind needs (NULL-terminated), or NULL for an unknown kind.
 * Names after "?" are optional: "?father_id". */
const char *const *oss_effect_needs(const char *kind);

/* What an effect applies to: the dossier and who decides. */
struct oss_effect_ctx {
    struct node *node;
    struct store_conn *conn;
    const char *dossier;   /* the dossier code: the cause of every change */
    const char *actor;     /* the officer */
    const json_t *fields;  /* the step's fields, bound (borrowed) */
    const json_t *seen;    /* {entity: version} seen at receipt (borrowed) */
    const char *applicant; /* the applicant's ID */
    int32_t today;
};

/*
 * Before the effects of an approval: a person applicant must still be alive
 * (a business applicant, not dissolved).  LT_EINVAL naming "applicant.id"
 * otherwise.
 */
enum lt_code oss_effect_check_applicant(const struct oss_effect_ctx *ctx, bool business,
                                        struct lt_error *err);

/*
 * Apply one effect inside a write callback.  Errors, with nothing of this
 * effect applied (the caller's callback then fails and rolls back): those
 * of registry_write_in; LT_ECONFLICT when a record changed since receipt;
 * LT_EINVAL when the change would not be valid (the applicant or the person
 * is deceased, a child is not under six, the parcel is no longer held).
 */
enum lt_code oss_effect_apply(const struct oss_effect_ctx *ctx, const char *kind,
                              struct lt_error *err);

#endif
