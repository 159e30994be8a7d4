/*
 * import.c - importing a file into a registry through a registry stream.
 *
 * Design note.  Rows go into slots of a batch each; a full slot is pushed
 * to the stream (validated there, in this thread) and the next slot is
 * filled while the writer writes it.  With SLOTS slots, the oldest is
 * reaped (its refused rows reported, in file order) before it is filled
 * again, which bounds memory to SLOTS batches whatever the file's size.
 * Rows refused here (unreadable, not a record) are held back in their slot
 * and reported when it is reaped, after the rows that came before them, so
 * the report is in file order.
 *
 * A row refused only because a record it refers to is missing (a child
 * before its parents, as an export in key order has them) is kept aside
 * and tried again after the whole file, in passes, while a pass writes
 * something: so a file may refer forward too.  Those that still fail are
 * reported at the end, after the others.  Every pass runs in the same
 * stream, so with all_or_nothing it is still one transaction.
 */
#include "import/import.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "import/rows.h"
#include "core/banned.h"

#define SLOTS         3
#define BATCH_DEFAULT 4000
#define DEFER_MAX     100000 /* rows kept aside for a retry; past it they are refused */
#define PASSES_MAX    32     /* retry passes after the file, at most */
/* XXX: references more than PASSES_MAX deep in file order, or past DEFER_MAX rows, are refused */

/* A row kept aside for a retry, with why it was refused (compact: there may be many). */
struct deferred {
    long line;
    json_t *record;
    enum lt_code code;
    char *message;
    char field[LT_ERROR_FIELD_MAX];
};

/* A row refused before the stream saw it: reported with its slot. */
struct early {
    size_t before; /* the number of the slot's changes that came before it */
    long line;
    struct lt_error err;
};

struct slot {
    struct registry_change *ch;
    struct registry_result *res;
    long *line; /* of each change */
    size_t n;
    struct early *early;
    size_t nearly, early_cap;
    bool busy; /* pushed, not reaped */
};

struct run {
    struct node *n;
    struct import_reader *r;
    const struct import_options *o;
    struct import_stats *st;
    struct registry_stream *s;
    struct slot slots[SLOTS];
    size_t batch;
    size_t cur;      /* the slot being filled */
    size_t inflight; /* slots pushed and not reaped */
    size_t oldest;   /* the slot to reap next */
    struct deferred *def;
    size_t ndef, def_cap;
    int64_t pass_written; /* rows that passed in the current pass */
};

static void refuse(struct run *x, long line, const struct lt_error *why)
{
    x->st->refused++;
    if (x->o->refused != NULL) {
        x->o->refused(x->o->arg, line, why);
    }
}

static void defer(struct run *x, long line, json_t *record, const struct lt_error *why)
{
    struct deferred *d;

    if (x->ndef == x->def_cap) {
        x->def_cap = x->def_cap ? 2 * x->def_cap : 256;
        x->def = xrealloc(x->def, x->def_cap * sizeof(*x->def));
    }
    d = &x->def[x->ndef++];
    d->line = line;
    d->record = record;
    d->code = why->code;
    d->message = xstrdup(why->message);
    snprintf(d->field, sizeof(d->field), "%s", why->field);
}

/* Report a reaped slot's refusals in file order, count what passed, keep retries aside. */
static void report(struct run *x, struct slot *sl)
{
    size_t e = 0;

    for (size_t i = 0; i <= sl->n; i++) {
        const struct registry_result *res = &sl->res[i];
        json_t *record;

        for (; e < sl->nearly && sl->early[e].before == i; e++) {
            refuse(x, sl->early[e].line, &sl->early[e].err);
        }
        if (i == sl->n) {
            break;
        }
        record = sl->ch[i].record;
        sl->ch[i].record = NULL;
        if (res->code == LT_OK) {
            x->st->written += !x->o->all_or_nothing; /* committed; else known at the end */
            x->pass_written++;
        } else if (res->retry && x->ndef < DEFER_MAX) {
            defer(x, sl->line[i], record, &res->err);
            continue;
        } else if (res->code != LT_EIO && res->code != LT_EINTERNAL) {
            /* rows failed by the store, not by their own fault, are the run's error */
            refuse(x, sl->line[i], &res->err);
        }
        json_decref(record);
    }
    sl->n = 0;
    sl->nearly = 0;
    sl->busy = false;
}

static void progress(struct run *x)
{
    x->st->bytes = import_reader_offset(x->r);
    if (x->o->progress != NULL) {
        x->o->progress(x->o->arg, x->st);
    }
}

static void reap_one(struct run *x)
{
    void *tag;

    if (!registry_stream_reap(x->s, &tag)) {
        BUG("import: no batch to reap with %zu in flight", x->inflight);
    }
    report(x, tag);
    x->inflight--;
    x->oldest = (x->oldest + 1) % SLOTS;
    progress(x);
}

/* Push the current slot (if it holds anything) and make the next one ready. */
static enum lt_code flush(struct run *x, struct lt_error *err)
{
    struct slot *sl = &x->slots[x->cur];
    enum lt_code rc;

    if (sl->n == 0 && sl->nearly == 0) {
        return LT_OK;
    }
    /* the records stay with the slot until it is reaped: a retry needs them */
    rc = registry_stream_push(x->s, sl->ch, sl->n, sl->res, sl, err);
    if (rc != LT_OK) {
        for (size_t i = 0; i < sl->n; i++) {
            json_decref(sl->ch[i].record);
            sl->ch[i].record = NULL;
        }
        sl->n = 0;
        sl->nearly = 0;
        return rc;
    }
    sl->busy = true;
    x->inflight++;
    x->cur = (x->cur + 1) % SLOTS;
    if (x->inflight == SLOTS) {
        reap_one(x);
    }
    return LT_OK;
}

static void hold_refusal(struct run *x, long line, const struct lt_error *why)
{
    struct slot *sl = &x->slots[x->cur];

    if (sl->nearly == sl->early_cap) {
        sl->early_cap = sl->early_cap ? 2 * sl->early_cap : 16;
        sl->early = xrealloc(sl->early, sl->early_cap * sizeof(*sl->early));
    }
    sl->early[sl->nearly].before = sl->n;
    sl->early[sl->nearly].line = line;
    sl->early[sl->nearly].err = *why;
    sl->nearly++;
}

static void add_change(struct run *x, long line, json_t *record)
{
    struct slot *sl = &x->slots[x->cur];
    struct registry_change *ch = &sl->ch[sl->n];

    memset(ch, 0, sizeof(*ch));
    ch->kind = x->o->kind;
    ch->record = record;
    ch->base_version = 0;
    ch->actor = x->o->actor;
    ch->cause = x->o->cause;
    ch->effective = DATE_MIN;
    sl->line[sl->n] = line;
    sl->n++;
}

/* Read the CSV header; a bad one ends the run. */
static enum lt_code read_header(struct run *x, struct import_header *h, bool *empty,
                                struct lt_error *err)
{
    struct import_row row;
    enum import_read got = import_read(x->r, &row, err);

    *empty = got == IMPORT_END;
    if (got != IMPORT_ROW) {
        return got == IMPORT_END ? LT_OK : LT_EIO;
    }
    if (import_header_read(x->o->kind, &row, h, err) != LT_OK) {
        refuse(x, row.line, err);
        return LT_EINVAL;
    }
    return LT_OK;
}

static enum lt_code read_rows(struct run *x, const struct import_header *h, struct lt_error *err)
{
    struct import_row row;
    struct lt_error why;
    enum import_read got;
    enum lt_code rc;

    while ((got = import_read(x->r, &row, err)) == IMPORT_ROW) {
        json_t *record = NULL;

        x->st->read++;
        rc = h != NULL ? import_csv_record(h, &row, &record, &why)
                       : import_ndjson_record(&row, &record, &why);
        if (rc != LT_OK) {
            hold_refusal(x, row.line, &why);
        } else {
            add_change(x, row.line, record);
        }
        if (x->slots[x->cur].n + x->slots[x->cur].nearly >= x->batch &&
            (rc = flush(x, err)) != LT_OK) {
            return rc;
        }
    }
    return got == IMPORT_END ? flush(x, err) : LT_EIO;
}

/* Push the rows kept aside again, in file order. */
static enum lt_code retry_pass(struct run *x, struct lt_error *err)
{
    struct deferred *list = x->def;
    size_t n = x->ndef;
    enum lt_code rc = LT_OK;

    x->def = NULL;
    x->ndef = x->def_cap = 0;
    x->pass_written = 0;
    for (size_t i = 0; i < n; i++) {
        free(list[i].message);
        if (rc != LT_OK) {
            json_decref(list[i].record);
            continue;
        }
        add_change(x, list[i].line, list[i].record);
        if (x->slots[x->cur].n == x->batch) {
            rc = flush(x, err);
        }
    }
    free(list);
    if (rc == LT_OK) {
        rc = flush(x, err);
    }
    while (x->inflight > 0) {
        reap_one(x);
    }
    return rc;
}

/* Report the rows that no pass could write. */
static void refuse_deferred(struct run *x)
{
    for (size_t i = 0; i < x->ndef; i++) {
        struct deferred *d = &x->def[i];
        struct lt_error why;

        lt_error_set(&why, d->code, "%s", d->message);
        lt_error_field(&why, d->field);
        refuse(x, d->line, &why);
        json_decref(d->record);
        free(d->message);
    }
    free(x->def);
    x->def = NULL;
    x->ndef = 0;
}

static void slots_init(struct run *x)
{
    for (size_t i = 0; i < SLOTS; i++) {
        x->slots[i].ch = xcalloc(x->batch, sizeof(*x->slots[i].ch));
        x->slots[i].res = xcalloc(x->batch, sizeof(*x->slots[i].res));
        x->slots[i].line = xcalloc(x->batch, sizeof(*x->slots[i].line));
    }
}

static void slots_release(struct run *x)
{
    for (size_t i = 0; i < SLOTS; i++) {
        struct slot *sl = &x->slots[i];

        for (size_t j = 0; !sl->busy && j < sl->n; j++) {
            json_decref(sl->ch[j].record);
        }
        free(sl->ch);
        free(sl->res);
        free(sl->line);
        free(sl->early);
    }
}

enum lt_code import_run(struct node *n, struct import_reader *r, const struct import_options *o,
                        struct import_stats *st, struct lt_error *err)
{
    struct run x = { .n = n, .r = r, .o = o, .st = st };
    struct import_header h;
    bool csv = import_reader_format(r) == IMPORT_CSV;
    bool empty = false;
    int64_t written = 0;
    struct lt_error fin;
    enum lt_code rc, frc;

    memset(st, 0, sizeof(*st));
    x.batch = o->batch > 0 && o->batch <= REGISTRY_BATCH_MAX ? o->batch : BATCH_DEFAULT;
    if (csv) {
        rc = read_header(&x, &h, &empty, err);
        if (rc != LT_OK || empty) {
            progress(&x);
            return rc;
        }
    }
    rc = registry_stream_open(n, o->all_or_nothing, &x.s, err);
    if (rc != LT_OK) {
        return rc;
    }
    slots_init(&x);

    rc = read_rows(&x, csv ? &h : NULL, err);
    while (x.inflight > 0) {
        reap_one(&x);
    }
    /* after a read error: rows of the unpushed slot refused before it */
    for (size_t e = 0; e < x.slots[x.cur].nearly; e++) {
        refuse(&x, x.slots[x.cur].early[e].line, &x.slots[x.cur].early[e].err);
    }
    for (int pass = 0; rc == LT_OK && x.ndef > 0 && x.pass_written > 0 && pass < PASSES_MAX;
         pass++) {
        rc = retry_pass(&x, err);
    }
    refuse_deferred(&x);
    frc = registry_stream_finish(x.s, rc == LT_OK && st->refused == 0, &written, &fin);
    if (rc == LT_OK && frc != LT_OK && !(o->all_or_nothing && st->refused > 0)) {
        rc = frc;
        *err = fin;
    }
    st->written = written;
    progress(&x);
    slots_release(&x);
    return rc;
}
