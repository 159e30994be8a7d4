/*
 * reference.h - the catalogue and the calendar as published reference data.
 *
 * Design note.  The binary carries a procedure catalogue and a holiday
 * calendar (data/procedures, data/calendar); the centre can publish newer
 * ones without a new release.  A publication is an event of the centre's
 * log:
 *
 *   type "reference.published", entity "reference/catalogue" (or
 *   "reference/calendar"), body {"kind": "catalogue", "document": {...}}
 *
 * whose document is the whole file, validated as the built-in one is
 * (oss_catalogue_parse, oss_calendar_parse) before it is written.  Like
 * every event it is signed and flows: every node pulls it (sync/pull.h),
 * and a node uses the latest publication in its log, or the built-in data
 * while there is none.  The entity's version numbers publications (1, 2,
 * ...).  A new catalogue must keep every procedure version of the one in
 * use, since dossiers stay bound to the version they were received under;
 * it may close a version (valid_to) and add others.
 */
#ifndef LT_OSS_REFERENCE_H
#define LT_OSS_REFERENCE_H

#include <stdint.h>

#include <jansson.h>

#include "core/error.h"
#include "oss/oss.h"

#define OSS_REFERENCE_EVENT  "reference.published"
#define OSS_REFERENCE_CENTRE "VN"

/*
 * Publish text (len bytes) as the kind ("catalogue" or "calendar") at o's
 * node, which must be the centre, and use it in o at once.  *version is
 * the publication's number.  Errors, nothing written: LT_EFORBIDDEN (not
 * the centre), LT_EINVAL (an unknown kind; a document that does not
 * validate, the error naming what; a catalogue that drops a procedure
 * version of the one in use), LT_ETOOBIG (over the event body cap), LT_EIO.
 */
enum lt_code oss_reference_publish(struct oss *o, const char *kind, const char *text, size_t len,
                                   const char *actor, int64_t *version, struct lt_error *err);

/*
 * Use in o the latest publications of o's node's log (those already in
 * use are not parsed again).  A publication that does not validate here is
 * skipped, logged at ERROR, and the previous one stays in use.  Only the
 * errors of reading.
 */
enum lt_code oss_reference_load(struct oss *o, struct lt_error *err);

/*
 * What o uses (new reference): {"catalogue": {"source": "built-in" |
 * "published", "version": N, "origin": ...}, "calendar": {...}}.
 */
json_t *oss_reference_json(struct oss *o);

#endif
