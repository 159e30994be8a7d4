/*
 * strmap.c - chained hash multimap over one entry array and one key arena.
 *
 * Entries are never removed, so indexes into the entry array stay valid and
 * serve as iterators.  The bucket array doubles when the load passes one.
 */
#include "core/strmap.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/banned.h"

uint32_t strmap_hash(const char *key, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 16777619u;
    }
    return h;
}

void strmap_init(struct strmap *m)
{
    memset(m, 0, sizeof(*m));
}

void strmap_release(struct strmap *m)
{
    if (m == NULL) {
        return;
    }
    free(m->entries);
    free(m->buckets);
    free(m->arena);
    memset(m, 0, sizeof(*m));
}

static void rehash(struct strmap *m, uint32_t nbuckets)
{
    free(m->buckets);
    m->buckets = xmalloc(sizeof(uint32_t) * nbuckets);
    memset(m->buckets, 0xff, sizeof(uint32_t) * nbuckets);
    m->nbuckets = nbuckets;
    /* Walk backwards so that each chain keeps insertion order. */
    for (uint32_t i = m->nentries; i-- > 0;) {
        struct strmap_entry *e = &m->entries[i];
        uint32_t b = e->hash & (nbuckets - 1);

        e->next = m->buckets[b];
        m->buckets[b] = i;
    }
}

void strmap_add(struct strmap *m, const char *key, size_t len, uint32_t value)
{
    struct strmap_entry *e;

    if (m->nentries == m->aentries) {
        m->aentries = m->aentries ? m->aentries * 2 : 64;
        m->entries = xrealloc(m->entries, sizeof(*m->entries) * m->aentries);
    }
    if (m->arena_len + len + 1 > m->arena_alloc) {
        size_t alloc = m->arena_alloc ? m->arena_alloc : 1024;
        while (alloc < m->arena_len + len + 1) {
            alloc *= 2;
        }
        m->arena = xrealloc(m->arena, alloc);
        m->arena_alloc = alloc;
    }
    memcpy(m->arena + m->arena_len, key, len);
    m->arena[m->arena_len + len] = '\0';

    e = &m->entries[m->nentries];
    e->key_off = (uint32_t)m->arena_len;
    e->key_len = (uint32_t)len;
    e->hash = strmap_hash(key, len);
    e->value = value;
    m->arena_len += len + 1;
    m->nentries++;

    if (m->nentries > m->nbuckets) {
        rehash(m, m->nbuckets ? m->nbuckets * 2 : 64);
    } else {
        /* Append at the chain's end to keep insertion order. */
        uint32_t b = e->hash & (m->nbuckets - 1);
        uint32_t *link = &m->buckets[b];

        while (*link != STRMAP_END) {
            link = &m->entries[*link].next;
        }
        e->next = STRMAP_END;
        *link = m->nentries - 1;
    }
}

static uint32_t scan(const struct strmap *m, uint32_t i, uint32_t hash, const char *key, size_t len)
{
    while (i != STRMAP_END) {
        const struct strmap_entry *e = &m->entries[i];

        if (e->hash == hash && e->key_len == len && memcmp(m->arena + e->key_off, key, len) == 0) {
            return i;
        }
        i = e->next;
    }
    return STRMAP_END;
}

uint32_t strmap_first(const struct strmap *m, const char *key, size_t len)
{
    uint32_t hash;

    if (m->nbuckets == 0) {
        return STRMAP_END;
    }
    hash = strmap_hash(key, len);
    return scan(m, m->buckets[hash & (m->nbuckets - 1)], hash, key, len);
}

uint32_t strmap_next(const struct strmap *m, uint32_t entry)
{
    const struct strmap_entry *e = &m->entries[entry];

    return scan(m, e->next, e->hash, m->arena + e->key_off, e->key_len);
}

uint32_t strmap_value(const struct strmap *m, uint32_t entry)
{
    return m->entries[entry].value;
}

size_t strmap_count(const struct strmap *m, const char *key, size_t len)
{
    size_t n = 0;

    for (uint32_t i = strmap_first(m, key, len); i != STRMAP_END; i = strmap_next(m, i)) {
        n++;
    }
    return n;
}
