/*
 * address.h - converting addresses written before the 2025 reform.
 *
 * People write addresses as "12 Lý Thường Kiệt, P. Trần Hưng Đạo, Q. Hoàn
 * Kiếm, Hà Nội": a street part, then the commune, the district and the
 * province, with or without diacritics, abbreviated, numbered ("Q1", "P12"),
 * with stray commas and spaces.  The converter recognises the units (old or
 * new), keeps the street part exactly as written, and tells what the address
 * is in today's units:
 *
 *   converted  - old units recognised; one successor commune (and province)
 *   unchanged  - the address already names today's units
 *   ambiguous  - more than one answer fits (the old commune was split, or
 *                the text fits several units): every candidate is listed
 *   not_found  - nothing fits; the closest names are suggested
 *
 * A converter is built once from a units register and is then read-only, so
 * any number of threads may convert with it at the same time.
 */
#ifndef LT_ADDRESS_H
#define LT_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/error.h"
#include "units/units.h"

/* The longest address line accepted, in bytes. */
#define ADDRESS_MAX_LEN 4096

#define ADDRESS_MAX_CANDIDATES  16
#define ADDRESS_MAX_SUGGESTIONS 5

enum address_status {
    ADDRESS_CONVERTED,
    ADDRESS_UNCHANGED,
    ADDRESS_AMBIGUOUS,
    ADDRESS_NOT_FOUND,
};

/* One possible reading of today's units. */
struct address_candidate {
    const struct unit *commune;  /* today's commune */
    const struct unit *province; /* today's province */
    const struct unit *from;     /* the old commune it comes from, or NULL */
    enum unit_edge_kind kind;    /* partial: only part of the old unit went there */
};

struct address_result {
    enum address_status status;

    /* The street part, as written: input[0 .. street_len) with trailing
     * separators trimmed; the whole line when no unit is recognised.
     * Points into the caller's input. */
    const char *street;
    size_t street_len;

    /* The units recognised in the input (NULL where not recognised). */
    const struct unit *old_commune;
    const struct unit *old_district;
    const struct unit *old_province;

    /* Today's units when the answer is one (converted, unchanged). */
    const struct unit *new_commune;
    const struct unit *new_province;

    /* Every reading, when ambiguous (also filled, with one entry, for
     * converted and unchanged). */
    struct address_candidate candidates[ADDRESS_MAX_CANDIDATES];
    size_t ncandidates;

    /* Closest units by name, when not found. */
    const struct unit *suggestions[ADDRESS_MAX_SUGGESTIONS];
    size_t nsuggestions;

    /* Why it is ambiguous or not found, for a person; "" otherwise. */
    char note[160];
};

struct address_converter;

/* Build a converter over a register (borrowed; must outlive the converter). */
struct address_converter *address_converter_new(const struct units *u);
void address_converter_free(struct address_converter *c);

/*
 * Convert one address line.  Errors (result untouched): LT_EINVAL for an
 * empty line, invalid UTF-8 or control characters (the detail gives the
 * byte offset); LT_ETOOBIG for a line over ADDRESS_MAX_LEN.
 * Not finding the units is not an error: status not_found.
 */
enum lt_code address_convert(const struct address_converter *c, const char *text, size_t len,
                             struct address_result *out, struct lt_error *err);

/* "converted", "unchanged", "ambiguous", "not_found". */
const char *address_status_name(enum address_status status);

/*
 * The result as a JSON object (new reference), the one shape used by the
 * HTTP API and by NDJSON output:
 *   { "input": ..., "status": ..., "street": ...,
 *     "old": { "commune": {code,name}|null, "district": ..., "province": ... },
 *     "new": { "commune": {code,name}|null, "province": ... },
 *     "candidates": [ { "commune": {code,name}, "province": {code,name},
 *                       "from": {code,name}|null, "kind": "full"|"partial" } ],
 *     "suggestions": [ {code,name,level,valid_to} ], "note": ... }
 */
json_t *address_result_json(const char *input, size_t input_len, const struct address_result *r);

#endif
