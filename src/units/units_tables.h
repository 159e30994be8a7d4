/*
 * units_tables.h - the built-in register as ready-made tables (private to
 * src/units and tools/gen_tables.c).
 *
 * Parsing the CSV files of data/units and building the register's indexes
 * costs more than converting an address, so it is done once, at build time:
 * tools/gen_tables.c loads the register with units_load_csv (the same code
 * and the same checks a load at run time would use), exports it as flat
 * arrays (units_export_tables) and writes them as C constants.  At run time
 * units_builtin() points at those arrays and only fills in the unit structs'
 * string pointers.  Everything here is read-only once built.
 */
#ifndef LT_UNITS_TABLES_H
#define LT_UNITS_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "core/strmap.h"
#include "units/units.h"

/* A lineage edge, old unit to new unit. */
struct units_edge {
    uint32_t from;
    uint32_t to;
    enum unit_edge_kind kind;
};

#define UNITS_NO_STRING UINT32_MAX

/* One unit, with its strings as offsets into units_tables.strings. */
struct units_row {
    char code[UNIT_CODE_MAX];
    uint32_t name, short_name, alt_name, fold; /* alt_name may be UNITS_NO_STRING */
    int32_t parent, valid_from, valid_to;
    uint8_t type, level;
};

struct units_tables {
    uint32_t n;      /* units */
    uint32_t nedges; /* lineage edges */
    const struct units_row *rows;
    const char *strings; /* NUL-terminated strings, one after the other */
    size_t strings_len;
    const uint32_t *child_off; /* n + 1 */
    const uint32_t *child_ids; /* n - 1: every unit but the nation */
    const struct units_edge *succ, *pred;
    const uint32_t *succ_off, *pred_off; /* n + 1 each */
    /* The code index, a frozen struct strmap. */
    const struct strmap_entry *code_entries;
    uint32_t ncode_entries;
    const uint32_t *code_buckets;
    uint32_t ncode_buckets;
    const char *code_arena;
    size_t code_arena_len;
};

/* The register parsed from the embedded CSV files (what the tables hold). */
struct units *units_load_csv(void);

/* Free a register from units_load_csv (never the built-in one). */
void units_free(struct units *u);

/* The register as tables: rows and strings are allocated (freed by
 * units_tables_release), the other arrays borrowed from u. */
void units_export_tables(const struct units *u, struct units_tables *t);
void units_tables_release(struct units_tables *t);

/* Written by tools/gen_tables.c; absent from the tool itself. */
extern const struct units_tables units_builtin_tables;

#endif
