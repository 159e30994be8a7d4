/*
 * fixture.h - a node with a few registered people, a parcel and a
 * business, and a one-stop shop over it with a clock the test sets, for
 * the tests of src/oss and of its HTTP endpoints.
 *
 * People: a father (FATHER, male 1985) and a mother (MOTHER, female 1990)
 * living in ward 00004 (Hà Nội), an elderly man (ELDER, 1940) in 00004 with
 * a monthly allowance, a buyer (BUYER) in 00070, and a deceased man (DEAD).
 * Parcel PARCEL (in 00004) is held by FATHER; the business's code is in
 * f->business, its unit 00004, represented by FATHER.
 */
#ifndef LT_TEST_OSS_FIXTURE_H
#define LT_TEST_OSS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "evlog/evlog.h"
#include "oss/oss.h"
#include "registry/ids.h"
#include "registry/registry.h"

#define FATHER "001085000001"
#define MOTHER "001190000002"
#define ELDER  "001040000003"
#define BUYER  "001088000004"
#define DEAD   "001050000005"
#define CHILD  "001226000006" /* male, born 2026 */
#define PARCEL "00004-12-345"

struct fixture {
    char dir[64];
    struct node *n;
    struct oss *o;
    int64_t now; /* the shop's clock, ms since the epoch */
    char business[16];
};

static int64_t fixture_clock(void *arg)
{
    return ((struct fixture *)arg)->now;
}

/* Set the clock to a Vietnam local time. */
static void fixture_at(struct fixture *f, const char *day, int h, int m)
{
    int32_t d = 0;

    date_parse(day, &d, NULL);
    f->now = ((int64_t)d * 86400 + h * 3600 + m * 60) * 1000 - 7 * 3600 * 1000LL;
}

static enum lt_code fixture_init_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    (void)arg;
    return evlog_init_node(c, "test-node", "VN", err);
}

static void put(struct fixture *f, enum registry_kind kind, const char *json)
{
    json_t *rec = json_loads(json, 0, NULL);
    struct registry_change ch = {
        .kind = kind, .record = rec, .actor = "test", .cause = "fixture", .effective = DATE_MIN
    };
    struct lt_error err;

    if (rec == NULL || registry_write(f->n, &ch, NULL, &err) != LT_OK) {
        fprintf(stderr, "fixture: %s: %s %s\n", json, err.message, err.detail);
        abort();
    }
    json_decref(rec);
}

static void fixture_people(struct fixture *f)
{
    char first9[10] = "010012345", biz[512];

    put(f, REG_PERSON,
        "{\"id\":\"" FATHER "\",\"full_name\":\"Nguyễn Văn An\",\"birth_date\":"
        "\"1985-03-02\",\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":"
        "\"VN\",\"status\":\"alive\"}");
    put(f, REG_PERSON,
        "{\"id\":\"" MOTHER "\",\"full_name\":\"Trần Thị Bình\",\"birth_date\":"
        "\"1990-05-06\",\"sex\":\"female\",\"ethnicity\":\"01\",\"nationality\":"
        "\"VN\",\"status\":\"alive\"}");
    put(f, REG_PERSON,
        "{\"id\":\"" ELDER "\",\"full_name\":\"Lê Văn Cường\",\"birth_date\":"
        "\"1940-01-01\",\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":"
        "\"VN\",\"status\":\"alive\"}");
    put(f, REG_PERSON,
        "{\"id\":\"" BUYER "\",\"full_name\":\"Phạm Văn Dũng\",\"birth_date\":"
        "\"1988-01-01\",\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":"
        "\"VN\",\"status\":\"alive\"}");
    put(f, REG_PERSON,
        "{\"id\":\"" DEAD "\",\"full_name\":\"Hoàng Văn Em\",\"birth_date\":"
        "\"1950-01-01\",\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":"
        "\"VN\",\"status\":\"deceased\",\"death_date\":\"2024-01-01\"}");
    put(f, REG_RESIDENCE,
        "{\"person_id\":\"" FATHER "\",\"kind\":\"permanent\",\"unit\":"
        "\"00004\",\"address_line\":\"1 Phố Đội Cấn\",\"from_date\":"
        "\"2010-01-01\"}");
    put(f, REG_RESIDENCE,
        "{\"person_id\":\"" MOTHER "\",\"kind\":\"permanent\",\"unit\":"
        "\"00004\",\"address_line\":\"1 Phố Đội Cấn\",\"from_date\":"
        "\"2012-01-01\"}");
    put(f, REG_RESIDENCE,
        "{\"person_id\":\"" ELDER "\",\"kind\":\"permanent\",\"unit\":"
        "\"00004\",\"address_line\":\"3 Phố Đội Cấn\",\"from_date\":"
        "\"1980-01-01\"}");
    put(f, REG_RESIDENCE,
        "{\"person_id\":\"" BUYER "\",\"kind\":\"permanent\",\"unit\":"
        "\"00070\",\"address_line\":\"5 Hàng Bài\",\"from_date\":"
        "\"2015-01-01\"}");
    put(f, REG_BENEFIT,
        "{\"person_id\":\"" ELDER "\",\"scheme\":\"social_assistance\","
        "\"category\":\"elderly_80\",\"monthly_amount_vnd\":500000,"
        "\"start_date\":\"2020-01-01\",\"status\":\"active\"}");
    put(f, REG_PARCEL,
        "{\"id\":\"" PARCEL "\",\"unit\":\"00004\",\"map_sheet\":12,\"parcel_no\":"
        "345,\"area_m2\":120.5,\"purpose\":\"ODT\",\"holders\":[{\"kind\":"
        "\"person\",\"id\":\"" FATHER "\",\"share\":1}]}");
    for (int i = 0; ids_enterprise_check_digit(first9) < 0; i++) {
        first9[8] = (char)('0' + i);
    }
    snprintf(f->business, sizeof(f->business), "%s%d", first9, ids_enterprise_check_digit(first9));
    snprintf(biz, sizeof(biz),
             "{\"code\":\"%s\",\"name\":\"Công ty TNHH An Bình\",\"legal_form\":"
             "\"llc_single_member\",\"unit\":\"00004\",\"address_line\":\"7 Phố Đội Cấn\","
             "\"representative_id\":\"" FATHER "\",\"capital_vnd\":1000000000,"
             "\"status\":\"active\"}",
             f->business);
    put(f, REG_BUSINESS, biz);
}

static int fixture_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct store_options o;
    struct store *s = NULL;
    struct lt_error err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/lt-oss-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        return -1;
    }
    store_options_default(&o);
    o.create = true;
    o.durable = false;
    o.readers = 2;
    if (store_open(f->dir, &o, &s, &err) != LT_OK ||
        store_write(s, fixture_init_fn, NULL, &err) != LT_OK) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    store_close(s);
    o.create = false;
    if (node_open(f->dir, &o, &f->n, &err) != LT_OK) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    fixture_people(f);
    f->o = oss_new(f->n, oss_catalogue_builtin(), oss_calendar_builtin());
    oss_set_clock(f->o, fixture_clock, f);
    fixture_at(f, "2026-04-20", 9, 0); /* a Monday */
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    oss_free(f->o);
    node_close(f->n);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) {
        return -1;
    }
    free(f);
    return 0;
}

/* Principals. */
static inline struct auth_principal principal(enum auth_role role, const char *unit,
                                              const char *person)
{
    struct auth_principal p;

    memset(&p, 0, sizeof(p));
    snprintf(p.account, sizeof(p.account), "%s-%s",
             role == AUTH_CLERK     ? "clerk"
             : role == AUTH_OFFICER ? "officer"
             : role == AUTH_CITIZEN ? "citizen"
                                    : "other",
             unit);
    p.role = role;
    snprintf(p.unit, sizeof(p.unit), "%s", unit);
    snprintf(p.person_id, sizeof(p.person_id), "%s", person ? person : "");
    return p;
}

#endif
