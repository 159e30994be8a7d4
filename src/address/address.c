/*
 * address.c - recognising the units of an address line and converting them.
 *
 * Design.  An address names its units from the smallest to the largest, so
 * the converter reads the line from its end: the province last, the district
 * before it, the commune before that; what is left in front is the street
 * part, returned as written.  The line is cut into folded words
 * (address_scan.c) and names are looked up as folded word sequences.
 *
 * Every way of reading the tail of the line (which words name the province,
 * the district and the commune, and which units they name) is scored, and the
 * best reading wins.  A reading earns points for each level it recognises,
 * the commune most; it loses some when a name starts inside a comma-separated
 * part without a type prefix (usually a street name that happens to be a
 * ward's), when a prefix names another type, or when a part has to be skipped
 * (a district that no longer exists, like "Quận 2").  Readings tied at the top
 * that lead to different communes make the answer ambiguous: the converter
 * never picks one of them silently.
 *
 * Lookups go through one hash multimap built by address_converter_new, keyed
 * by a kind byte, the id of the enclosing unit and the folded name: "old
 * commune of district #12 named 'truc bach'".  A conversion allocates nothing
 * and touches a few dozen hash buckets.  The converter is read-only once
 * built, so threads share it freely.
 */
#include "address/address.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "address/address_index.h"
#include "address/address_scan.h"
#include "address/address_tables.h"
#include "address/address_suggest.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/utf8.h"
#include "core/banned.h"

#define NAME_TOKENS_MAX   7 /* words of the longest name or shorthand, and then some */
#define KEY_MAX           192
#define SPAN_UNITS_MAX    ADDRESS_MAX_CANDIDATES
#define SPANS_MAX         24
#define PROV_OLDS_MAX     6
#define TIES_MAX          8
#define SUCC_MAX          8
#define SCOPES_MAX        8
#define OLD_PROVINCES_MAX 128

/* The first byte of every index key: what the key names, inside what. */
enum key_kind {
    KEY_PROVINCE = 'P',        /* a province, old or new, by name or shorthand */
    KEY_DISTRICT = 'D',        /* an old district in an old province */
    KEY_DISTRICT_ANY = 'd',    /* an old district anywhere */
    KEY_OLD_IN_DISTRICT = 'C', /* an old commune in an old district */
    KEY_OLD_IN_PROVINCE = 'c', /* an old commune in an old province: read from 'g' */
    KEY_OLD_ANY = 'g',         /* an old commune anywhere */
    KEY_NEW_IN_PROVINCE = 'N', /* today's commune in today's province */
    KEY_NEW_ANY = 'n',         /* today's commune anywhere */
};

/* How a reading of the line scores; see the design note above. */
enum {
    SCORE_COMMUNE = 1000,
    SCORE_DISTRICT = 100,
    SCORE_PROVINCE = 100,
    SCORE_TODAY = 1,         /* today's units win a tie with old ones */
    SCORE_SKIP = -40,        /* a part between commune and province ignored */
    SCORE_INDIRECT = -20,    /* the province is written in its other period */
    SCORE_MISMATCH = -30,    /* the prefix names another type */
    SCORE_ADRIFT = -100,     /* a name starts inside a part, with no prefix: worth nothing */
    SCORE_LOOSE_PREFIX = -2, /* words before the prefix, in the same part */
    SCORE_NO_PARTS = -5,     /* no commas and no prefix to say where a name starts */
    SCORE_TWIN = -1000,      /* a bare commune name that is also a district's: "Hoàn Kiếm" */
    SCORE_REJECT = -1000000,
};

/*
 * Shorthands people write for provinces, with the name they stand for.
 * XXX: other names run together ("Sapa", "Thanhxuan") are not recognised.
 */
static const struct alias {
    const char *alias;
    const char *name;
} province_aliases[] = {
    { "hcm", "ho chi minh" },
    { "tphcm", "ho chi minh" },
    { "hcmc", "ho chi minh" },
    { "hochiminh", "ho chi minh" },
    { "sai gon", "ho chi minh" },
    { "saigon", "ho chi minh" },
    { "sg", "ho chi minh" },
    { "hn", "ha noi" },
    { "hanoi", "ha noi" },
    { "tphn", "ha noi" },
    { "dn", "da nang" },
    { "danang", "da nang" },
    { "hp", "hai phong" },
    { "haiphong", "hai phong" },
    { "cantho", "can tho" },
    { "brvt", "ba ria vung tau" },
    { "br vt", "ba ria vung tau" },
    { "vung tau", "ba ria vung tau" },
    { "thua thien hue", "hue" },
    { "tt hue", "hue" },
    { "tth", "hue" },
    { "daklak", "dak lak" },
    { "dac lac", "dak lak" },
    { "daknong", "dak nong" },
    { "bac can", "bac kan" },
    { "kontum", "kon tum" },
};

/* What a folded name can be, in struct address_converter.names. */
enum name_bit {
    NAME_PROVINCE = 1,
    NAME_DISTRICT = 2,
    NAME_OLD_COMMUNE = 4,
    NAME_NEW_COMMUNE = 8,
    NAME_KNOWN = 0x80, /* in struct search.names: looked up */
};

struct address_converter {
    const struct units *u;
    struct address_index index;     /* kind, scope and folded name -> unit ids */
    struct address_index names;     /* folded name -> enum name_bit, one value per bit */
    struct address_suggester *sugg; /* closest names, for what is not found */
    const struct unit *oldp[OLD_PROVINCES_MAX];      /* the 63 old provinces */
    const struct unit *oldp_next[OLD_PROVINCES_MAX]; /* the province each went into */
    size_t noldp;
};

/* Words [s, e) of the line that name units; s == e (n == 0) for none. */
struct span {
    int s, e;      /* with the prefix */
    int name_s;    /* the name, without it */
    bool prefix;   /* a type prefix was written */
    bool mismatch; /* ... and it names another type */
    bool indirect; /* found in the province's other period */
    bool more;     /* more units matched than units[] holds */
    bool twin;     /* a bare name that also names a district in scope */
    int n;
    const struct unit *units[SPAN_UNITS_MAX];
};

struct prov_reading {
    struct span sp;
    const struct unit *newp; /* today's province, or NULL */
    bool new_direct;         /* the text names it, rather than an old one */
    int nolds;
    const struct unit *olds[PROV_OLDS_MAX];
    bool old_indirect[PROV_OLDS_MAX]; /* merged into newp, not named */
};

struct scope {
    char kind;
    uint32_t id;
    bool indirect;
};

struct reading {
    const struct prov_reading *prov; /* NULL: no province recognised */
    struct span dist;
    struct span comm;
    bool skip;  /* the part before the province was passed over */
    bool today; /* comm holds today's communes */
    int score;
};

struct search {
    const struct address_converter *c;
    const struct address_scan *sc;
    int end; /* words after it (country, postal code) are not units */
    /* What the words [s, s + len) can name, looked up once per line. */
    uint8_t names[2 * SCAN_TOKENS_MAX][NAME_TOKENS_MAX + 1];
    struct prov_reading prov[SPANS_MAX]; /* readings point here */
    struct reading best[TIES_MAX];
    int nbest;
    int best_score;
};

struct answer {
    struct address_candidate cand[ADDRESS_MAX_CANDIDATES];
    size_t n;
    bool more;
};

static bool is_today(const struct unit *unit)
{
    return unit->valid_to == DATE_MAX;
}

/* The alt_name without its type prefix ("Xã Can Hồ" -> "Can Hồ"), or NULL. */
static const char *alt_short(const struct unit *unit)
{
    size_t plen;

    if (unit->alt_name == NULL) {
        return NULL;
    }
    plen = strlen(unit->name) - strlen(unit->short_name);
    if (strlen(unit->alt_name) <= plen || strncmp(unit->alt_name, unit->name, plen) != 0) {
        return unit->alt_name;
    }
    return unit->alt_name + plen;
}

static size_t make_key(char *out, char kind, uint32_t scope, const char *text, size_t tlen)
{
    out[0] = kind;
    out[1] = (char)(scope & 0xff);
    out[2] = (char)((scope >> 8) & 0xff);
    out[3] = (char)((scope >> 16) & 0xff);
    out[4] = (char)((scope >> 24) & 0xff);
    memcpy(out + 5, text, tlen);
    return tlen + 5;
}

static unsigned kind_bit(char kind)
{
    switch (kind) {
    case KEY_PROVINCE:
        return NAME_PROVINCE;
    case KEY_DISTRICT:
    case KEY_DISTRICT_ANY:
        return NAME_DISTRICT;
    case KEY_NEW_IN_PROVINCE:
    case KEY_NEW_ANY:
        return NAME_NEW_COMMUNE;
    default:
        return NAME_OLD_COMMUNE;
    }
}

/* Index unit id under (kind, scope, text), and the name under what it names. */
static void index_add(struct address_converter *c, char kind, uint32_t scope, const char *text,
                      size_t tlen, uint32_t id)
{
    char key[KEY_MAX + 8];
    size_t kl;

    if (tlen == 0 || tlen > KEY_MAX) {
        BUG("unit #%u has no usable name key", id);
    }
    if (scope == 0) {
        address_index_add(&c->names, text, tlen, kind_bit(kind));
    }
    kl = make_key(key, kind, scope, text, tlen);
    address_index_add(&c->index, key, kl, id);
}

/* The key text of a register name, cut by the same scanner as addresses. */
static size_t name_key(const char *name, char *out, size_t cap)
{
    struct address_scan sc;

    address_scan_line(&sc, name, strlen(name));
    return address_scan_key(&sc, 0, sc.n, out, cap);
}

static void index_commune(struct address_converter *c, const struct unit *unit, const char *text,
                          size_t tlen)
{
    const struct unit *parent = unit_parent(c->u, unit);

    if (is_today(unit)) {
        index_add(c, KEY_NEW_IN_PROVINCE, parent->id, text, tlen, unit->id);
        index_add(c, KEY_NEW_ANY, 0, text, tlen, unit->id);
        return;
    }
    index_add(c, KEY_OLD_IN_DISTRICT, parent->id, text, tlen, unit->id);
    index_add(c, KEY_OLD_ANY, 0, text, tlen, unit->id);
}

static void index_unit(struct address_converter *c, const struct unit *unit)
{
    char text[KEY_MAX];
    size_t tlen = name_key(unit->short_name, text, sizeof(text));
    const char *alt = alt_short(unit);

    switch (unit->level) {
    case UNIT_NATION:
        break;
    case UNIT_PROVINCE:
        index_add(c, KEY_PROVINCE, 0, text, tlen, unit->id);
        break;
    case UNIT_DISTRICT:
        index_add(c, KEY_DISTRICT, (uint32_t)unit->parent, text, tlen, unit->id);
        index_add(c, KEY_DISTRICT_ANY, 0, text, tlen, unit->id);
        break;
    case UNIT_COMMUNE:
        index_commune(c, unit, text, tlen);
        if (alt != NULL) {
            tlen = name_key(alt, text, sizeof(text));
            index_commune(c, unit, text, tlen);
        }
        break;
    }
}

static void index_aliases(struct address_converter *c)
{
    const struct unit *prov[128];
    size_t nprov = units_children(c->u, units_nation(c->u), DATE_MIN, prov, 128);
    char alias[KEY_MAX];

    if (nprov > 128) {
        BUG("%zu provinces", nprov);
    }
    for (size_t a = 0; a < sizeof(province_aliases) / sizeof(province_aliases[0]); a++) {
        size_t al = name_key(province_aliases[a].alias, alias, sizeof(alias));
        bool found = false;

        for (size_t i = 0; i < nprov; i++) {
            if (strcmp(prov[i]->fold, province_aliases[a].name) == 0) {
                index_add(c, KEY_PROVINCE, 0, alias, al, prov[i]->id);
                found = true;
            }
        }
        if (!found) {
            BUG("province shorthand \"%s\" names no province", province_aliases[a].alias);
        }
    }
}

static void index_provinces(struct address_converter *c)
{
    struct unit_link next;

    for (uint32_t i = 0; i < units_count(c->u); i++) {
        const struct unit *unit = units_at(c->u, i);

        if (unit->level != UNIT_PROVINCE || is_today(unit)) {
            continue;
        }
        if (units_direct_successors(c->u, unit, &next, 1) != 1 || c->noldp == OLD_PROVINCES_MAX) {
            BUG("old province %s has no single successor, or too many provinces", unit->code);
        }
        c->oldp[c->noldp] = unit;
        c->oldp_next[c->noldp++] = next.unit;
    }
}

/* ---- lookups ------------------------------------------------------------ */

static void span_add(struct span *sp, const struct unit *unit)
{
    for (int i = 0; i < sp->n; i++) {
        if (sp->units[i] == unit) {
            return;
        }
    }
    if (sp->n == SPAN_UNITS_MAX) {
        sp->more = true;
        return;
    }
    sp->units[sp->n++] = unit;
}

/* Whether an old commune lies in the old province of that id. */
static bool in_province(const struct address_converter *c, const struct unit *unit, uint32_t id)
{
    return (uint32_t)unit_parent(c->u, unit)->parent == id;
}

/* What words [s, e) can name at all (enum name_bit), from the memo. */
static unsigned span_names(struct search *st, int s, int e, const char *text, size_t tlen)
{
    uint8_t *memo = &st->names[s][e - s];
    unsigned bits = 0;
    size_t n;
    const uint32_t *v;

    if (*memo & NAME_KNOWN) {
        return *memo;
    }
    v = address_index_get(&st->c->names, text, tlen, &n);
    for (size_t i = 0; i < n; i++) {
        bits |= v[i];
    }
    *memo = (uint8_t)(bits | NAME_KNOWN);
    return bits;
}

/*
 * The units named by words [s, e) in any of the scopes.  Scopes that are
 * the province's other period are tried only when the direct ones give
 * nothing.
 */
static void collect(struct search *st, const struct scope *scopes, int nscopes, int s, int e,
                    struct span *sp)
{
    const struct address_converter *c = st->c;
    char text[KEY_MAX], key[KEY_MAX + 8];
    size_t tlen = address_scan_key(st->sc, s, e, text, sizeof(text));
    unsigned need = 0;

    memset(sp, 0, offsetof(struct span, units));
    if (tlen == 0) {
        return;
    }
    for (int i = 0; i < nscopes; i++) {
        need |= kind_bit(scopes[i].kind);
    }
    if ((span_names(st, s, e, text, tlen) & need) == 0) {
        return;
    }
    for (int pass = 0; pass < 2 && sp->n == 0; pass++) {
        for (int i = 0; i < nscopes; i++) {
            const uint32_t *v;
            size_t kl, nv;

            if (scopes[i].indirect != (pass == 1)) {
                continue;
            }
            kl = make_key(key, scopes[i].kind, scopes[i].id, text, tlen);
            if (scopes[i].kind == KEY_OLD_IN_PROVINCE) {
                /* Not indexed: the old communes of that name, in this province. */
                kl = make_key(key, KEY_OLD_ANY, 0, text, tlen);
            }
            v = address_index_get(&c->index, key, kl, &nv);
            for (size_t k = 0; k < nv; k++) {
                const struct unit *unit = units_at(c->u, v[k]);

                if (scopes[i].kind != KEY_OLD_IN_PROVINCE || in_province(c, unit, scopes[i].id)) {
                    span_add(sp, unit);
                }
            }
        }
        sp->indirect = pass == 1;
    }
}

/* Keep the units of the prefix's type; none of them: keep all, mark it. */
static void filter_types(struct span *sp, unsigned types)
{
    int k = 0;

    for (int i = 0; i < sp->n; i++) {
        if (types & (1u << sp->units[i]->type)) {
            sp->units[k++] = sp->units[i];
        }
    }
    if (k == 0) {
        sp->mismatch = true;
        return;
    }
    sp->n = k;
}

/* Names that fold alike: keep those spelled as written, if the line has
 * diacritics at all and some name matches them. */
static void filter_spelling(const struct address_scan *sc, struct span *sp)
{
    const struct unit *keep[SPAN_UNITS_MAX];
    int k = 0;

    if (sp->n < 2 || !sc->accents) {
        return;
    }
    /* Old and new Hà Nội, say: one spelling, nothing to choose. */
    for (k = 1; k < sp->n; k++) {
        if (sp->units[k]->alt_name != NULL || sp->units[0]->alt_name != NULL ||
            strcmp(sp->units[k]->short_name, sp->units[0]->short_name) != 0) {
            break;
        }
    }
    if (k == sp->n) {
        return;
    }
    k = 0;
    for (int i = 0; i < sp->n; i++) {
        const struct unit *unit = sp->units[i];
        const char *alt = alt_short(unit);

        if (address_scan_same_spelling(sc, sp->name_s, sp->e, unit->short_name) ||
            (alt != NULL && address_scan_same_spelling(sc, sp->name_s, sp->e, alt))) {
            keep[k++] = unit;
        }
    }
    if (k > 0) {
        memcpy(sp->units, keep, sizeof(keep[0]) * (size_t)k);
        sp->n = k;
    }
}

/*
 * Every name of the given level ending at word e, with and without a type
 * prefix in front, into out[0..max).  A name never crosses a comma.  A
 * bare number ("12") is a unit only after a prefix ("P12", "Phường 12").
 * Provinces end the line: only the longest name counts there, so that
 * "Bà Rịa - Vũng Tàu" is not read as "Vũng Tàu" after a commune "Bà Rịa".
 */
static int find_spans(struct search *st, int e, enum unit_level level, const struct scope *scopes,
                      int nscopes, struct span *out, int max)
{
    const struct address_scan *sc = st->sc;
    int n = 0;
    int part;
    int floor;

    if (e <= 0) {
        return 0;
    }
    part = address_scan_part_start(sc, e - 1);
    floor = e - NAME_TOKENS_MAX > part ? e - NAME_TOKENS_MAX : part;
    for (int s = e - 1; s >= floor && n + 2 <= max; s--) {
        struct span sp;
        struct address_prefix ph;
        bool number = e - s == 1 && (sc->tok[s].numeric || sc->tok[s].roman != 0);

        collect(st, scopes, nscopes, s, e, &sp);
        if (sp.n == 0) {
            continue;
        }
        sp.s = sp.name_s = s;
        sp.e = e;
        ph = address_scan_prefix(sc, s, part);
        if (ph.ntok > 0 && (ph.levels & (1u << level))) {
            out[n] = sp;
            out[n].s = s - ph.ntok;
            out[n].prefix = true;
            filter_types(&out[n], ph.types);
            filter_spelling(sc, &out[n]);
            n++;
        }
        if (!number) {
            out[n] = sp;
            filter_spelling(sc, &out[n]);
            n++;
        }
    }
    if (level == UNIT_PROVINCE && n > 0) {
        int longest = out[n - 1].name_s;
        int k = 0;

        for (int i = 0; i < n; i++) {
            if (out[i].name_s == longest) {
                out[k++] = out[i];
            }
        }
        n = k;
    }
    return n;
}

static void prov_add_old(struct prov_reading *pr, const struct unit *old, bool indirect)
{
    for (int i = 0; i < pr->nolds; i++) {
        if (pr->olds[i] == old) {
            return;
        }
    }
    if (pr->nolds < PROV_OLDS_MAX) {
        pr->old_indirect[pr->nolds] = indirect;
        pr->olds[pr->nolds++] = old;
    }
}

/*
 * What a province name stands for in both periods: "Hà Giang" is an old
 * province that went into today's Tuyên Quang; "Tuyên Quang" is today's
 * province and the old one of that name, and also takes in Hà Giang.
 */
static void prov_reading_init(const struct address_converter *c, const struct span *sp,
                              struct prov_reading *pr)
{
    memset(pr, 0, sizeof(*pr));
    pr->sp = *sp;
    for (int i = 0; i < sp->n; i++) {
        /* XXX: a name of two of today's provinces would keep the first; none is. */
        if (is_today(sp->units[i])) {
            if (pr->newp == NULL) {
                pr->newp = sp->units[i];
                pr->new_direct = true;
            }
        } else {
            prov_add_old(pr, sp->units[i], false);
        }
    }
    for (size_t i = 0; i < c->noldp && pr->newp == NULL; i++) {
        if (pr->nolds > 0 && c->oldp[i] == pr->olds[0]) {
            pr->newp = c->oldp_next[i];
        }
    }
    for (size_t i = 0; i < c->noldp; i++) {
        if (c->oldp_next[i] == pr->newp) {
            prov_add_old(pr, c->oldp[i], true);
        }
    }
}

/* ---- scoring ------------------------------------------------------------ */

static int alignment(const struct address_scan *sc, const struct span *sp, bool lowest)
{
    if (sc->tok[sp->s].part_start) {
        return 0;
    }
    if (!lowest) {
        return sp->prefix || !sc->parts ? 0 : SCORE_ADRIFT;
    }
    if (sp->prefix) {
        return SCORE_LOOSE_PREFIX;
    }
    /* With commas to go by, a bare name in the middle of a part is a
     * street, not a unit: "12 Trần Hưng Đạo, Hoàn Kiếm". */
    if (sc->parts) {
        return SCORE_REJECT;
    }
    return sp->s == 0 ? 0 : SCORE_NO_PARTS;
}

static int score_reading(const struct address_scan *sc, const struct reading *r)
{
    const struct span *levels[3] = { &r->comm, &r->dist, r->prov ? &r->prov->sp : NULL };
    static const int points[3] = { SCORE_COMMUNE, SCORE_DISTRICT, SCORE_PROVINCE };
    int score = 0;
    bool lowest = true;

    for (int i = 0; i < 3; i++) {
        const struct span *sp = levels[i];

        if (sp == NULL || sp->n == 0) {
            continue;
        }
        score += points[i];
        score += sp->mismatch ? SCORE_MISMATCH : 0;
        score += sp->indirect ? SCORE_INDIRECT : 0;
        score += sp->twin ? SCORE_TWIN : 0;
        score += alignment(sc, sp, lowest);
        lowest = false;
    }
    score += r->skip ? SCORE_SKIP : 0;
    score += r->today ? SCORE_TODAY : 0;
    return score;
}

static void consider(struct search *st, const struct prov_reading *pr, const struct span *dist,
                     const struct span *comm, bool skip, bool today)
{
    struct reading *r;
    struct reading tmp;

    tmp.prov = pr;
    tmp.dist = *dist;
    tmp.comm = *comm;
    tmp.skip = skip;
    tmp.today = today;
    tmp.score = score_reading(st->sc, &tmp);
    if (tmp.score < SCORE_REJECT / 2 || (pr == NULL && dist->n == 0 && comm->n == 0)) {
        return;
    }
    if (st->nbest > 0 && tmp.score < st->best_score) {
        return;
    }
    if (st->nbest == 0 || tmp.score > st->best_score) {
        st->nbest = 0;
        st->best_score = tmp.score;
    }
    if (st->nbest == TIES_MAX) {
        return;
    }
    r = &st->best[st->nbest++];
    *r = tmp;
}

/* ---- the search over readings ------------------------------------------ */

/*
 * The search is depth first, province then district then commune, and skips
 * a branch whose readings cannot reach the best score found so far (ties
 * still count, they make answers ambiguous).  What a span adds to a score,
 * taken as a higher span, bounds what it adds as the lowest one.
 */
static int span_bound(const struct address_scan *sc, const struct span *sp, int points)
{
    return points + (sp->mismatch ? SCORE_MISMATCH : 0) + (sp->indirect ? SCORE_INDIRECT : 0) +
           alignment(sc, sp, false);
}

static bool worth(const struct search *st, int bound)
{
    return st->nbest == 0 || bound >= st->best_score;
}

/* The scopes districts are looked up in, for a province reading. */
static int district_scopes(const struct prov_reading *pr, struct scope *scopes)
{
    int n = 0;

    if (pr == NULL) {
        scopes[n++] = (struct scope){ KEY_DISTRICT_ANY, 0, false };
        return n;
    }
    for (int i = 0; i < pr->nolds && n < SCOPES_MAX; i++) {
        scopes[n++] = (struct scope){ KEY_DISTRICT, pr->olds[i]->id, pr->old_indirect[i] };
    }
    return n;
}

static void try_communes(struct search *st, const struct scope *scopes, int nscopes,
                         const struct prov_reading *pr, const struct span *dist, int ce, bool skip,
                         bool today)
{
    struct span spans[SPANS_MAX];
    int n = find_spans(st, ce, UNIT_COMMUNE, scopes, nscopes, spans, SPANS_MAX);
    struct scope dscopes[SCOPES_MAX] = { { 0 } };
    int nd = dist->n == 0 ? district_scopes(pr, dscopes) : 0;

    for (int i = 0; i < n; i++) {
        /* "Hoàn Kiếm, Hà Nội" names the old district as much as today's
         * ward: without a prefix to tell, read it as the district. */
        if (!spans[i].prefix && nd > 0) {
            struct span d;

            collect(st, dscopes, nd, spans[i].name_s, spans[i].e, &d);
            spans[i].twin = d.n > 0;
        }
        consider(st, pr, dist, &spans[i], skip, today);
    }
}

static void search_communes(struct search *st, const struct prov_reading *pr,
                            const struct span *dist, int ce, bool skip)
{
    struct scope old[SCOPES_MAX], now[1];
    int nold = 0, nnow = 0;
    struct span none;

    if (dist->n > 0) {
        for (int i = 0; i < dist->n && nold < SCOPES_MAX; i++) {
            old[nold++] = (struct scope){ KEY_OLD_IN_DISTRICT, dist->units[i]->id, false };
        }
    } else if (pr != NULL) {
        for (int i = 0; i < pr->nolds && nold < SCOPES_MAX; i++) {
            old[nold++] =
                (struct scope){ KEY_OLD_IN_PROVINCE, pr->olds[i]->id, pr->old_indirect[i] };
        }
        if (pr->newp != NULL) {
            now[nnow++] = (struct scope){ KEY_NEW_IN_PROVINCE, pr->newp->id, !pr->new_direct };
        }
    } else {
        old[nold++] = (struct scope){ KEY_OLD_ANY, 0, false };
        now[nnow++] = (struct scope){ KEY_NEW_ANY, 0, false };
    }
    try_communes(st, old, nold, pr, dist, ce, skip, false);
    if (nnow > 0) {
        try_communes(st, now, nnow, pr, dist, ce, skip, true);
    }
    if (!skip) {
        memset(&none, 0, offsetof(struct span, units));
        none.s = none.e = none.name_s = ce;
        consider(st, pr, dist, &none, false, false);
    }
}

static void search_districts(struct search *st, const struct prov_reading *pr, int base)
{
    const int rest = SCORE_COMMUNE + SCORE_TODAY;
    int pe = pr != NULL ? pr->sp.s : st->end;
    struct scope scopes[SCOPES_MAX] = { { 0 } };
    int nscopes = district_scopes(pr, scopes);
    struct span spans[SPANS_MAX];
    struct span none;
    int n;

    n = find_spans(st, pe, UNIT_DISTRICT, scopes, nscopes, spans, SPANS_MAX);
    for (int i = 0; i < n; i++) {
        if (worth(st, base + span_bound(st->sc, &spans[i], SCORE_DISTRICT) + rest)) {
            search_communes(st, pr, &spans[i], spans[i].s, false);
        }
    }

    memset(&none, 0, offsetof(struct span, units));
    none.s = none.e = none.name_s = pe;
    if (worth(st, base + rest)) {
        search_communes(st, pr, &none, pe, false);
    }

    /* "Phường Thảo Điền, Quận 2, TP HCM": Quận 2 is gone from the register;
     * read the commune in the province, past that part. */
    if (pr != NULL && st->sc->parts && pe > 0 && st->sc->tok[pe].part_start) {
        int g = address_scan_part_start(st->sc, pe - 1);

        if (g > 0 && worth(st, base + rest + SCORE_SKIP)) {
            search_communes(st, pr, &none, g, true);
        }
    }
}

/* XXX: only the smallest-to-largest order is read ("Hà Nội, Ba Đình, Đội Cấn" is not). */
static void search_all(struct search *st)
{
    static const struct scope any = { KEY_PROVINCE, 0, false };
    struct span spans[SPANS_MAX];
    int n = find_spans(st, st->end, UNIT_PROVINCE, &any, 1, spans, SPANS_MAX);

    const int rest = SCORE_DISTRICT + SCORE_COMMUNE + SCORE_TODAY;

    for (int i = 0; i < n; i++) {
        int base = span_bound(st->sc, &spans[i], SCORE_PROVINCE);

        if (worth(st, base + rest)) {
            prov_reading_init(st->c, &spans[i], &st->prov[i]);
            search_districts(st, &st->prov[i], base);
        }
    }
    if (worth(st, rest)) {
        search_districts(st, NULL, 0);
    }
}

/* Words after the last unit that name none: the country, a postal code. */
static int units_end(const struct address_scan *sc)
{
    int end = sc->n;

    while (end > 1) {
        const struct address_token *t = &sc->tok[end - 1];
        const char *f = sc->fold + t->fold;
        size_t bytes = (size_t)(t->end - t->start);

        if ((t->flen == 2 && memcmp(f, "vn", 2) == 0) ||
            (t->flen == 7 && memcmp(f, "vietnam", 7) == 0) ||
            (t->numeric && bytes >= 5 && bytes <= 6)) {
            end--;
        } else if (end > 2 && t->flen == 3 && memcmp(f, "nam", 3) == 0 &&
                   sc->tok[end - 2].flen == 4 &&
                   memcmp(sc->fold + sc->tok[end - 2].fold, "viet", 4) == 0) {
            end -= 2;
        } else {
            break;
        }
    }
    return end;
}

/* ---- answers ------------------------------------------------------------ */

static void answer_add(const struct address_converter *c, struct answer *a,
                       const struct unit *commune, const struct unit *from,
                       enum unit_edge_kind kind)
{
    for (size_t i = 0; i < a->n; i++) {
        if (a->cand[i].commune == commune && a->cand[i].from == from) {
            return;
        }
    }
    if (a->n == ADDRESS_MAX_CANDIDATES) {
        a->more = true;
        return;
    }
    a->cand[a->n].commune = commune;
    a->cand[a->n].province = unit_province(c->u, commune);
    a->cand[a->n].from = from;
    a->cand[a->n].kind = kind;
    a->n++;
}

static void answer_successors(const struct address_converter *c, struct answer *a,
                              const struct unit *old)
{
    struct unit_link links[SUCC_MAX];
    size_t n = units_direct_successors(c->u, old, links, SUCC_MAX);

    for (size_t i = 0; i < n && i < SUCC_MAX; i++) {
        if (links[i].unit->level == UNIT_COMMUNE) {
            answer_add(c, a, links[i].unit, old, links[i].kind);
        }
    }
}

/* Today's communes a reading leads to. */
static void reading_answer(const struct address_converter *c, const struct reading *r,
                           struct answer *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < r->comm.n; i++) {
        if (r->today) {
            answer_add(c, a, r->comm.units[i], NULL, UNIT_EDGE_FULL);
        } else {
            answer_successors(c, a, r->comm.units[i]);
        }
    }
    a->more = a->more || r->comm.more;
    /* The island districts had no communes; each became a special zone. */
    if (r->comm.n == 0 && r->dist.n == 1) {
        answer_successors(c, a, r->dist.units[0]);
    }
}

static bool answer_has(const struct answer *a, const struct unit *commune)
{
    for (size_t i = 0; i < a->n; i++) {
        if (a->cand[i].commune == commune) {
            return true;
        }
    }
    return false;
}

static size_t distinct_communes(const struct answer *a)
{
    size_t n = 0;

    for (size_t i = 0; i < a->n; i++) {
        bool seen = false;

        for (size_t j = 0; j < i && !seen; j++) {
            seen = a->cand[j].commune == a->cand[i].commune;
        }
        n += seen ? 0 : 1;
    }
    return n;
}

static bool same_communes(const struct answer *a, const struct answer *b)
{
    for (size_t i = 0; i < a->n; i++) {
        if (!answer_has(b, a->cand[i].commune)) {
            return false;
        }
    }
    for (size_t i = 0; i < b->n; i++) {
        if (!answer_has(a, b->cand[i].commune)) {
            return false;
        }
    }
    return true;
}

/* The words just before the recognised units, without a type prefix. */
static size_t suggest_query(const struct address_scan *sc, int qe, char *out, size_t cap)
{
    int qs;

    if (qe <= 0) {
        return 0;
    }
    qs = address_scan_part_start(sc, qe - 1);
    for (int k = 2; k >= 1; k--) {
        if (qs + k < qe && address_scan_prefix(sc, qs + k, qs).ntok == k) {
            qs += k;
            break;
        }
    }
    if (qe - qs > NAME_TOKENS_MAX) {
        qs = qe - NAME_TOKENS_MAX;
    }
    return address_scan_key(sc, qs, qe, out, cap);
}

static void suggest(const struct address_converter *c, const struct address_scan *sc,
                    const struct reading *r, int qe, struct address_result *out)
{
    struct address_suggest_scope scopes[SCOPES_MAX + 1];
    size_t n = 0;
    char q[KEY_MAX];
    size_t qlen = suggest_query(sc, qe, q, sizeof(q));

    if (qlen < 2) {
        return;
    }
    if (r != NULL && r->dist.n > 0) {
        for (int i = 0; i < r->dist.n && n < SCOPES_MAX; i++) {
            scopes[n++] = (struct address_suggest_scope){ r->dist.units[i], 1 };
        }
    } else if (r != NULL && r->prov != NULL) {
        for (int i = 0; i < r->prov->nolds && n < SCOPES_MAX; i++) {
            scopes[n++] = (struct address_suggest_scope){ r->prov->olds[i], 2 };
        }
        if (r->prov->newp != NULL) {
            scopes[n++] = (struct address_suggest_scope){ r->prov->newp, 1 };
        }
    }
    out->nsuggestions = address_suggest(c->sugg, q, qlen, scopes, n, out->suggestions);
}

/* ---- the result --------------------------------------------------------- */

static bool is_trim(char ch)
{
    return ch == ' ' || ch == '\t' || ch == ',' || ch == ';' || ch == '-' || ch == '|' ||
           ch == '.' || ch == '/' || ch == '(';
}

static void set_street(const struct address_scan *sc, int low, struct address_result *out)
{
    size_t end = low < sc->n ? sc->tok[low].start : sc->len;

    while (end > 0 && is_trim(sc->text[end - 1])) {
        end--;
    }
    out->street = sc->text;
    out->street_len = end;
}

static int lowest_word(const struct search *st, const struct reading *r)
{
    if (r->comm.n > 0) {
        return r->comm.s;
    }
    if (r->dist.n > 0) {
        return r->dist.s;
    }
    if (r->prov != NULL) {
        return r->prov->sp.s;
    }
    return st->end;
}

/* The one unit all of units[] lie in (parent or province), or NULL. */
static const struct unit *common_parent(const struct units *u, const struct unit *const *units,
                                        int n, bool province)
{
    const struct unit *p = NULL;

    for (int i = 0; i < n; i++) {
        const struct unit *q = province ? unit_province(u, units[i]) : unit_parent(u, units[i]);

        if (p != NULL && q != p) {
            return NULL;
        }
        p = q;
    }
    return p;
}

static void fill_old_units(const struct address_converter *c, const struct reading *r,
                           size_t ncommunes, struct address_result *out)
{
    const struct unit *const *v = r->comm.units;

    if (!r->today && r->comm.n > 0) {
        if (r->comm.n == 1 || ncommunes == 1) {
            out->old_commune = v[0];
        }
        out->old_district = common_parent(c->u, v, r->comm.n, false);
        out->old_province = common_parent(c->u, v, r->comm.n, true);
    } else if (r->dist.n > 0) {
        out->old_district = r->dist.n == 1 ? r->dist.units[0] : NULL;
        out->old_province = common_parent(c->u, r->dist.units, r->dist.n, false);
    }
    if (out->old_province == NULL && r->prov != NULL && r->prov->nolds > 0 &&
        !r->prov->old_indirect[0] && (!r->today || !r->prov->new_direct)) {
        out->old_province = r->prov->olds[0];
    }
}

/* What to write to tell names apart that the text does not. */
static const char *ambiguity_hint(const struct reading *r)
{
    bool one_type = true;

    for (int i = 1; i < r->comm.n; i++) {
        one_type = one_type && r->comm.units[i]->type == r->comm.units[0]->type;
    }
    if (!one_type) {
        return "give the type (xã, phường, thị trấn)";
    }
    if (r->prov == NULL) {
        return "give the province";
    }
    if (r->dist.n > 0 || r->today) {
        return "write the name with its diacritics";
    }
    return "give the district, or the name with its diacritics";
}

static void note_ambiguous(const struct search *st, const struct answer *a, size_t ncommunes,
                           struct address_result *out)
{
    const struct reading *r = &st->best[0];
    const char *more = a->more ? " (only the first ones are listed)" : "";

    if (st->nbest == 1 && r->comm.n == 1 && !r->today) {
        snprintf(out->note, sizeof(out->note), "\"%s\" was split between %zu communes%s",
                 r->comm.units[0]->name, ncommunes, more);
    } else if (st->nbest == 1 && r->comm.n > 1) {
        snprintf(out->note, sizeof(out->note), "the name fits %d%s units; %s%s", r->comm.n,
                 r->comm.more ? "+" : "", ambiguity_hint(r), more);
    } else {
        snprintf(out->note, sizeof(out->note), "the text can be read %d ways%s", st->nbest, more);
    }
}

static void note_found(const struct search *st, const struct reading *r, struct address_result *out)
{
    const struct address_scan *sc = st->sc;

    if (r->skip) {
        int g = address_scan_part_start(sc, r->prov->sp.s - 1);
        size_t from = sc->tok[g].start;
        size_t to = sc->tok[r->prov->sp.s - 1].end;

        snprintf(out->note, sizeof(out->note), "\"%.*s\" ignored: the commune is not there",
                 (int)(to - from), sc->text + from);
    } else if (!r->today && r->comm.n > 1) {
        snprintf(out->note, sizeof(out->note),
                 "%d old communes carry this name; all went to the same commune", r->comm.n);
    }
}

static void note_not_found(const struct reading *r, struct address_result *out)
{
    const struct unit *where = NULL;

    if (r != NULL && r->dist.n == 1) {
        where = r->dist.units[0];
    } else if (r != NULL && r->prov != NULL) {
        where = r->prov->newp != NULL && r->prov->new_direct ? r->prov->newp : r->prov->olds[0];
    }
    if (where != NULL) {
        snprintf(out->note, sizeof(out->note), "no commune of %s recognised", where->name);
    } else {
        snprintf(out->note, sizeof(out->note), "no administrative unit recognised");
    }
}

/* Merge the answers of every reading tied at the top. */
static void tied_answer(const struct address_converter *c, const struct search *st,
                        struct answer *a)
{
    struct answer b;
    bool same = true;

    reading_answer(c, &st->best[0], a);
    for (int i = 1; i < st->nbest && same; i++) {
        reading_answer(c, &st->best[i], &b);
        same = same_communes(a, &b);
    }
    if (same) {
        return;
    }
    for (int i = 1; i < st->nbest; i++) {
        reading_answer(c, &st->best[i], &b);
        for (size_t k = 0; k < b.n; k++) {
            answer_add(c, a, b.cand[k].commune, b.cand[k].from, b.cand[k].kind);
        }
        a->more = a->more || b.more;
    }
}

/* snprintf may have cut the note inside a character: cut it before. */
static void note_end(struct address_result *out)
{
    size_t bad;

    if (!utf8_valid_text(out->note, strlen(out->note), &bad)) {
        out->note[bad] = '\0';
    }
}

static void fill_answer(const struct address_converter *c, const struct search *st,
                        struct address_result *out)
{
    const struct reading *r = st->nbest > 0 ? &st->best[0] : NULL;
    struct answer a;
    size_t ncommunes;

    memset(out, 0, sizeof(*out));
    set_street(st->sc, r != NULL ? lowest_word(st, r) : st->sc->n, out);
    if (r == NULL) {
        out->status = ADDRESS_NOT_FOUND;
        note_not_found(NULL, out);
        suggest(c, st->sc, NULL, st->end, out);
        return;
    }
    tied_answer(c, st, &a);
    ncommunes = distinct_communes(&a);
    fill_old_units(c, r, ncommunes, out);
    if (r->prov != NULL) {
        out->new_province = r->prov->newp;
    }
    if (ncommunes == 0) {
        out->status = ADDRESS_NOT_FOUND;
        note_not_found(r, out);
        suggest(c, st->sc, r, lowest_word(st, r), out);
        return;
    }
    if (ncommunes > 1) {
        out->status = ADDRESS_AMBIGUOUS;
        memcpy(out->candidates, a.cand, sizeof(a.cand[0]) * a.n);
        out->ncandidates = a.n;
        note_ambiguous(st, &a, ncommunes, out);
        return;
    }
    out->status = r->today && !r->comm.indirect ? ADDRESS_UNCHANGED : ADDRESS_CONVERTED;
    out->new_commune = a.cand[0].commune;
    out->new_province = a.cand[0].province;
    out->candidates[0] = a.cand[0];
    out->ncandidates = 1;
    note_found(st, r, out);
}

/* ---- input checks ------------------------------------------------------- */

/* Name the first bad byte of text: a control character or bad UTF-8. */
static void bad_text_error(const char *text, size_t len, size_t bad, struct lt_error *err)
{
    unsigned char b = (unsigned char)text[bad];
    int cp = 0;

    if (b < 0x20 || b == 0x7f) {
        lt_error_set(err, LT_EINVAL, "control character 0x%02x at byte offset %zu", b, bad);
    } else if (utf8_decode(text + bad, len - bad, &cp) > 0) {
        lt_error_set(err, LT_EINVAL, "control character U+%04X at byte offset %zu", (unsigned)cp,
                     bad);
    } else {
        lt_error_set(err, LT_EINVAL, "invalid UTF-8 at byte offset %zu", bad);
    }
    lt_error_hint(err, "addresses are UTF-8 text on one line");
}

static enum lt_code check_input(const char *text, size_t len, struct lt_error *err)
{
    enum lt_code rc = LT_EINVAL;
    size_t bad = 0;

    if (text == NULL || len == 0) {
        lt_error_set(err, rc, "empty address");
        lt_error_hint(err, "give one address per line");
    } else if (len > ADDRESS_MAX_LEN) {
        rc = lt_error_set(err, LT_ETOOBIG, "address too long: %zu bytes", len);
        lt_error_detail(err, "at most %d bytes are accepted; byte offset %d is past the limit",
                        ADDRESS_MAX_LEN, ADDRESS_MAX_LEN);
    } else if (!utf8_valid_text(text, len, &bad)) {
        bad_text_error(text, len, bad, err);
    } else {
        return LT_OK;
    }
    lt_error_field(err, "address");
    return rc;
}

/* ---- public ------------------------------------------------------------- */

void address_export_tables(const struct address_converter *c, struct address_tables *t)
{
    uint32_t *ids = xmalloc(sizeof(uint32_t) * 2 * (c->noldp + 1));

    memset(t, 0, sizeof(*t));
    address_index_export(&c->index, &t->index);
    address_index_export(&c->names, &t->names);
    for (size_t i = 0; i < c->noldp; i++) {
        ids[i] = c->oldp[i]->id;
        ids[c->noldp + i] = c->oldp_next[i]->id;
    }
    t->noldp = (uint32_t)c->noldp;
    t->oldp = ids;
    t->oldp_next = ids + c->noldp;
}

#ifndef LT_NO_TABLES
/* The converter over the built-in register, from the tables written at build time. */
static struct address_converter *converter_from_tables(const struct units *u,
                                                       const struct address_tables *t)
{
    struct address_converter *c = xcalloc(1, sizeof(*c));

    c->u = u;
    address_index_adopt(&c->index, &t->index);
    address_index_adopt(&c->names, &t->names);
    c->sugg = address_suggester_new(u);
    if (t->noldp > OLD_PROVINCES_MAX) {
        BUG("%u old provinces in the tables", t->noldp);
    }
    for (uint32_t i = 0; i < t->noldp; i++) {
        c->oldp[i] = units_at(u, t->oldp[i]);
        c->oldp_next[i] = units_at(u, t->oldp_next[i]);
    }
    c->noldp = t->noldp;
    return c;
}
#endif

struct address_converter *address_converter_new(const struct units *u)
{
#ifndef LT_NO_TABLES
    if (u == units_builtin()) {
        return converter_from_tables(u, &address_builtin_tables);
    }
#endif
    return address_converter_build(u);
}

struct address_converter *address_converter_build(const struct units *u)
{
    struct address_converter *c = xcalloc(1, sizeof(*c));

    c->u = u;
    address_index_init(&c->index);
    address_index_init(&c->names);
    c->sugg = address_suggester_new(u);
    for (uint32_t i = 0; i < units_count(u); i++) {
        index_unit(c, units_at(u, i));
    }
    index_aliases(c);
    index_provinces(c);
    address_index_freeze(&c->index);
    address_index_freeze(&c->names);
    return c;
}

void address_converter_free(struct address_converter *c)
{
    if (c == NULL) {
        return;
    }
    address_index_release(&c->index);
    address_index_release(&c->names);
    address_suggester_free(c->sugg);
    free(c);
}

enum lt_code address_convert(const struct address_converter *c, const char *text, size_t len,
                             struct address_result *out, struct lt_error *err)
{
    struct address_scan sc;
    struct search st;
    enum lt_code rc = check_input(text, len, err);

    if (rc != LT_OK) {
        return rc;
    }
    address_scan_line(&sc, text, len);
    if (sc.n == 0) {
        lt_error_set(err, LT_EINVAL, "empty address: no words, only separators");
        lt_error_field(err, "address");
        return LT_EINVAL;
    }
    st.c = c;
    st.sc = &sc;
    st.end = units_end(&sc);
    st.nbest = 0;
    st.best_score = 0;
    memset(st.names, 0, sizeof(st.names));
    search_all(&st);
    fill_answer(c, &st, out);
    note_end(out);
    return LT_OK;
}

const char *address_status_name(enum address_status status)
{
    switch (status) {
    case ADDRESS_CONVERTED:
        return "converted";
    case ADDRESS_UNCHANGED:
        return "unchanged";
    case ADDRESS_AMBIGUOUS:
        return "ambiguous";
    case ADDRESS_NOT_FOUND:
        return "not_found";
    }
    return "unknown";
}
