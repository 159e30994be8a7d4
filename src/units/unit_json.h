/*
 * unit_json.h - units as JSON, one shape for the HTTP API and the CLI.
 */
#ifndef LT_UNIT_JSON_H
#define LT_UNIT_JSON_H

#include <jansson.h>

#include "units/units.h"

/*
 * The full record (new reference):
 *   { "code", "name", "short_name", "alt_name" (only if any), "type",
 *     "level", "parent": {code,name}|null, "valid_from": "YYYY-MM-DD"|null,
 *     "valid_to": "YYYY-MM-DD"|null }
 */
json_t *unit_to_json(const struct units *u, const struct unit *unit);

/* A reference: { "code", "name", "level", "valid_to" } (new reference);
 * JSON null for a NULL unit. */
json_t *unit_ref_json(const struct unit *unit);

/* A lineage link: the reference plus "kind" and "depth" (new reference). */
json_t *unit_link_json(const struct unit_link *link);

#endif
