/*
 * units.h - the register of administrative units and their lineage.
 *
 * The register holds every unit that ever existed in the data we ship: the
 * nation, the 63 provinces, 696 districts and 10,047 communes in force until
 * 2025-06-30, and the 34 provinces and 3,321 communes in force from
 * 2025-07-01.  A state code is not unique on its own (province "01" and
 * commune "00004" exist before and after the reform, as different units), so
 * a unit is a code plus a validity range, and lookups take a date.
 *
 * Lineage edges run from an old unit to each unit that took it over, "full"
 * when the whole old unit went there, "partial" when only a part did.
 *
 * The built-in register is parsed from the data files at build time and
 * compiled into the binary as tables (units_tables.h); it is set up over
 * them on first use and is read-only afterwards, so any thread may query
 * it.  Unit pointers stay valid for the life of the process.
 */
#ifndef LT_UNITS_H
#define LT_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define UNIT_CODE_MAX 8 /* "VN", "01", "001", "00004", plus NUL */

enum unit_level {
    UNIT_NATION,
    UNIT_PROVINCE,
    UNIT_DISTRICT,
    UNIT_COMMUNE,
};

enum unit_type {
    UNIT_TYPE_NATION,
    UNIT_TYPE_MUNICIPALITY,    /* thành phố trực thuộc trung ương */
    UNIT_TYPE_PROVINCE,        /* tỉnh */
    UNIT_TYPE_URBAN_DISTRICT,  /* quận */
    UNIT_TYPE_RURAL_DISTRICT,  /* huyện */
    UNIT_TYPE_TOWN,            /* thị xã */
    UNIT_TYPE_PROVINCIAL_CITY, /* thành phố thuộc tỉnh */
    UNIT_TYPE_WARD,            /* phường */
    UNIT_TYPE_COMMUNE,         /* xã */
    UNIT_TYPE_TOWNSHIP,        /* thị trấn */
    UNIT_TYPE_SPECIAL_ZONE,    /* đặc khu */
};

enum unit_edge_kind {
    UNIT_EDGE_FULL,
    UNIT_EDGE_PARTIAL,
};

struct unit {
    uint32_t id; /* index in the register */
    char code[UNIT_CODE_MAX];
    const char *name;       /* "Phường Ba Đình", NFC */
    const char *short_name; /* "Ba Đình" */
    const char *alt_name;   /* another official spelling, or NULL */
    const char *fold;       /* folded short name: "ba dinh" */
    enum unit_type type;
    enum unit_level level;
    int32_t parent;     /* id of the parent unit, -1 for the nation */
    int32_t valid_from; /* first day in force, DATE_MIN if before our records */
    int32_t valid_to;   /* last day in force, DATE_MAX if still in force */
};

struct unit_link {
    const struct unit *unit;
    enum unit_edge_kind kind; /* partial if any edge on the path is partial */
    int depth;                /* 1 for a direct successor or predecessor */
};

struct units;

/*
 * The built-in register, parsed on first use (thread-safe).  Never NULL:
 * a register that fails its own consistency checks is a build defect and
 * aborts with BUG().
 */
const struct units *units_builtin(void);

size_t units_count(const struct units *u);
const struct unit *units_at(const struct units *u, uint32_t id);

/* The nation, the root of both hierarchies. */
const struct unit *units_nation(const struct units *u);

/* The unit with this code in force on date, or NULL. */
const struct unit *units_find(const struct units *u, const char *code, int32_t date);

/*
 * The unit a bare code means when no date is given: the one in force today,
 * else the one that was in force last.  NULL if no unit ever had the code.
 */
const struct unit *units_find_default(const struct units *u, const char *code);

/*
 * Every unit that ever carried this code, oldest first, into out[0..max).
 * Returns how many there are (which may exceed max).
 */
size_t units_find_all(const struct units *u, const char *code, const struct unit **out, size_t max);

/* True if the unit is in force on date. */
bool unit_valid_on(const struct unit *unit, int32_t date);

const struct unit *unit_parent(const struct units *u, const struct unit *unit);

/* The province (old or new) a unit lies in; the unit itself for a province. */
const struct unit *unit_province(const struct units *u, const struct unit *unit);

/*
 * True if unit code inner lies inside outer: the same code, a commune of
 * province outer (a commune of before the reform: of a province outer took
 * over), or anything at all inside "VN".  Codes are read as in force today
 * (else as last in force).  Unknown codes are inside nothing.
 * This is the test of jurisdiction (an account's, a node's).
 */
bool units_code_within(const struct units *u, const char *inner, const char *outer);

/*
 * Why code names no unit in force today: LT_ENOTFOUND in err, naming the
 * units that took it over (or how to find today's unit by name).
 */
void units_explain_missing(const struct units *u, const char *code, struct lt_error *err);

/*
 * Children of unit, in code order, into out[0..max); returns how many there
 * are.  With date != DATE_MIN only children in force on that date count
 * (the nation has both old and new provinces as children).
 */
size_t units_children(const struct units *u, const struct unit *unit, int32_t date,
                      const struct unit **out, size_t max);

/*
 * Units that took over unit, transitively, nearest first, into
 * out[0..max).  Returns how many there are.
 */
size_t units_successors(const struct units *u, const struct unit *unit, struct unit_link *out,
                        size_t max);

/* Units that unit took over, transitively, nearest first. */
size_t units_predecessors(const struct units *u, const struct unit *unit, struct unit_link *out,
                          size_t max);

/*
 * Direct successor edges only (depth 1); cheap, for the hot path of
 * address conversion.
 */
size_t units_direct_successors(const struct units *u, const struct unit *unit,
                               struct unit_link *out, size_t max);

/*
 * Search by name: the query may carry diacritics or not, any case, and a
 * type prefix or its abbreviation ("P. Ba Đình", "quan 1", "tinh ha giang").
 * With date != DATE_MIN, only units in force on date.  Exact name matches
 * come first, then names starting with the query, then names containing it.
 * Returns how many matched (which may exceed max).
 */
size_t units_search(const struct units *u, const char *query, int32_t date, const struct unit **out,
                    size_t max);

/* "nation", "province", "district", "commune". */
const char *unit_level_name(enum unit_level level);

/* "ward", "commune", "urban_district", ... as in the data files. */
const char *unit_type_name(enum unit_type type);

/* "full" or "partial". */
const char *unit_edge_kind_name(enum unit_edge_kind kind);

/*
 * Recognise a type prefix at the start of folded text: "phuong ", "p.",
 * "p ", "xa ", "x.", "tt ", "quan ", "q.", "huyen ", "h.", "tx ", "tp ",
 * "tinh ", "t.", "thanh pho ", "dac khu ".  On success *len is the prefix's
 * length (with trailing dots and spaces) and *level_mask has a bit
 * (1 << enum unit_level) for each level the prefix can name, *type_mask a bit
 * (1 << enum unit_type) for each type.  Returns false if none.
 */
bool units_parse_prefix(const char *fold, size_t fold_len, size_t *len, unsigned *level_mask,
                        unsigned *type_mask);

#endif
