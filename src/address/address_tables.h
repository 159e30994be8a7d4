/*
 * address_tables.h - the converter over the built-in register as ready-made
 * tables (private to src/address and tools/gen_tables.c).
 *
 * Building the converter's name index means cutting and folding the names
 * of 14,000 units and hashing some 30,000 keys: more work than converting
 * an address.  For the
 * built-in register, tools/gen_tables.c builds the converter at build time
 * with the same code, exports its indexes (address_export_tables) and
 * writes them as C constants next to the register's (units_tables.h);
 * address_converter_new then points at them.  Unit ids in the tables are
 * those of the built-in register, written in the same run.
 */
#ifndef LT_ADDRESS_TABLES_H
#define LT_ADDRESS_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "address/address.h"
#include "address/address_index.h"

/* A frozen struct address_index, as arrays. */
struct address_index_tables {
    uint32_t nkeys;
    uint32_t mask;
    const struct address_index_key *keys; /* nkeys + 1 */
    const uint32_t *slots;                /* 2 * (mask + 1) */
    const char *arena;
    size_t arena_len;
    const uint32_t *values;
    size_t nvalues;
};

struct address_tables {
    struct address_index_tables index; /* kind, scope and name -> unit ids */
    struct address_index_tables names; /* name -> what it names */
    uint32_t noldp;
    const uint32_t *oldp;      /* ids of the old provinces */
    const uint32_t *oldp_next; /* ids of the province each went into */
};

/* A converter built from the register itself, never from the tables. */
struct address_converter *address_converter_build(const struct units *u);

/* The converter's indexes as tables (borrowed from c, or allocated). */
void address_export_tables(const struct address_converter *c, struct address_tables *t);

/* A frozen index as tables (borrowed), and an index over such tables. */
void address_index_export(const struct address_index *x, struct address_index_tables *t);
void address_index_adopt(struct address_index *x, const struct address_index_tables *t);

/* Written by tools/gen_tables.c; absent from the tool itself. */
extern const struct address_tables address_builtin_tables;

#endif
