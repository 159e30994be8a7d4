/*
 * address_index.h - the converter's name index: byte strings to lists of
 * 32-bit values (private to src/address).
 *
 * Built once, frozen, then only read, from any number of threads.  It does
 * what core/strmap.h does, tuned for this load: tens of thousands of keys,
 * some with dozens of values ("tan thanh" names 51 old communes), looked up
 * a few dozen times per address.  Keys are probed in an open-addressing
 * table of (hash, key) slots, and a key's values lie next to each other, so
 * a lookup touches two or three cache lines and an insert never walks a
 * chain.
 */
#ifndef LT_ADDRESS_INDEX_H
#define LT_ADDRESS_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct address_index_key {
    uint32_t off, len; /* the key's bytes in the arena */
    uint32_t hash;
    uint32_t first; /* after freezing: its values are values[first .. next key's first) */
};

struct address_index {
    struct address_index_key *keys; /* one more at the end after freezing */
    uint32_t nkeys, akeys;
    uint32_t *slots; /* per slot: 0 (empty) or key number + 1, then the key's hash */
    uint32_t mask;   /* slot count - 1 */
    char *arena;
    size_t arena_len, arena_alloc;
    uint32_t *pairs; /* while building: (key, value) pairs, in insertion order */
    size_t npairs, apairs;
    uint32_t *values; /* after freezing */
    int frozen;
    int borrowed; /* keys, slots, arena and values are constant tables: not freed */
};

void address_index_init(struct address_index *x);
void address_index_release(struct address_index *x);

/* Add value under key (building only).  A value repeated under one key is
 * kept once. */
void address_index_add(struct address_index *x, const char *key, size_t len, uint32_t value);

/* Group the values by key, in the order they were added; read-only after. */
void address_index_freeze(struct address_index *x);

/* The values of key (borrowed), *n of them; NULL and 0 for an unknown key. */
const uint32_t *address_index_get(const struct address_index *x, const char *key, size_t len,
                                  size_t *n);

#endif
