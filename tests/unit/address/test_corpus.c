/*
 * Acceptance tests of the address converter over the whole register: every
 * old commune written out in full must convert to exactly its successors,
 * every commune of today must come back unchanged, and the old communes
 * written without diacritics must still come out right (at least 99.5%).
 * The lines are built from the embedded data here; the abbreviated corpus
 * goes through the CLI in tests/integration/test_address.sh.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include <cmocka.h>

#include "address/address.h"
#include "core/date.h"

#define THREADS 4

static const struct units *u;
static struct address_converter *conv;

static int setup(void **state)
{
    (void)state;
    u = units_builtin();
    conv = address_converter_new(u);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    address_converter_free(conv);
    return 0;
}

static bool is_old_commune(const struct unit *x)
{
    return x->level == UNIT_COMMUNE && x->valid_to != DATE_MAX;
}

static void old_line(const struct unit *commune, char *out, size_t cap)
{
    const struct unit *d = unit_parent(u, commune);
    const struct unit *p = unit_parent(u, d);

    snprintf(out, cap, "%s, %s, %s", commune->name, d->name, p->name);
}

/* Vietnamese without diacritics, case kept. */
static void strip_marks(const char *s, char *out, size_t cap)
{
    utf8proc_uint8_t *m = NULL;
    size_t o = 0;

    utf8proc_map((const utf8proc_uint8_t *)s, 0, &m,
                 UTF8PROC_NULLTERM | UTF8PROC_COMPOSE | UTF8PROC_STRIPMARK);
    for (size_t i = 0; m[i] != '\0' && o + 1 < cap; i++) {
        if (m[i] == 0xc4 && (m[i + 1] == 0x90 || m[i + 1] == 0x91)) {
            out[o++] = m[i + 1] == 0x90 ? 'D' : 'd';
            i++;
            continue;
        }
        out[o++] = (char)m[i];
    }
    out[o] = '\0';
    free(m);
}

/* Whether r is exactly what the mapping says for the old commune. */
static bool is_right(const struct unit *old, const struct address_result *r)
{
    struct unit_link succ[8];
    size_t n = units_direct_successors(u, old, succ, 8);

    if (n == 1 && succ[0].kind == UNIT_EDGE_FULL) {
        return r->status == ADDRESS_CONVERTED && r->new_commune == succ[0].unit &&
               r->ncandidates == 1;
    }
    if (r->status != ADDRESS_AMBIGUOUS || r->ncandidates != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        bool found = false;

        for (size_t k = 0; k < r->ncandidates; k++) {
            found = found || (r->candidates[k].commune == succ[i].unit &&
                              r->candidates[k].kind == UNIT_EDGE_PARTIAL);
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

/* Convert every old commune's line; returns how many came out right. */
static size_t run_old(bool stripped, size_t *total)
{
    char line[512], bare[512];
    size_t ok = 0, shown = 0;

    *total = 0;
    for (uint32_t i = 0; i < units_count(u); i++) {
        const struct unit *x = units_at(u, i);
        struct address_result r;
        struct lt_error err;

        if (!is_old_commune(x)) {
            continue;
        }
        old_line(x, line, sizeof(line));
        if (stripped) {
            strip_marks(line, bare, sizeof(bare));
            memcpy(line, bare, sizeof(line));
        }
        (*total)++;
        assert_int_equal(address_convert(conv, line, strlen(line), &r, &err), LT_OK);
        if (is_right(x, &r)) {
            ok++;
        } else if (shown++ < 10) {
            printf("# not as mapped: %s -> %s %s (%s)\n", line, address_status_name(r.status),
                   r.new_commune ? r.new_commune->code : "-", r.note);
        }
    }
    return ok;
}

static void test_every_old_commune_in_full(void **state)
{
    size_t total;
    size_t ok = run_old(false, &total);

    (void)state;
    printf("# old communes in full: %zu/%zu right (%.3f%%)\n", ok, total,
           100.0 * (double)ok / (double)total);
    assert_int_equal(total, 10047);
    assert_int_equal(ok, total);
}

static void test_every_old_commune_stripped(void **state)
{
    size_t total;
    size_t ok = run_old(true, &total);

    (void)state;
    printf("# old communes without diacritics: %zu/%zu right (%.3f%%)\n", ok, total,
           100.0 * (double)ok / (double)total);
    assert_true((double)ok >= 0.995 * (double)total);
}

static void test_every_new_commune_unchanged(void **state)
{
    char line[512];
    size_t total = 0, ok = 0;

    (void)state;
    for (uint32_t i = 0; i < units_count(u); i++) {
        const struct unit *x = units_at(u, i);
        struct address_result r;
        struct lt_error err;

        if (x->level != UNIT_COMMUNE || x->valid_to != DATE_MAX) {
            continue;
        }
        snprintf(line, sizeof(line), "%s, %s", x->name, unit_parent(u, x)->name);
        total++;
        assert_int_equal(address_convert(conv, line, strlen(line), &r, &err), LT_OK);
        if (r.status == ADDRESS_UNCHANGED && r.new_commune == x && r.ncandidates == 1) {
            ok++;
        } else {
            printf("# not unchanged: %s -> %s (%s)\n", line, address_status_name(r.status), r.note);
        }
    }
    printf("# new communes: %zu/%zu unchanged\n", ok, total);
    assert_int_equal(total, 3321);
    assert_int_equal(ok, total);
}

/* Threads share one converter: each must see what a lone caller sees. */
struct worker {
    pthread_t tid;
    int first;
    size_t mismatches;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    char line[512];

    for (uint32_t i = (uint32_t)w->first; i < units_count(u); i += THREADS) {
        const struct unit *x = units_at(u, i);
        struct address_result a, b;
        struct lt_error err;

        if (!is_old_commune(x)) {
            continue;
        }
        old_line(x, line, sizeof(line));
        if (address_convert(conv, line, strlen(line), &a, &err) != LT_OK ||
            address_convert(conv, line, strlen(line), &b, &err) != LT_OK || a.status != b.status ||
            a.new_commune != b.new_commune || !is_right(x, &a)) {
            w->mismatches++;
        }
    }
    return NULL;
}

static void test_threads_share_a_converter(void **state)
{
    struct worker w[THREADS];

    (void)state;
    for (int i = 0; i < THREADS; i++) {
        w[i].first = i;
        w[i].mismatches = 0;
        assert_int_equal(pthread_create(&w[i].tid, NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(w[i].tid, NULL);
        assert_int_equal(w[i].mismatches, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_old_commune_in_full),
        cmocka_unit_test(test_every_old_commune_stripped),
        cmocka_unit_test(test_every_new_commune_unchanged),
        cmocka_unit_test(test_threads_share_a_converter),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
