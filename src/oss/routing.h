/*
 * routing.h - which unit is competent for a dossier.
 *
 * Design note.  Receipt does not depend on boundaries: any commune may
 * receive any procedure.  The competent unit comes from the records the
 * dossier names, as the procedure's route says: the permanent residence of
 * the applicant or of a person a field names, the unit of a parcel, the
 * unit of a business, or a unit field of the declaration (the commune
 * where a child will live, where a household business sets up).  A
 * commune-level procedure goes to that commune, a province-level one to
 * its province.  The receiving and the competent unit both see the
 * dossier; each step of a composite has its own competent unit (the
 * composite's commune, or its province for a province-level step).
 *
 * The function is oss_route in oss_int.h; this header holds its design
 * note and the unit of a record, which receipt also uses.
 */
#ifndef LT_OSS_ROUTING_H
#define LT_OSS_ROUTING_H

#include "oss/oss_int.h"

/*
 * The commune a record lies in: a person's permanent residence (current:
 * no to_date), a parcel's or a business's unit.  LT_EINVAL (field named)
 * when the person has no current permanent residence or the record does
 * not exist.
 */
enum lt_code oss_record_unit(struct oss *o, enum registry_kind kind, const char *key,
                             const char *field, char out[UNIT_CODE_MAX], struct lt_error *err);

#endif
