/*
 * address_index.c - a frozen multimap from byte strings to 32-bit values.
 *
 * Building appends (key, value) pairs and interns each distinct key in an
 * open-addressing table (linear probing, at most half full).  Freezing
 * counts the values of each key, lays them out key after key, drops a value
 * repeated under its key, and frees the pairs.  Lookups hash the key a word
 * at a time, probe the slots, and return the key's run of values.
 */
#include "address/address_index.h"
#include "address/address_tables.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/banned.h"

static uint32_t hash_key(const char *key, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ len;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t w;

        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    if (i < len) {
        /* The last 1 to 7 bytes, read without a call: the 8 bytes that end
         * the key when there are 8, else in pieces of 4, 2 and 1. */
        size_t rest = len - i;
        uint64_t w = 0;

        if (len >= 8) {
            memcpy(&w, key + len - 8, 8);
            w >>= 8 * (8 - rest);
        } else {
            size_t at = 0;

            if (rest & 4) {
                uint32_t v;

                memcpy(&v, key + i, 4);
                w = v;
                at = 4;
            }
            if (rest & 2) {
                uint16_t v;

                memcpy(&v, key + i + at, 2);
                w |= (uint64_t)v << (8 * at);
                at += 2;
            }
            if (rest & 1) {
                w |= (uint64_t)(unsigned char)key[i + at] << (8 * at);
            }
        }
        h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
    }
    h ^= h >> 29;
    h *= 0x94d049bb133111ebu;
    return (uint32_t)(h ^ (h >> 32));
}

void address_index_init(struct address_index *x)
{
    memset(x, 0, sizeof(*x));
    x->mask = 1023;
    x->slots = xcalloc(2 * ((size_t)x->mask + 1), sizeof(uint32_t));
}

void address_index_release(struct address_index *x)
{
    if (x == NULL) {
        return;
    }
    if (x->borrowed) {
        memset(x, 0, sizeof(*x));
        return;
    }
    free(x->keys);
    free(x->slots);
    free(x->arena);
    free(x->pairs);
    free(x->values);
    memset(x, 0, sizeof(*x));
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t probe(const struct address_index *x, const char *key, size_t len, uint32_t hash)
{
    uint32_t i = hash & x->mask;

    for (;;) {
        uint32_t s = x->slots[2 * i];
        const struct address_index_key *k;

        if (s == 0) {
            return i;
        }
        /* The hash beside the key number: most keys that differ are told
         * apart here, without reading the key. */
        if (x->slots[2 * i + 1] == hash) {
            k = &x->keys[s - 1];
            if (k->len == len && memcmp(x->arena + k->off, key, len) == 0) {
                return i;
            }
        }
        i = (i + 1) & x->mask;
    }
}

static void grow(struct address_index *x)
{
    uint32_t size = (x->mask + 1) * 2;

    free(x->slots);
    x->slots = xcalloc(2 * (size_t)size, sizeof(uint32_t));
    x->mask = size - 1;
    for (uint32_t k = 0; k < x->nkeys; k++) {
        const struct address_index_key *key = &x->keys[k];
        uint32_t i = probe(x, x->arena + key->off, key->len, key->hash);

        x->slots[2 * i] = k + 1;
        x->slots[2 * i + 1] = key->hash;
    }
}

/* The number of key, interned if new. */
static uint32_t intern(struct address_index *x, const char *key, size_t len)
{
    uint32_t hash = hash_key(key, len);
    uint32_t i = probe(x, key, len, hash);
    struct address_index_key *k;

    if (x->slots[2 * i] != 0) {
        return x->slots[2 * i] - 1;
    }
    if (x->nkeys == x->akeys) {
        x->akeys = x->akeys ? x->akeys * 2 : 1024;
        x->keys = xrealloc(x->keys, sizeof(*x->keys) * (x->akeys + 1));
    }
    while (x->arena_len + len > x->arena_alloc) {
        x->arena_alloc = x->arena_alloc ? x->arena_alloc * 2 : 65536;
        x->arena = xrealloc(x->arena, x->arena_alloc);
    }
    memcpy(x->arena + x->arena_len, key, len);
    k = &x->keys[x->nkeys];
    k->off = (uint32_t)x->arena_len;
    k->len = (uint32_t)len;
    k->hash = hash;
    k->first = 0;
    x->arena_len += len;
    x->slots[2 * i] = ++x->nkeys;
    x->slots[2 * i + 1] = hash;
    if (x->nkeys * 2 > x->mask + 1) {
        grow(x);
    }
    return x->nkeys - 1;
}

void address_index_add(struct address_index *x, const char *key, size_t len, uint32_t value)
{
    uint32_t k;

    if (x->frozen) {
        BUG("address index changed after freezing");
    }
    k = intern(x, key, len);
    if (x->npairs == x->apairs) {
        x->apairs = x->apairs ? x->apairs * 2 : 4096;
        x->pairs = xrealloc(x->pairs, sizeof(uint32_t) * 2 * x->apairs);
    }
    x->pairs[2 * x->npairs] = k;
    x->pairs[2 * x->npairs + 1] = value;
    x->npairs++;
    x->keys[k].first++; /* counts values until frozen */
}

static bool in_run(const uint32_t *v, uint32_t from, uint32_t to, uint32_t value)
{
    for (uint32_t i = from; i < to; i++) {
        if (v[i] == value) {
            return true;
        }
    }
    return false;
}

void address_index_freeze(struct address_index *x)
{
    uint32_t *fill = xcalloc((size_t)x->nkeys + 1, sizeof(uint32_t));
    uint32_t total = 0;

    for (uint32_t k = 0; k < x->nkeys; k++) {
        uint32_t n = x->keys[k].first;

        x->keys[k].first = fill[k] = total;
        total += n;
    }
    x->values = xmalloc(sizeof(uint32_t) * ((size_t)total + 1));
    for (size_t p = 0; p < x->npairs; p++) {
        uint32_t k = x->pairs[2 * p], value = x->pairs[2 * p + 1];

        if (!in_run(x->values, x->keys[k].first, fill[k], value)) {
            x->values[fill[k]++] = value;
        }
    }
    /* Close up the places left by repeated values, key by key. */
    total = 0;
    for (uint32_t k = 0; k < x->nkeys; k++) {
        uint32_t from = x->keys[k].first, n = fill[k] - from;

        memmove(x->values + total, x->values + from, sizeof(uint32_t) * n);
        x->keys[k].first = total;
        total += n;
    }
    if (x->keys == NULL) {
        x->keys = xmalloc(sizeof(*x->keys));
    }
    x->keys[x->nkeys].first = total;
    free(fill);
    free(x->pairs);
    x->pairs = NULL;
    x->npairs = x->apairs = 0;
    x->frozen = 1;
}

const uint32_t *address_index_get(const struct address_index *x, const char *key, size_t len,
                                  size_t *n)
{
    uint32_t s = x->slots[2 * probe(x, key, len, hash_key(key, len))];

    if (s == 0 || !x->frozen) {
        *n = 0;
        return NULL;
    }
    *n = x->keys[s].first - x->keys[s - 1].first;
    return x->values + x->keys[s - 1].first;
}

void address_index_export(const struct address_index *x, struct address_index_tables *t)
{
    if (!x->frozen) {
        BUG("address index exported before freezing");
    }
    t->nkeys = x->nkeys;
    t->mask = x->mask;
    t->keys = x->keys;
    t->slots = x->slots;
    t->arena = x->arena;
    t->arena_len = x->arena_len;
    t->values = x->values;
    t->nvalues = x->keys[x->nkeys].first;
}

/* The casts only let the struct hold constant tables; a frozen index is
 * never written to, and a borrowed one is never freed. */
void address_index_adopt(struct address_index *x, const struct address_index_tables *t)
{
    memset(x, 0, sizeof(*x));
    x->nkeys = x->akeys = t->nkeys;
    x->mask = t->mask;
    x->keys = (struct address_index_key *)t->keys;
    x->slots = (uint32_t *)t->slots;
    x->arena = (char *)t->arena;
    x->arena_len = x->arena_alloc = t->arena_len;
    x->values = (uint32_t *)t->values;
    x->frozen = 1;
    x->borrowed = 1;
}
