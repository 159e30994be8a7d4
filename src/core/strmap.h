/*
 * strmap.h - a string-keyed multimap of 32-bit values.
 *
 * Built once (register load, index build) and then only read, from any
 * number of threads.  Keys are copied into the map's own arena.  One key may
 * carry several values; they are visited in insertion order.
 */
#ifndef LT_STRMAP_H
#define LT_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#define STRMAP_END UINT32_MAX

struct strmap_entry {
    uint32_t key_off; /* offset of the key in the arena */
    uint32_t key_len;
    uint32_t hash;
    uint32_t value;
    uint32_t next; /* next entry in the same bucket, or STRMAP_END */
};

struct strmap {
    struct strmap_entry *entries;
    uint32_t nentries, aentries;
    uint32_t *buckets; /* heads of the chains; power-of-two count */
    uint32_t nbuckets;
    char *arena;
    size_t arena_len, arena_alloc;
};

void strmap_init(struct strmap *m);
void strmap_release(struct strmap *m);

/* Add (key, value); an existing key gains one more value. */
void strmap_add(struct strmap *m, const char *key, size_t len, uint32_t value);

/*
 * The first entry for key, or STRMAP_END; strmap_next gives the following
 * entry for the same key.  strmap_value reads an entry's value.
 */
uint32_t strmap_first(const struct strmap *m, const char *key, size_t len);
uint32_t strmap_next(const struct strmap *m, uint32_t entry);
uint32_t strmap_value(const struct strmap *m, uint32_t entry);

/* The number of values stored under key. */
size_t strmap_count(const struct strmap *m, const char *key, size_t len);

/* The 32-bit FNV-1a hash of a byte string. */
uint32_t strmap_hash(const char *key, size_t len);

#endif
