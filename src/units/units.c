/*
 * units.c - loading and querying the register of administrative units.
 *
 * Design: the register is a flat array of struct unit, indexed by id, built
 * from the CSV files compiled into the binary (embedded_data.c).  That parse
 * runs at build time (units_tables.h): the built-in register points at the
 * tables it wrote, and only the units' string pointers are filled in at run
 * time.  Strings live in one arena.  Children and lineage edges are stored in compressed
 * form (an offset array per unit into one id array), so a query touches a
 * few cache lines and never allocates.  Codes are indexed in a strmap
 * (one code can name an old and a new unit).
 *
 * The load checks the data as it goes (every parent exists, every edge
 * names known units); a failure there is a build defect and ends in BUG().
 */
#include "units/units.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/strmap.h"
#include "core/utf8.h"
#include "units/units_tables.h"
#include "core/banned.h"

extern const char lt_data_provinces_2025[];
extern const size_t lt_data_provinces_2025_len;
extern const char lt_data_communes_2025[];
extern const size_t lt_data_communes_2025_len;
extern const char lt_data_old_provinces[];
extern const size_t lt_data_old_provinces_len;
extern const char lt_data_old_districts[];
extern const size_t lt_data_old_districts_len;
extern const char lt_data_old_communes[];
extern const size_t lt_data_old_communes_len;
extern const char lt_data_mapping_2025[];
extern const size_t lt_data_mapping_2025_len;
extern const char lt_data_mapping_provinces_2025[];
extern const size_t lt_data_mapping_provinces_2025_len;

#define MAX_FIELDS 12
#define FOLD_MAX   256

struct units {
    struct unit *v;
    size_t n, alloc;

    char *arena; /* chunked: see arena_dup */
    size_t arena_used, arena_size;
    char **chunks;
    size_t nchunks;

    struct strmap by_code;

    uint32_t *child_off; /* n + 1 offsets into child_ids */
    uint32_t *child_ids;

    struct units_edge *succ; /* sorted by from */
    struct units_edge *pred; /* same edges sorted by to */
    size_t nedges, aedges;
    uint32_t *succ_off; /* n + 1 offsets into succ */
    uint32_t *pred_off; /* n + 1 offsets into pred */
};

static const char *const level_names[] = { "nation", "province", "district", "commune" };

static const char *const type_names[] = {
    "nation",          "municipality", "province", "urban_district", "rural_district", "town",
    "provincial_city", "ward",         "commune",  "township",       "special_zone",
};

static const char *arena_dup(struct units *u, const char *s, size_t len)
{
    char *p;

    if (u->arena == NULL || u->arena_used + len + 1 > u->arena_size) {
        size_t size = len + 1 > 65536 ? len + 1 : 65536;

        u->chunks = xrealloc(u->chunks, sizeof(char *) * (u->nchunks + 1));
        u->arena = xmalloc(size);
        u->chunks[u->nchunks++] = u->arena;
        u->arena_size = size;
        u->arena_used = 0;
    }
    p = u->arena + u->arena_used;
    memcpy(p, s, len);
    p[len] = '\0';
    u->arena_used += len + 1;
    return p;
}

/* Split one CSV line (no quoting in our data) into fields, in place. */
static int split_line(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;

    fields[n++] = p;
    while (*p) {
        if (*p == ',') {
            *p = '\0';
            if (n == max) {
                return -1;
            }
            fields[n++] = p + 1;
        }
        p++;
    }
    return n;
}

/*
 * Call fn for each data row of an embedded CSV file (the header is
 * skipped), with the row split into fields.
 */
typedef void (*row_fn)(struct units *u, char **f, int nf, const char *file, int line);

static void each_row(struct units *u, const char *data, size_t len, const char *file,
                     int want_fields, row_fn fn)
{
    const char *p = data;
    const char *end = data + len;
    int line = 0;
    char tmp[1024];

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *fields[MAX_FIELDS];
        int nf;

        line++;
        if (l >= sizeof(tmp)) {
            BUG("%s:%d: line too long", file, line);
        }
        memcpy(tmp, p, l);
        tmp[l] = '\0';
        p += l + (nl ? 1 : 0);
        if (line == 1 || l == 0) {
            continue;
        }
        nf = split_line(tmp, fields, MAX_FIELDS);
        if (nf != want_fields) {
            BUG("%s:%d: %d fields, expected %d", file, line, nf, want_fields);
        }
        fn(u, fields, nf, file, line);
    }
}

static enum unit_type parse_type(const char *s, const char *file, int line)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
        if (strcmp(s, type_names[i]) == 0) {
            return (enum unit_type)i;
        }
    }
    BUG("%s:%d: unknown unit type \"%s\"", file, line, s);
}

static struct unit *add_unit(struct units *u, const char *code, const char *name,
                             const char *short_name, const char *alt_name, enum unit_type type,
                             enum unit_level level, int32_t parent, int32_t from, int32_t to)
{
    struct unit *unit;
    char fold[FOLD_MAX];
    size_t flen;

    if (u->n == u->alloc) {
        u->alloc = u->alloc ? u->alloc * 2 : 16384;
        u->v = xrealloc(u->v, sizeof(*u->v) * u->alloc);
    }
    unit = &u->v[u->n];
    memset(unit, 0, sizeof(*unit));
    unit->id = (uint32_t)u->n;
    if (strlen(code) >= UNIT_CODE_MAX) {
        BUG("unit code \"%s\" too long", code);
    }
    snprintf(unit->code, sizeof(unit->code), "%s", code);
    unit->name = arena_dup(u, name, strlen(name));
    unit->short_name = arena_dup(u, short_name, strlen(short_name));
    unit->alt_name = alt_name && *alt_name ? arena_dup(u, alt_name, strlen(alt_name)) : NULL;
    flen = utf8_fold_words(short_name, strlen(short_name), fold, sizeof(fold));
    unit->fold = arena_dup(u, fold, flen);
    unit->type = type;
    unit->level = level;
    unit->parent = parent;
    unit->valid_from = from;
    unit->valid_to = to;
    strmap_add(&u->by_code, code, strlen(code), unit->id);
    u->n++;
    return unit;
}

static int32_t reform_last_old_day(void)
{
    return date_from_civil(2025, 6, 30);
}

static int32_t reform_first_new_day(void)
{
    return date_from_civil(2025, 7, 1);
}

static uint32_t must_find(struct units *u, const char *code, int32_t date, const char *file,
                          int line)
{
    const struct unit *unit = units_find(u, code, date);

    if (unit == NULL) {
        BUG("%s:%d: unknown unit \"%s\"", file, line, code);
    }
    return unit->id;
}

/* old-provinces.csv: code,name,type,short_name */
static void row_old_province(struct units *u, char **f, int nf, const char *file, int line)
{
    (void)nf;
    add_unit(u, f[0], f[1], f[3], NULL, parse_type(f[2], file, line), UNIT_PROVINCE, 0, DATE_MIN,
             reform_last_old_day());
}

/* provinces-2025.csv: code,name,type,short_name */
static void row_new_province(struct units *u, char **f, int nf, const char *file, int line)
{
    (void)nf;
    add_unit(u, f[0], f[1], f[3], NULL, parse_type(f[2], file, line), UNIT_PROVINCE, 0,
             reform_first_new_day(), DATE_MAX);
}

/* old-districts.csv: code,name,type,province_code,short_name */
static void row_old_district(struct units *u, char **f, int nf, const char *file, int line)
{
    uint32_t parent = must_find(u, f[3], reform_last_old_day(), file, line);

    (void)nf;
    add_unit(u, f[0], f[1], f[4], NULL, parse_type(f[2], file, line), UNIT_DISTRICT,
             (int32_t)parent, DATE_MIN, reform_last_old_day());
}

/* old-communes.csv: code,name,type,district_code,province_code,short_name,alt_name */
static void row_old_commune(struct units *u, char **f, int nf, const char *file, int line)
{
    uint32_t parent = must_find(u, f[3], reform_last_old_day(), file, line);

    (void)nf;
    add_unit(u, f[0], f[1], f[5], f[6], parse_type(f[2], file, line), UNIT_COMMUNE, (int32_t)parent,
             DATE_MIN, reform_last_old_day());
}

/* communes-2025.csv: code,name,type,province_code,short_name */
static void row_new_commune(struct units *u, char **f, int nf, const char *file, int line)
{
    uint32_t parent = must_find(u, f[3], reform_first_new_day(), file, line);

    (void)nf;
    add_unit(u, f[0], f[1], f[4], NULL, parse_type(f[2], file, line), UNIT_COMMUNE, (int32_t)parent,
             reform_first_new_day(), DATE_MAX);
}

static void add_edge(struct units *u, uint32_t from, uint32_t to, const char *kind,
                     const char *file, int line)
{
    struct units_edge *e;

    if (u->nedges == u->aedges) {
        u->aedges = u->aedges ? u->aedges * 2 : 16384;
        u->succ = xrealloc(u->succ, sizeof(*u->succ) * u->aedges);
    }
    e = &u->succ[u->nedges++];
    e->from = from;
    e->to = to;
    if (strcmp(kind, "full") == 0) {
        e->kind = UNIT_EDGE_FULL;
    } else if (strcmp(kind, "partial") == 0) {
        e->kind = UNIT_EDGE_PARTIAL;
    } else {
        BUG("%s:%d: unknown lineage kind \"%s\"", file, line, kind);
    }
}

/* mapping-provinces-2025.csv: old_province_code,new_province_code,kind,... */
static void row_province_edge(struct units *u, char **f, int nf, const char *file, int line)
{
    (void)nf;
    add_edge(u, must_find(u, f[0], reform_last_old_day(), file, line),
             must_find(u, f[1], reform_first_new_day(), file, line), f[2], file, line);
}

/* mapping-2025.csv: old_code,new_code,kind,old_level,... */
static void row_commune_edge(struct units *u, char **f, int nf, const char *file, int line)
{
    (void)nf;
    add_edge(u, must_find(u, f[0], reform_last_old_day(), file, line),
             must_find(u, f[1], reform_first_new_day(), file, line), f[2], file, line);
}

static int cmp_from(const void *a, const void *b)
{
    const struct units_edge *x = a, *y = b;

    if (x->from != y->from) {
        return x->from < y->from ? -1 : 1;
    }
    return x->to < y->to ? -1 : (x->to > y->to);
}

static int cmp_to(const void *a, const void *b)
{
    const struct units_edge *x = a, *y = b;

    if (x->to != y->to) {
        return x->to < y->to ? -1 : 1;
    }
    return x->from < y->from ? -1 : (x->from > y->from);
}

/* Offsets of each unit's run in an array of n items keyed by key(i). */
static uint32_t *build_offsets(size_t nunits, size_t nitems, const uint32_t *keys)
{
    uint32_t *off = xcalloc(nunits + 1, sizeof(uint32_t));

    for (size_t i = 0; i < nitems; i++) {
        off[keys[i] + 1]++;
    }
    for (size_t i = 0; i < nunits; i++) {
        off[i + 1] += off[i];
    }
    return off;
}

static void build_indexes(struct units *u)
{
    uint32_t *keys = xmalloc(sizeof(uint32_t) * (u->n + u->nedges + 1));
    size_t nchild = 0;

    /* Children: units are added parents first and in code order. */
    for (size_t i = 1; i < u->n; i++) {
        keys[nchild++] = (uint32_t)u->v[i].parent;
    }
    u->child_off = build_offsets(u->n, nchild, keys);
    u->child_ids = xmalloc(sizeof(uint32_t) * (nchild + 1));
    {
        uint32_t *fill = xmalloc(sizeof(uint32_t) * (u->n + 1));

        memcpy(fill, u->child_off, sizeof(uint32_t) * (u->n + 1));
        for (size_t i = 1; i < u->n; i++) {
            u->child_ids[fill[u->v[i].parent]++] = (uint32_t)i;
        }
        free(fill);
    }

    qsort(u->succ, u->nedges, sizeof(*u->succ), cmp_from);
    u->pred = xmalloc(sizeof(*u->pred) * (u->nedges + 1));
    memcpy(u->pred, u->succ, sizeof(*u->succ) * u->nedges);
    qsort(u->pred, u->nedges, sizeof(*u->pred), cmp_to);
    for (size_t i = 0; i < u->nedges; i++) {
        keys[i] = u->succ[i].from;
    }
    u->succ_off = build_offsets(u->n, u->nedges, keys);
    for (size_t i = 0; i < u->nedges; i++) {
        keys[i] = u->pred[i].to;
    }
    u->pred_off = build_offsets(u->n, u->nedges, keys);
    free(keys);
}

static struct units *builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

struct units *units_load_csv(void)
{
    struct units *u = xcalloc(1, sizeof(*u));

    strmap_init(&u->by_code);
    add_unit(u, "VN", "Việt Nam", "Việt Nam", NULL, UNIT_TYPE_NATION, UNIT_NATION, -1, DATE_MIN,
             DATE_MAX);
    each_row(u, lt_data_old_provinces, lt_data_old_provinces_len, "old-provinces.csv", 4,
             row_old_province);
    each_row(u, lt_data_old_districts, lt_data_old_districts_len, "old-districts.csv", 5,
             row_old_district);
    each_row(u, lt_data_old_communes, lt_data_old_communes_len, "old-communes.csv", 7,
             row_old_commune);
    each_row(u, lt_data_provinces_2025, lt_data_provinces_2025_len, "provinces-2025.csv", 4,
             row_new_province);
    each_row(u, lt_data_communes_2025, lt_data_communes_2025_len, "communes-2025.csv", 5,
             row_new_commune);
    each_row(u, lt_data_mapping_provinces_2025, lt_data_mapping_provinces_2025_len,
             "mapping-provinces-2025.csv", 5, row_province_edge);
    each_row(u, lt_data_mapping_2025, lt_data_mapping_2025_len, "mapping-2025.csv", 10,
             row_commune_edge);
    build_indexes(u);
    return u;
}

/* The strings of the units, each once; a short name that ends its name
 * (as "Ba Đình" ends "Phường Ba Đình") is not stored again. */
struct string_blob {
    char *data;
    size_t len, alloc;
};

static uint32_t blob_add(struct string_blob *b, const char *s)
{
    size_t len = strlen(s) + 1;
    uint32_t at = (uint32_t)b->len;

    while (b->len + len > b->alloc) {
        b->alloc = b->alloc ? b->alloc * 2 : 1u << 20;
        b->data = xrealloc(b->data, b->alloc);
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    return at;
}

static uint32_t blob_suffix(struct string_blob *b, uint32_t whole, const char *s)
{
    size_t wl = strlen(b->data + whole), sl = strlen(s);

    if (sl <= wl && strcmp(b->data + whole + wl - sl, s) == 0) {
        return whole + (uint32_t)(wl - sl);
    }
    return blob_add(b, s);
}

void units_export_tables(const struct units *u, struct units_tables *t)
{
    struct units_row *rows = xcalloc(u->n, sizeof(*rows));
    struct string_blob b = { NULL, 0, 0 };

    for (size_t i = 0; i < u->n; i++) {
        const struct unit *unit = &u->v[i];
        struct units_row *r = &rows[i];

        memcpy(r->code, unit->code, sizeof(r->code));
        r->name = blob_add(&b, unit->name);
        r->short_name = blob_suffix(&b, r->name, unit->short_name);
        r->alt_name = unit->alt_name ? blob_add(&b, unit->alt_name) : UNITS_NO_STRING;
        r->fold = blob_suffix(&b, r->short_name, unit->fold);
        r->parent = unit->parent;
        r->valid_from = unit->valid_from;
        r->valid_to = unit->valid_to;
        r->type = (uint8_t)unit->type;
        r->level = (uint8_t)unit->level;
    }
    memset(t, 0, sizeof(*t));
    t->n = (uint32_t)u->n;
    t->nedges = (uint32_t)u->nedges;
    t->rows = rows;
    t->strings = b.data;
    t->strings_len = b.len;
    t->child_off = u->child_off;
    t->child_ids = u->child_ids;
    t->succ = u->succ;
    t->pred = u->pred;
    t->succ_off = u->succ_off;
    t->pred_off = u->pred_off;
    t->code_entries = u->by_code.entries;
    t->ncode_entries = u->by_code.nentries;
    t->code_buckets = u->by_code.buckets;
    t->ncode_buckets = u->by_code.nbuckets;
    t->code_arena = u->by_code.arena;
    t->code_arena_len = u->by_code.arena_len;
}

void units_tables_release(struct units_tables *t)
{
    free((void *)t->rows);
    free((void *)t->strings);
    memset(t, 0, sizeof(*t));
}

void units_free(struct units *u)
{
    if (u == NULL) {
        return;
    }
    free(u->v);
    for (size_t i = 0; i < u->nchunks; i++) {
        free(u->chunks[i]);
    }
    free(u->chunks);
    strmap_release(&u->by_code);
    free(u->child_off);
    free(u->child_ids);
    free(u->succ);
    free(u->pred);
    free(u->succ_off);
    free(u->pred_off);
    free(u);
}

#ifndef LT_NO_TABLES
/*
 * The register over the tables written at build time.  They are constant
 * and never freed; the casts below only let struct units hold them, and
 * nothing writes through those pointers once a register is built.
 */
static struct units *units_from_tables(const struct units_tables *t)
{
    struct units *u = xcalloc(1, sizeof(*u));

    u->v = xmalloc(sizeof(*u->v) * t->n);
    u->n = u->alloc = t->n;
    for (uint32_t i = 0; i < t->n; i++) {
        const struct units_row *r = &t->rows[i];
        struct unit *unit = &u->v[i];

        unit->id = i;
        memcpy(unit->code, r->code, sizeof(unit->code));
        unit->name = t->strings + r->name;
        unit->short_name = t->strings + r->short_name;
        unit->alt_name = r->alt_name == UNITS_NO_STRING ? NULL : t->strings + r->alt_name;
        unit->fold = t->strings + r->fold;
        unit->type = (enum unit_type)r->type;
        unit->level = (enum unit_level)r->level;
        unit->parent = r->parent;
        unit->valid_from = r->valid_from;
        unit->valid_to = r->valid_to;
    }
    u->child_off = (uint32_t *)t->child_off;
    u->child_ids = (uint32_t *)t->child_ids;
    u->succ = (struct units_edge *)t->succ;
    u->pred = (struct units_edge *)t->pred;
    u->nedges = u->aedges = t->nedges;
    u->succ_off = (uint32_t *)t->succ_off;
    u->pred_off = (uint32_t *)t->pred_off;
    u->by_code.entries = (struct strmap_entry *)t->code_entries;
    u->by_code.nentries = u->by_code.aentries = t->ncode_entries;
    u->by_code.buckets = (uint32_t *)t->code_buckets;
    u->by_code.nbuckets = t->ncode_buckets;
    u->by_code.arena = (char *)t->code_arena;
    u->by_code.arena_len = u->by_code.arena_alloc = t->code_arena_len;
    return u;
}
#endif

static void load_builtin(void)
{
#ifdef LT_NO_TABLES
    builtin = units_load_csv();
#else
    builtin = units_from_tables(&units_builtin_tables);
#endif
}

const struct units *units_builtin(void)
{
    pthread_once(&builtin_once, load_builtin);
    return builtin;
}

size_t units_count(const struct units *u)
{
    return u->n;
}

const struct unit *units_at(const struct units *u, uint32_t id)
{
    return id < u->n ? &u->v[id] : NULL;
}

const struct unit *units_nation(const struct units *u)
{
    return &u->v[0];
}

bool unit_valid_on(const struct unit *unit, int32_t date)
{
    return unit->valid_from <= date && date <= unit->valid_to;
}

const struct unit *units_find(const struct units *u, const char *code, int32_t date)
{
    size_t len = strlen(code);

    for (uint32_t e = strmap_first(&u->by_code, code, len); e != STRMAP_END;
         e = strmap_next(&u->by_code, e)) {
        const struct unit *unit = &u->v[strmap_value(&u->by_code, e)];

        if (unit_valid_on(unit, date)) {
            return unit;
        }
    }
    return NULL;
}

const struct unit *units_find_default(const struct units *u, const char *code)
{
    const struct unit *all[8];
    size_t n = units_find_all(u, code, all, 8);
    const struct unit *best = NULL;
    int32_t today = date_today();

    for (size_t i = 0; i < n && i < 8; i++) {
        if (unit_valid_on(all[i], today)) {
            return all[i];
        }
        if (best == NULL || all[i]->valid_to > best->valid_to) {
            best = all[i];
        }
    }
    return best;
}

size_t units_find_all(const struct units *u, const char *code, const struct unit **out, size_t max)
{
    size_t n = 0;
    size_t len = strlen(code);

    for (uint32_t e = strmap_first(&u->by_code, code, len); e != STRMAP_END;
         e = strmap_next(&u->by_code, e)) {
        if (n < max) {
            out[n] = &u->v[strmap_value(&u->by_code, e)];
        }
        n++;
    }
    return n;
}

const struct unit *unit_parent(const struct units *u, const struct unit *unit)
{
    return unit->parent < 0 ? NULL : &u->v[unit->parent];
}

const struct unit *unit_province(const struct units *u, const struct unit *unit)
{
    while (unit != NULL && unit->level > UNIT_PROVINCE) {
        unit = unit_parent(u, unit);
    }
    return unit != NULL && unit->level == UNIT_PROVINCE ? unit : NULL;
}

bool units_code_within(const struct units *u, const char *inner, const char *outer)
{
    const struct unit *in, *out, *prov;

    if (inner == NULL || outer == NULL || inner[0] == '\0' || outer[0] == '\0') {
        return false;
    }
    in = units_find_default(u, inner);
    out = units_find_default(u, outer);
    if (in == NULL || out == NULL) {
        return false;
    }
    if (in == out || out->level == UNIT_NATION) {
        return true;
    }
    if (out->level != UNIT_PROVINCE || in->level != UNIT_COMMUNE) {
        return false;
    }
    prov = unit_province(u, in);
    if (prov == NULL) {
        return false;
    }
    if (prov == out) {
        return true;
    }
    /* A commune of before the reform lies in the province that took its
     * province over (Hà Nội 01 kept its code; Hà Giang 02 went into
     * Tuyên Quang 08). */
    if (prov->valid_to != DATE_MAX) {
        struct unit_link links[8];
        size_t n = units_successors(u, prov, links, 8);

        for (size_t i = 0; i < n && i < 8; i++) {
            if (links[i].unit == out) {
                return true;
            }
        }
    }
    return false;
}

size_t units_children(const struct units *u, const struct unit *unit, int32_t date,
                      const struct unit **out, size_t max)
{
    size_t n = 0;

    for (uint32_t i = u->child_off[unit->id]; i < u->child_off[unit->id + 1]; i++) {
        const struct unit *c = &u->v[u->child_ids[i]];

        if (date != DATE_MIN && !unit_valid_on(c, date)) {
            continue;
        }
        if (n < max) {
            out[n] = c;
        }
        n++;
    }
    return n;
}

/*
 * Breadth-first walk of the lineage graph from unit, in one direction.
 * A unit reached twice keeps its first (nearest) depth; its kind becomes
 * full if any path to it is full all the way.
 */
static size_t walk(const struct units *u, const struct unit *start, bool forward,
                   struct unit_link *out, size_t max, bool direct_only)
{
    uint32_t queue[256];
    enum unit_edge_kind qkind[256];
    int qdepth[256];
    size_t head = 0, tail = 0, n = 0;

    queue[tail] = start->id;
    qkind[tail] = UNIT_EDGE_FULL;
    qdepth[tail++] = 0;
    while (head < tail) {
        uint32_t id = queue[head];
        enum unit_edge_kind kind = qkind[head];
        int depth = qdepth[head++];
        const uint32_t *off = forward ? u->succ_off : u->pred_off;
        const struct units_edge *edges = forward ? u->succ : u->pred;

        if (direct_only && depth == 1) {
            break;
        }
        for (uint32_t i = off[id]; i < off[id + 1]; i++) {
            uint32_t next = forward ? edges[i].to : edges[i].from;
            enum unit_edge_kind k = kind == UNIT_EDGE_PARTIAL ? kind : edges[i].kind;
            size_t seen;

            for (seen = 0; seen < tail; seen++) {
                if (queue[seen] == next) {
                    break;
                }
            }
            if (seen < tail) {
                if (k == UNIT_EDGE_FULL && seen > 0 && seen - 1 < max) {
                    out[seen - 1].kind = UNIT_EDGE_FULL;
                }
                continue;
            }
            if (tail == sizeof(queue) / sizeof(queue[0])) {
                continue; /* XXX: lineage deeper than 255 units is cut short */
            }
            queue[tail] = next;
            qkind[tail] = k;
            qdepth[tail++] = depth + 1;
            if (n < max) {
                out[n].unit = &u->v[next];
                out[n].kind = k;
                out[n].depth = depth + 1;
            }
            n++;
        }
    }
    return n;
}

size_t units_successors(const struct units *u, const struct unit *unit, struct unit_link *out,
                        size_t max)
{
    return walk(u, unit, true, out, max, false);
}

size_t units_predecessors(const struct units *u, const struct unit *unit, struct unit_link *out,
                          size_t max)
{
    return walk(u, unit, false, out, max, false);
}

size_t units_direct_successors(const struct units *u, const struct unit *unit,
                               struct unit_link *out, size_t max)
{
    size_t n = 0;

    for (uint32_t i = u->succ_off[unit->id]; i < u->succ_off[unit->id + 1]; i++) {
        if (n < max) {
            out[n].unit = &u->v[u->succ[i].to];
            out[n].kind = u->succ[i].kind;
            out[n].depth = 1;
        }
        n++;
    }
    return n;
}

/* Prefix words, longest first so that "thi tran" wins over "thi". */
static const struct prefix {
    const char *word;
    bool abbrev; /* an abbreviation: needs ".", " " or a digit after it */
    unsigned levels;
    unsigned types;
} prefixes[] = {
#define L(x) (1u << UNIT_##x)
#define T(x) (1u << UNIT_TYPE_##x)
    { "thanh pho", false, L(PROVINCE) | L(DISTRICT), T(MUNICIPALITY) | T(PROVINCIAL_CITY) },
    { "thi tran", false, L(COMMUNE), T(TOWNSHIP) },
    { "dac khu", false, L(COMMUNE), T(SPECIAL_ZONE) },
    { "phuong", false, L(COMMUNE), T(WARD) },
    { "thi xa", false, L(DISTRICT), T(TOWN) },
    { "huyen", false, L(DISTRICT), T(RURAL_DISTRICT) },
    { "quan", false, L(DISTRICT), T(URBAN_DISTRICT) },
    { "tinh", false, L(PROVINCE), T(PROVINCE) },
    { "xa", false, L(COMMUNE), T(COMMUNE) },
    { "tp", true, L(PROVINCE) | L(DISTRICT), T(MUNICIPALITY) | T(PROVINCIAL_CITY) },
    { "tt", true, L(COMMUNE), T(TOWNSHIP) },
    { "tx", true, L(DISTRICT), T(TOWN) },
    { "dk", true, L(COMMUNE), T(SPECIAL_ZONE) },
    { "ph", true, L(COMMUNE), T(WARD) },
    { "p", true, L(COMMUNE), T(WARD) },
    { "f", true, L(COMMUNE), T(WARD) },
    { "q", true, L(DISTRICT), T(URBAN_DISTRICT) },
    { "h", true, L(DISTRICT), T(RURAL_DISTRICT) },
    { "x", true, L(COMMUNE), T(COMMUNE) },
    { "t", true, L(PROVINCE), T(PROVINCE) },
#undef L
#undef T
};

bool units_parse_prefix(const char *fold, size_t fold_len, size_t *len, unsigned *level_mask,
                        unsigned *type_mask)
{
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        const struct prefix *p = &prefixes[i];
        size_t wl = strlen(p->word);
        size_t at;
        char next;

        if (fold_len <= wl || memcmp(fold, p->word, wl) != 0) {
            continue;
        }
        next = fold[wl];
        if (next == '.') {
            at = wl + 1;
        } else if (next == ' ') {
            at = wl;
        } else if (next >= '0' && next <= '9') {
            /* "q1", "p12": numbered units written run together. */
            at = wl;
        } else {
            continue;
        }
        /* A one-letter "t" or "f" must carry its dot: "t hà" is no prefix. */
        if (p->abbrev && wl == 1 && (p->word[0] == 't' || p->word[0] == 'f') && next != '.' &&
            !(next >= '0' && next <= '9' && p->word[0] == 'f')) {
            continue;
        }
        while (at < fold_len && (fold[at] == ' ' || fold[at] == '.')) {
            at++;
        }
        if (at == fold_len) {
            continue; /* a prefix with no name after it */
        }
        *len = at;
        *level_mask = p->levels;
        *type_mask = p->types;
        return true;
    }
    return false;
}

struct match {
    int rank;
    const struct unit *unit;
};

static int cmp_match(const void *a, const void *b)
{
    const struct match *x = a, *y = b;

    if (x->rank != y->rank) {
        return x->rank - y->rank;
    }
    /* Units in force today before historical ones, then by level, then code. */
    if ((x->unit->valid_to == DATE_MAX) != (y->unit->valid_to == DATE_MAX)) {
        return x->unit->valid_to == DATE_MAX ? -1 : 1;
    }
    if (x->unit->level != y->unit->level) {
        return (int)x->unit->level - (int)y->unit->level;
    }
    return strcmp(x->unit->code, y->unit->code);
}

/* How well a folded name matches folded query text: 0 exact, 1 prefix, 2 inside. */
static int name_rank(const char *name, const char *q, size_t qlen)
{
    const char *hit;

    if (strncmp(name, q, qlen) == 0) {
        return name[qlen] == '\0' ? 0 : 1;
    }
    hit = strstr(name, q);
    return hit != NULL ? 2 : -1;
}

size_t units_search(const struct units *u, const char *query, int32_t date, const struct unit **out,
                    size_t max)
{
    char q[FOLD_MAX];
    size_t qlen = utf8_fold_words(query, strlen(query), q, sizeof(q));
    size_t plen = 0;
    unsigned levels = 0, types = 0;
    bool has_prefix;
    struct match *matches;
    size_t n = 0;

    if (qlen == 0) {
        return 0;
    }
    has_prefix = units_parse_prefix(q, qlen, &plen, &levels, &types);
    matches = xmalloc(sizeof(*matches) * u->n);
    for (size_t i = 0; i < u->n; i++) {
        const struct unit *unit = &u->v[i];
        int rank = -1;

        if (date != DATE_MIN && !unit_valid_on(unit, date)) {
            continue;
        }
        /* "P. Ba Đình": the prefix names the type, the rest the name.  But
         * "Quan Sơn" is a name, though it starts like "quận": try both
         * readings and keep the better, exact before partial. */
        if (has_prefix && (types & (1u << unit->type))) {
            int r = name_rank(unit->fold, q + plen, qlen - plen);
            if (r >= 0) {
                rank = 2 * r;
            }
        }
        {
            int r = name_rank(unit->fold, q, qlen);
            if (r >= 0 && (rank < 0 || 2 * r + 1 < rank)) {
                rank = 2 * r + 1;
            }
        }
        if (rank < 0 && unit->alt_name != NULL) {
            char alt[FOLD_MAX];
            int r;

            utf8_fold_words(unit->alt_name, strlen(unit->alt_name), alt, sizeof(alt));
            r = name_rank(alt, q, qlen);
            if (r >= 0) {
                rank = 6 + r;
            }
        }
        if (rank >= 0) {
            matches[n].rank = rank;
            matches[n].unit = unit;
            n++;
        }
    }
    qsort(matches, n, sizeof(*matches), cmp_match);
    for (size_t i = 0; i < n && i < max; i++) {
        out[i] = matches[i].unit;
    }
    free(matches);
    return n;
}

const char *unit_level_name(enum unit_level level)
{
    return level_names[level];
}

const char *unit_type_name(enum unit_type type)
{
    return type_names[type];
}

const char *unit_edge_kind_name(enum unit_edge_kind kind)
{
    return kind == UNIT_EDGE_FULL ? "full" : "partial";
}

#define EXPLAIN_MAX 8 /* units of one code, and successors, an explanation names */

void units_explain_missing(const struct units *u, const char *code, struct lt_error *err)
{
    const struct unit *all[EXPLAIN_MAX];
    struct unit_link succ[EXPLAIN_MAX];
    const struct unit *last;
    char to[DATE_STR_MAX], list[LT_ERROR_HINT_MAX] = "";
    size_t n = units_find_all(u, code, all, EXPLAIN_MAX), ns, used = 0;

    if (n == 0) {
        lt_error_set(err, LT_ENOTFOUND, "no unit has the code \"%s\"", code);
        lt_error_hint(err, "find the code by name: lienthong units search \"<name>\"");
        return;
    }
    last = all[(n < EXPLAIN_MAX ? n : EXPLAIN_MAX) - 1];
    date_format(last->valid_to, to);
    lt_error_set(err, LT_ENOTFOUND, "unit \"%s\" (%s) is no longer in force", code, last->name);
    lt_error_detail(err, "it ended on %s; only units that exist today are accepted", to);
    ns = units_successors(u, last, succ, EXPLAIN_MAX);
    for (size_t i = 0; i < ns && i < EXPLAIN_MAX; i++) {
        if (!unit_valid_on(succ[i].unit, date_today())) {
            continue;
        }
        int w = snprintf(list + used, sizeof(list) - used, "%s%s %s (%s)", used ? ", " : "",
                         succ[i].unit->code, succ[i].unit->name, unit_edge_kind_name(succ[i].kind));
        if (w < 0 || (size_t)w >= sizeof(list) - used) {
            break;
        }
        used += (size_t)w;
    }
    if (used > 0) {
        lt_error_hint(err, "it was taken over by: %s", list);
    } else {
        lt_error_hint(err, "find today's unit by name: lienthong units search \"%s\"",
                      last->short_name);
    }
}
