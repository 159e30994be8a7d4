/*
 * unit_json.c - JSON shapes of units and lineage links.
 */
#include "units/unit_json.h"

#include "core/date.h"
#include "core/banned.h"

static json_t *date_json(int32_t days)
{
    char s[DATE_STR_MAX];

    if (days == DATE_MIN || days == DATE_MAX) {
        return json_null();
    }
    date_format(days, s);
    return json_string(s);
}

json_t *unit_ref_json(const struct unit *unit)
{
    if (unit == NULL) {
        return json_null();
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "code", unit->code, "name", unit->name, "level",
                     unit_level_name(unit->level), "valid_to", date_json(unit->valid_to));
}

json_t *unit_to_json(const struct units *u, const struct unit *unit)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "code", unit->code, "name",
                          unit->name, "short_name", unit->short_name, "type",
                          unit_type_name(unit->type), "level", unit_level_name(unit->level),
                          "parent", unit_ref_json(unit_parent(u, unit)), "valid_from",
                          date_json(unit->valid_from), "valid_to", date_json(unit->valid_to));

    if (unit->alt_name != NULL) {
        json_object_set_new(o, "alt_name", json_string(unit->alt_name));
    }
    return o;
}

json_t *unit_link_json(const struct unit_link *link)
{
    json_t *o = unit_ref_json(link->unit);

    json_object_set_new(o, "kind", json_string(unit_edge_kind_name(link->kind)));
    json_object_set_new(o, "depth", json_integer(link->depth));
    return o;
}
