/*
 * address_suggest.c - nearest names, for addresses whose commune is not found.
 *
 * Names are compared folded ("doi can"), by Levenshtein distance capped at
 * about a quarter of the query's length, so that a few slips of the keyboard
 * are forgiven and unrelated names are not offered.  Within a district or a
 * province the candidates are simply its units.  For the whole register a
 * word index (word -> units whose name has it) narrows the candidates to the
 * units sharing a word with the query; it is built on the first such search.
 */
#include "address/address_suggest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address/address.h"
#include "address/address_index.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/banned.h"

/*
 * Units by each word of their folded name, to suggest names for a line in
 * which nothing was recognised.  Most lines never need it, so it is built
 * on first use, under the lock, and read without it once ready.
 */
struct word_index {
    pthread_mutex_t lock;
    atomic_bool ready;
    struct address_index ids; /* word -> ids of the units whose name has it */
};

struct address_suggester {
    const struct units *u;
    struct word_index *words;
};

static bool is_today(const struct unit *unit)
{
    return unit->valid_to == DATE_MAX;
}

#define DIST_MAX        64   /* bytes of a folded name compared */
#define QUERY_WORDS_MAX 16   /* words of a query looked up in the word index */
#define SUGGEST_BUDGET  1024 /* units compared, at most, for one query */

/* Levenshtein distance of two short folded strings, capped at cap + 1. */
static int edit_distance(const char *a, size_t al, const char *b, size_t bl, int cap)
{
    int row[DIST_MAX + 1];

    if (al > DIST_MAX) {
        al = DIST_MAX;
    }
    if (bl > DIST_MAX) {
        bl = DIST_MAX;
    }
    if ((int)(al > bl ? al - bl : bl - al) > cap) {
        return cap + 1;
    }
    for (size_t j = 0; j <= bl; j++) {
        row[j] = (int)j;
    }
    for (size_t i = 1; i <= al; i++) {
        int diag = row[0];
        int low;

        row[0] = (int)i;
        low = row[0];
        for (size_t j = 1; j <= bl; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
            low = best < low ? best : low;
        }
        if (low > cap) {
            return cap + 1;
        }
    }
    return row[bl];
}

/* The best units so far, closest first, for one query. */
struct suggest {
    const char *q;
    size_t qlen;
    int cap;
    const struct unit *units[ADDRESS_MAX_SUGGESTIONS];
    int dist[ADDRESS_MAX_SUGGESTIONS];
    size_t n;
};

static void suggest_unit(struct suggest *sg, const struct unit *unit)
{
    size_t fl = strlen(unit->fold);
    int d = edit_distance(sg->q, sg->qlen, unit->fold, fl, sg->cap);
    size_t at;

    /* A name started but not finished ("Hoàn Ki") is close too. */
    if (d > sg->cap && sg->qlen >= 3 && fl > sg->qlen && memcmp(unit->fold, sg->q, sg->qlen) == 0) {
        d = sg->cap;
    }
    if (d > sg->cap) {
        return;
    }
    for (size_t i = 0; i < sg->n; i++) {
        if (sg->units[i] == unit) {
            return;
        }
    }
    at = sg->n;
    while (at > 0 && (sg->dist[at - 1] > d ||
                      (sg->dist[at - 1] == d && !is_today(sg->units[at - 1]) && is_today(unit)))) {
        at--;
    }
    if (at >= ADDRESS_MAX_SUGGESTIONS) {
        return;
    }
    if (sg->n < ADDRESS_MAX_SUGGESTIONS) {
        sg->n++;
    }
    memmove(&sg->units[at + 1], &sg->units[at], sizeof(sg->units[0]) * (sg->n - 1 - at));
    memmove(&sg->dist[at + 1], &sg->dist[at], sizeof(sg->dist[0]) * (sg->n - 1 - at));
    sg->units[at] = unit;
    sg->dist[at] = d;
}

static void suggest_children(const struct units *u, struct suggest *sg, const struct unit *parent,
                             int depth)
{
    const struct unit *kids[512];
    size_t n = units_children(u, parent, DATE_MIN, kids, 512);

    for (size_t i = 0; i < n && i < 512; i++) {
        if (depth > 1 && kids[i]->level < UNIT_COMMUNE) {
            suggest_children(u, sg, kids[i], depth - 1);
        }
        suggest_unit(sg, kids[i]);
    }
}

static void build_words(const struct units *u, struct word_index *wi)
{
    address_index_init(&wi->ids);
    for (uint32_t i = 1; i < units_count(u); i++) {
        const char *w = units_at(u, i)->fold;

        while (*w != '\0') {
            size_t n = strcspn(w, " ");

            if (n >= 2) {
                address_index_add(&wi->ids, w, n, i);
            }
            w += n + (w[n] == ' ');
        }
    }
    address_index_freeze(&wi->ids);
}

static const struct word_index *words_ready(const struct address_suggester *s)
{
    struct word_index *wi = s->words;

    if (!atomic_load_explicit(&wi->ready, memory_order_acquire)) {
        pthread_mutex_lock(&wi->lock);
        if (!atomic_load_explicit(&wi->ready, memory_order_relaxed)) {
            build_words(s->u, wi);
            atomic_store_explicit(&wi->ready, true, memory_order_release);
        }
        pthread_mutex_unlock(&wi->lock);
    }
    return wi;
}

/* The units of each of the query's words, rarest word first. */
struct word_run {
    const uint32_t *ids;
    size_t n;
};

static size_t query_words(const struct word_index *wi, const char *q, size_t qlen,
                          struct word_run *out, size_t max)
{
    const char *w = q;
    const char *end = q + qlen;
    size_t n = 0;

    while (w < end && n < max) {
        const char *sp = memchr(w, ' ', (size_t)(end - w));
        size_t len = sp != NULL ? (size_t)(sp - w) : (size_t)(end - w);
        struct word_run run = { NULL, 0 };

        if (len >= 2) {
            run.ids = address_index_get(&wi->ids, w, len, &run.n);
        }
        if (run.n > 0) {
            size_t at = n++;

            while (at > 0 && out[at - 1].n > run.n) { /* insertion sort: a handful */
                out[at] = out[at - 1];
                at--;
            }
            out[at] = run;
        }
        w += len + (sp != NULL);
    }
    return n;
}

/*
 * Anywhere in the country: the units that share a word with the query,
 * those of its rarest words first, and no more than SUGGEST_BUDGET of them,
 * so that a line of common words ("tân an bình phú") stays cheap.
 * XXX: with no province or district, a query misspelt in every word gets no suggestion.
 */
static void suggest_by_words(const struct address_suggester *s, struct suggest *sg)
{
    struct word_run runs[QUERY_WORDS_MAX];
    size_t n = query_words(words_ready(s), sg->q, sg->qlen, runs, QUERY_WORDS_MAX);
    size_t budget = SUGGEST_BUDGET;

    for (size_t i = 0; i < n && budget > 0; i++) {
        for (size_t k = 0; k < runs[i].n && budget > 0; k++) {
            suggest_unit(sg, units_at(s->u, runs[i].ids[k]));
            budget--;
        }
    }
}

struct address_suggester *address_suggester_new(const struct units *u)
{
    struct address_suggester *s = xcalloc(1, sizeof(*s));

    s->u = u;
    s->words = xcalloc(1, sizeof(*s->words));
    pthread_mutex_init(&s->words->lock, NULL);
    return s;
}

void address_suggester_free(struct address_suggester *s)
{
    if (s == NULL) {
        return;
    }
    pthread_mutex_destroy(&s->words->lock);
    address_index_release(&s->words->ids);
    free(s->words);
    free(s);
}

size_t address_suggest(const struct address_suggester *s, const char *q, size_t qlen,
                       const struct address_suggest_scope *scopes, size_t nscopes,
                       const struct unit **out)
{
    struct suggest sg;

    memset(&sg, 0, sizeof(sg));
    sg.q = q;
    sg.qlen = qlen;
    sg.cap = 1 + (int)qlen / 4;
    for (size_t i = 0; i < nscopes; i++) {
        suggest_children(s->u, &sg, scopes[i].parent, scopes[i].depth);
    }
    if (nscopes == 0) {
        suggest_by_words(s, &sg);
    }
    memcpy(out, sg.units, sizeof(sg.units[0]) * sg.n);
    return sg.n;
}
