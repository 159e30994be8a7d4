/*
 * Tests for src/sync/apply.c on real nodes (tree.h): a commune's batch is
 * applied at its province and relayed to the centre with the keys taught
 * by enrolment events; a replayed batch, a bad signature, a broken hash
 * chain, a record outside the commune's unit, a relay from outside the
 * sender's subtree and an event coming back down are each refused with
 * nothing applied; duplicates are dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tree.h"

struct fixture {
    char root[64];
    struct tnode vn, p01, c4, p79, w26740;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->root, sizeof(f->root), "/tmp/lt-apply-XXXXXX");
    if (mkdtemp(f->root) == NULL) {
        return -1;
    }
    tnode_make(&f->vn, f->root, "VN-00000001", "VN");
    tnode_make(&f->p01, f->root, "01-00000002", "01");
    tnode_make(&f->c4, f->root, "00004-00000003", "00004");
    tenrol(&f->vn, &f->p01);
    tenrol(&f->p01, &f->c4);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tnode_close(&f->vn);
    tnode_close(&f->p01);
    tnode_close(&f->c4);
    if (f->p79.n != NULL) {
        tnode_close(&f->p79);
        tnode_close(&f->w26740);
    }
    tree_remove(f->root);
    free(f);
    return 0;
}

static void test_push_then_replay(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_result res;
    struct sync_batch b;
    struct lt_error err;
    int64_t head;

    twrite(&f->c4, REG_PERSON, PERSON_A);
    twrite(&f->c4, REG_HOUSEHOLD, HOUSEHOLD_A);
    tbatch(&f->c4, 0, &b);
    assert_int_equal(b.nevents, 3);
    head = thead(&f->p01);
    if (tapply(&f->p01, &b, &res, &err) != LT_OK) {
        fail_msg("apply: %s (%s)", err.message, err.detail);
    }
    assert_false(res.cursor_mismatch);
    assert_int_equal(res.applied, 3);
    assert_int_equal(res.duplicates, 0);
    assert_int_equal(res.ack, 3);
    assert_int_equal(res.head, head + 3);
    assert_true(thas(&f->p01, REG_PERSON, "001090123456"));
    assert_true(thas(&f->p01, REG_HOUSEHOLD, "HK-1"));
    assert_int_equal(tchild(&f->p01, &f->c4).acked, 3);
    assert_int_equal(tchild(&f->p01, &f->c4).events, 3);
    assert_int_equal(tchild(&f->p01, &f->c4).reported_head, 3);

    /* the same batch again: a replay changes nothing and gets the position */
    sync_batch_release(&b);
    tbatch(&f->c4, 0, &b);
    assert_int_equal(tapply(&f->p01, &b, &res, &err), LT_OK);
    assert_true(res.cursor_mismatch);
    assert_int_equal(res.ack, 3);
    assert_int_equal(res.applied, 0);
    assert_int_equal(thead(&f->p01), head + 3);
    sync_batch_release(&b);

    /* a batch that skips ahead of the acknowledged position likewise */
    tbatch(&f->c4, 3, &b);
    b.h.after = b.h.through = 5;
    b.h.head = 9;
    assert_int_equal(tapply(&f->p01, &b, &res, &err), LT_OK);
    assert_true(res.cursor_mismatch);
    assert_int_equal(tchild(&f->p01, &f->c4).acked, 3);
    sync_batch_release(&b);
}

static void test_duplicates_dropped(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_result res;
    struct sync_child ch;
    struct sync_batch b;
    struct lt_error err;
    int64_t head;

    twrite(&f->c4, REG_PERSON, PERSON_A);
    tbatch(&f->c4, 0, &b);
    assert_int_equal(tapply(&f->p01, &b, &res, &err), LT_OK);
    sync_batch_release(&b);
    head = thead(&f->p01);

    /* as after a re-parenting: the parent starts at 0 and has the first ones */
    ch = tchild(&f->p01, &f->c4);
    ch.acked = 0;
    tchild_put(&f->p01, &ch);
    twrite(&f->c4, REG_HOUSEHOLD, HOUSEHOLD_A);
    tbatch(&f->c4, 0, &b);
    assert_int_equal(b.nevents, 3);
    if (tapply(&f->p01, &b, &res, &err) != LT_OK) {
        fail_msg("apply: %s (%s)", err.message, err.detail);
    }
    assert_int_equal(res.duplicates, 2);
    assert_int_equal(res.applied, 1);
    assert_int_equal(res.ack, 3);
    assert_int_equal(thead(&f->p01), head + 1);
    assert_int_equal(tchild(&f->p01, &f->c4).duplicates, 2);
    sync_batch_release(&b);
}

/* What a refusal must leave: the parent's head, the cursor, the registry. */
static void assert_nothing_applied(struct fixture *f, int64_t head)
{
    assert_int_equal(thead(&f->p01), head);
    assert_int_equal(tchild(&f->p01, &f->c4).acked, 0);
    assert_int_equal(tchild(&f->p01, &f->c4).events, 0);
    assert_false(thas(&f->p01, REG_PERSON, "001090123456"));
}

static void refuse(struct fixture *f, struct sync_batch *b, enum lt_code code, const char *part)
{
    struct sync_apply_result res;
    struct lt_error err;
    int64_t head = thead(&f->p01);
    enum lt_code rc = tapply(&f->p01, b, &res, &err);

    if (rc != code || strstr(err.message, part) == NULL) {
        fail_msg("expected %s \"%s\", got %s \"%s\"", lt_code_name(code), part, lt_code_name(rc),
                 err.message);
    }
    assert_nothing_applied(f, head);
    sync_batch_release(b);
}

static void test_bad_signature_refused(void **state)
{
    struct fixture *f = *state;
    struct sync_batch b;

    twrite(&f->c4, REG_PERSON, PERSON_A);
    twrite(&f->c4, REG_HOUSEHOLD, HOUSEHOLD_A);
    tbatch(&f->c4, 0, &b);
    b.events[2].sig[9] ^= 0x20;
    refuse(f, &b, LT_EINVAL, "bad signature");

    /* signed by the parent's key instead of the commune's */
    tbatch(&f->c4, 0, &b);
    sync_sign_event(&f->p01.key, &b.events[1]);
    refuse(f, &b, LT_EINVAL, "bad signature");

    /* not signed at all */
    tbatch(&f->c4, 0, &b);
    b.events[0].has_sig = false;
    refuse(f, &b, LT_EINVAL, "is not signed");
}

static void test_broken_chain_refused(void **state)
{
    struct fixture *f = *state;
    struct sync_batch b;

    twrite(&f->c4, REG_PERSON, PERSON_A);
    twrite(&f->c4, REG_HOUSEHOLD, HOUSEHOLD_A);

    /* a changed body: the hash no longer matches */
    tbatch(&f->c4, 0, &b);
    free(b.events[1].body);
    b.events[1].body = strdup(PERSON_A);
    b.events[1].body[9] = '2';
    refuse(f, &b, LT_EINVAL, "does not match its hash");

    /* a gap: the first event left out, the rest well signed */
    tbatch(&f->c4, 0, &b);
    free(b.events[0].body);
    memmove(&b.events[0], &b.events[1], 2 * sizeof(b.events[0]));
    b.nevents = 2;
    refuse(f, &b, LT_EINVAL, "does not follow its origin's last event");

    /* a wrong link, re-hashed and signed by the commune itself */
    tbatch(&f->c4, 0, &b);
    b.events[2].prev_hash[0] ^= 1;
    event_hash(&b.events[2], b.events[2].hash);
    sync_sign_event(&f->c4.key, &b.events[2]);
    refuse(f, &b, LT_EINVAL, "does not link to its origin's last event");

    /* a fork: another event under a seq the parent holds already */
    tbatch(&f->c4, 0, &b);
    {
        struct sync_apply_result res;
        struct lt_error err;
        int64_t head;

        assert_int_equal(tapply(&f->p01, &b, &res, &err), LT_OK);
        sync_batch_release(&b);
        head = thead(&f->p01);
        tbatch(&f->c4, 2, &b);
        b.h.after = 0;
        b.events[0].pos = 1;
        b.events[0].hlc++;
        event_hash(&b.events[0], b.events[0].hash);
        sync_sign_event(&f->c4.key, &b.events[0]);
        {
            struct sync_child ch = tchild(&f->p01, &f->c4);

            ch.acked = 0;
            tchild_put(&f->p01, &ch);
        }
        assert_int_equal(tapply(&f->p01, &b, &res, &err), LT_ECONFLICT);
        assert_non_null(strstr(err.message, "differs from the one in the log"));
        assert_int_equal(thead(&f->p01), head);
        sync_batch_release(&b);
    }
}

static void test_outside_jurisdiction_refused(void **state)
{
    struct fixture *f = *state;
    struct sync_batch b;

    /* the commune's own registry takes it; its parent does not */
    twrite(&f->c4, REG_PERSON, PERSON_A);
    twrite(&f->c4, REG_HOUSEHOLD, HOUSEHOLD_ELSEWHERE);
    tbatch(&f->c4, 0, &b);
    refuse(f, &b, LT_EINVAL, "event about unit 00008 is outside its origin's unit 00004");
    assert_false(thas(&f->p01, REG_HOUSEHOLD, "HK-2"));
}

static void test_unknown_child_refused(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_result res;
    struct sync_batch b;
    struct lt_error err;
    int64_t head = thead(&f->vn);

    /* the commune is not a child of the centre */
    tbatch(&f->c4, 0, &b);
    assert_int_equal(tapply(&f->vn, &b, &res, &err), LT_ENOTFOUND);
    assert_non_null(strstr(err.message, "is not a child of this node"));
    assert_int_equal(thead(&f->vn), head);
    sync_batch_release(&b);
}

static void test_own_event_back_refused(void **state)
{
    struct fixture *f = *state;
    struct sync_batch b, mine;

    /* the commune slips in the province's own first event, signed by it */
    tbatch(&f->c4, 0, &b);
    tbatch(&f->p01, 0, &mine);
    free(b.events[0].body);
    b.events[0] = mine.events[0];
    b.events[0].body = strdup(mine.events[0].body);
    b.events[0].pos = 1;
    sync_batch_release(&mine);
    refuse(f, &b, LT_EINVAL, "an event of this node came back");
}

/* The province relays its commune's events; the centre learns the key. */
static void test_relay_to_centre(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_result res;
    struct sync_batch b;
    struct lt_error err;
    struct sync_known k;
    bool found = false;

    twrite(&f->c4, REG_PERSON, PERSON_A);
    twrite(&f->c4, REG_HOUSEHOLD, HOUSEHOLD_A);
    tbatch(&f->c4, 0, &b);
    assert_int_equal(tapply(&f->p01, &b, &res, &err), LT_OK);
    sync_batch_release(&b);

    /* the province's log: its first event, the enrolment, the commune's three */
    tbatch(&f->p01, 0, &b);
    assert_int_equal(b.nevents, 5);
    assert_string_equal(b.events[1].type, SYNC_EVENT_ENROLLED);
    if (tapply(&f->vn, &b, &res, &err) != LT_OK) {
        fail_msg("relay: %s (%s)", err.message, err.detail);
    }
    assert_int_equal(res.applied, 5);
    assert_true(thas(&f->vn, REG_PERSON, "001090123456"));
    assert_true(thas(&f->vn, REG_HOUSEHOLD, "HK-1"));
    sync_batch_release(&b);

    {
        struct store_conn *c = store_reader_get(node_store(f->vn.n));

        assert_int_equal(sync_known_get(c, "00004-00000003", &k, &found, &err), LT_OK);
        store_reader_put(node_store(f->vn.n), c);
    }
    assert_true(found);
    assert_string_equal(k.unit, "00004");
    assert_string_equal(k.enrolled_by, "01-00000002");
    assert_memory_equal(k.pk, f->c4.key.pk, SYNC_PK_BYTES);

    /* the commune's events at the centre keep their identity and signature */
    tbatch(&f->vn, 0, &b);
    for (size_t i = 0; i < b.nevents; i++) {
        if (strcmp(b.events[i].origin, "00004-00000003") == 0) {
            assert_true(sync_event_sig_ok(f->c4.key.pk, b.events[i].hash, b.events[i].sig));
        }
    }
    sync_batch_release(&b);
}

/* Province 01 may not relay a ward of province 79, though the centre knows it. */
static void test_relay_outside_subtree_refused(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_result res;
    struct sync_batch b, theirs;
    struct lt_error err;
    int64_t head;

    tnode_make(&f->p79, f->root, "79-00000004", "79");
    tnode_make(&f->w26740, f->root, "26740-00000005", "26740");
    tenrol(&f->vn, &f->p79);
    tenrol(&f->p79, &f->w26740);
    tbatch(&f->w26740, 0, &b);
    assert_int_equal(tapply(&f->p79, &b, &res, &err), LT_OK);
    sync_batch_release(&b);
    tbatch(&f->p79, 0, &b);
    assert_int_equal(tapply(&f->vn, &b, &res, &err), LT_OK);
    sync_batch_release(&b);

    /* 01's batch carrying the ward's first event */
    tbatch(&f->p01, 0, &b);
    tbatch(&f->w26740, 0, &theirs);
    b.events = realloc(b.events, (b.nevents + 1) * sizeof(*b.events));
    b.events[b.nevents] = theirs.events[0];
    b.events[b.nevents].body = strdup(theirs.events[0].body);
    b.events[b.nevents].pos = b.h.through + 1;
    b.nevents++;
    b.h.through++;
    b.h.head = b.h.through;
    sync_batch_release(&theirs);
    head = thead(&f->vn);
    assert_int_equal(tapply(&f->vn, &b, &res, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "outside the sending child's unit 01"));
    assert_int_equal(thead(&f->vn), head);
    assert_int_equal(tchild(&f->vn, &f->p01).acked, 0);
    sync_batch_release(&b);
}

static enum lt_code refusal_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    return sync_note_refusal(c, arg, &(struct lt_error){ .message = "bad signature" },
                             sync_now_ms(), err);
}

static void test_refusal_recorded(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;
    struct sync_child ch;

    assert_int_equal(store_write(node_store(f->p01.n), refusal_fn, (void *)"00004-00000003", &err),
                     LT_OK);
    ch = tchild(&f->p01, &f->c4);
    assert_int_equal(ch.refused, 1);
    assert_string_equal(ch.last_refusal, "bad signature");
    assert_true(ch.last_refusal_ms > 0);
    assert_int_equal(ch.acked, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_push_then_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_signature_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_chain_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outside_jurisdiction_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_child_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_event_back_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_to_centre, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_outside_subtree_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusal_recorded, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
