/*
 * address_json.c - a conversion result as JSON, one shape for the HTTP API
 * and the NDJSON output of the CLI (see address_result_json in address.h).
 */
#include "address/address.h"

#include "units/unit_json.h"
#include "core/banned.h"

/* { "code", "name" } of a unit, or JSON null. */
static json_t *ref(const struct unit *unit)
{
    if (unit == NULL) {
        return json_null();
    }
    return json_pack("{s:s, s:s}", "code", unit->code, "name", unit->name);
}

/* A string from bytes that may not be UTF-8 (the caller's input): null then. */
static json_t *string_or_null(const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);

    return j != NULL ? j : json_null();
}

static json_t *candidates_json(const struct address_result *r)
{
    json_t *a = json_array();

    for (size_t i = 0; i < r->ncandidates; i++) {
        const struct address_candidate *cand = &r->candidates[i];

        json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:s}", "commune", ref(cand->commune),
                                           "province", ref(cand->province), "from", ref(cand->from),
                                           "kind", unit_edge_kind_name(cand->kind)));
    }
    return a;
}

json_t *address_result_json(const char *input, size_t input_len, const struct address_result *r)
{
    json_t *o = json_object();
    json_t *sugg = json_array();

    json_object_set_new(o, "input", string_or_null(input, input_len));
    json_object_set_new(o, "status", json_string(address_status_name(r->status)));
    json_object_set_new(o, "street", string_or_null(r->street, r->street_len));
    json_object_set_new(o, "old",
                        json_pack("{s:o, s:o, s:o}", "commune", ref(r->old_commune), "district",
                                  ref(r->old_district), "province", ref(r->old_province)));
    json_object_set_new(
        o, "new",
        json_pack("{s:o, s:o}", "commune", ref(r->new_commune), "province", ref(r->new_province)));
    json_object_set_new(o, "candidates", candidates_json(r));
    for (size_t i = 0; i < r->nsuggestions; i++) {
        json_array_append_new(sugg, unit_ref_json(r->suggestions[i]));
    }
    json_object_set_new(o, "suggestions", sugg);
    json_object_set_new(o, "note", json_string(r->note));
    return o;
}
