/*
 * Tests for src/oss (receive.c, dossier.c, effects.c, routing.c, queue.c,
 * indicators.c) on a real node: a composite dossier taken from receipt to
 * result with its registry effects, every refusal leaving the store as it
 * was, the paused clock, routing across units, the queue and the
 * indicators.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixture.h"

static int64_t log_head(struct fixture *f)
{
    struct store_conn *c = store_reader_get(node_store(f->n));
    int64_t pos = -1;
    struct lt_error err;

    assert_int_equal(evlog_head(c, &pos, &err), LT_OK);
    store_reader_put(node_store(f->n), c);
    return pos;
}

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);

    if (j == NULL) {
        fail_msg("bad test JSON: %s: %s", text, e.text);
    }
    return j;
}

static const char *S(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "";
}

/* Receive req (JSON text) as who; returns the dossier (or NULL with err set). */
static json_t *receive(struct fixture *f, const struct auth_principal *who, const char *req,
                       enum lt_code want, struct lt_error *err)
{
    json_t *r = J(req), *d = NULL;
    enum lt_code rc = oss_receive(f->o, who, r, &d, err);

    json_decref(r);
    if (rc != want) {
        fail_msg("receive: got %d (%s; %s; field %s), want %d", rc, err->message, err->detail,
                 err->field, want);
    }
    return d;
}

static json_t *act(struct fixture *f, const struct auth_principal *who, const char *code,
                   const char *req, enum lt_code want, struct lt_error *err)
{
    json_t *r = J(req), *d = NULL;
    enum lt_code rc = oss_act(f->o, who, code, r, &d, err);

    json_decref(r);
    if (rc != want) {
        fail_msg("act %s: got %d (%s; %s), want %d", req, rc, err->message, err->detail, want);
    }
    return d;
}

#define BIRTH_COMPOSITE                                                                            \
    "{\"procedure\":\"birth_residence_health_insurance\",\"applicant\":{\"kind\":\"person\","      \
    "\"id\":\"" FATHER "\"},\"channel\":\"counter\",\"documents\":[\"birth_certificate\","         \
    "\"declaration\"],\"fields\":{\"child_id\":\"" CHILD "\",\"child_full_name\":"                 \
    "\"Nguyễn Văn Bé\",\"child_birth_date\":\"2026-04-10\",\"child_sex\":\"male\","            \
    "\"child_ethnicity\":\"01\",\"father_id\":\"" FATHER "\",\"mother_id\":\"" MOTHER "\","        \
    "\"residence_unit\":\"00004\",\"address_line\":\"1 Phố Đội Cấn\",\"card_no\":\"TE101\"}}"

/* the same with a household that does not exist: the residence step will fail */
#define BIRTH_COMPOSITE_HH                                                                         \
    "{\"procedure\":\"birth_residence_health_insurance\",\"applicant\":{\"kind\":\"person\","      \
    "\"id\":\"" FATHER "\"},\"channel\":\"counter\",\"documents\":[\"birth_certificate\","         \
    "\"declaration\"],\"fields\":{\"child_id\":\"" CHILD "\",\"child_full_name\":"                 \
    "\"Nguyễn Văn Bé\",\"child_birth_date\":\"2026-04-10\",\"child_sex\":\"male\","            \
    "\"child_ethnicity\":\"01\",\"residence_unit\":\"00004\",\"address_line\":\"1 Phố Đội "   \
    "Cấn\",\"household_id\":\"HK-404\",\"relation_to_head\":\"child\",\"card_no\":\"TE101\"}}"

static void test_composite_birth_end_to_end(void **state)
{
    struct fixture *f = *state;
    struct auth_principal clerk = principal(AUTH_CLERK, "00070", NULL);
    struct auth_principal officer = principal(AUTH_OFFICER, "00004", NULL);
    struct auth_principal prov = principal(AUTH_OFFICER, "01", NULL);
    struct lt_error err;
    json_t *d, *rec = NULL;
    char code[16];

    /* Thursday before the long weekend, after the cut-off */
    fixture_at(f, "2026-04-23", 16, 0);
    d = receive(f, &clerk, BIRTH_COMPOSITE, LT_OK, &err);
    snprintf(code, sizeof(code), "%s", S(d, "code"));
    assert_string_equal(S(d, "status"), "received");
    assert_string_equal(S(d, "received_unit"), "00070");
    assert_string_equal(S(d, "competent_unit"), "00004"); /* routed to the child's ward */
    assert_string_equal(S(d, "due_date"), "2026-05-04");  /* 27/4, 30/4 and 1/5 are holidays */
    assert_string_equal(S(json_array_get(json_object_get(d, "steps"), 2), "competent_unit"), "01");
    assert_null(json_object_get(d, "_seen"));
    json_decref(d);

    fixture_at(f, "2026-04-24", 9, 0);
    json_decref(act(f, &officer, code, "{\"action\":\"review\"}", LT_OK, &err));
    /* steps in order */
    act(f, &officer, code, "{\"action\":\"approve\",\"step\":\"residence\"}", LT_ECONFLICT, &err);
    assert_string_equal(err.message, "step \"residence\" waits for step \"birth\"");
    act(f, &officer, code, "{\"action\":\"approve\"}", LT_EINVAL, &err);
    assert_string_equal(err.field, "step");
    json_decref(act(f, &officer, code, "{\"action\":\"approve\",\"step\":\"birth\"}", LT_OK, &err));
    assert_int_equal(registry_get(f->n, REG_PERSON, CHILD, &rec, NULL, &err), LT_OK);
    assert_string_equal(S(rec, "mother_id"), MOTHER);
    json_decref(rec);
    d = act(f, &officer, code, "{\"action\":\"approve\",\"step\":\"residence\"}", LT_OK, &err);
    assert_string_equal(S(d, "status"), "in_review");
    json_decref(d);
    assert_int_equal(registry_get(f->n, REG_RESIDENCE, CHILD "/permanent", &rec, NULL, &err),
                     LT_OK);
    assert_string_equal(S(rec, "unit"), "00004");
    json_decref(rec);

    /* the health insurance step is the province's */
    act(f, &officer, code, "{\"action\":\"approve\",\"step\":\"health_insurance\"}", LT_EFORBIDDEN,
        &err);
    d = act(f, &prov, code, "{\"action\":\"approve\",\"step\":\"health_insurance\"}", LT_OK, &err);
    assert_string_equal(S(d, "status"), "approved");
    json_decref(d);
    assert_int_equal(registry_get(f->n, REG_BENEFIT, CHILD "/health_insurance", &rec, NULL, &err),
                     LT_OK);
    assert_string_equal(S(rec, "end_date"), "2032-04-09");
    assert_string_equal(S(rec, "status"), "active");
    json_decref(rec);

    /* the receiving counter hands the result over */
    d = act(f, &clerk, code, "{\"action\":\"return_result\"}", LT_OK, &err);
    assert_string_equal(S(d, "status"), "result_returned");
    assert_int_equal(json_array_size(json_object_get(d, "timeline")), 6);
    assert_int_equal(json_integer_value(json_object_get(d, "version")), 6);
    json_decref(d);

    /* the registry record names its dossier as the cause */
    assert_int_equal(registry_history(f->n, REG_PERSON, CHILD, &rec, &err), LT_OK);
    assert_string_equal(S(json_array_get(rec, 0), "cause"), code);
    assert_string_equal(S(json_array_get(rec, 0), "actor"), "officer-00004");
    json_decref(rec);
}

static void test_bad_input_writes_nothing(void **state)
{
    struct fixture *f = *state;
    struct auth_principal clerk = principal(AUTH_CLERK, "00070", NULL);
    struct auth_principal citizen = principal(AUTH_CITIZEN, "VN", BUYER);
    struct auth_principal auditor = principal(AUTH_AUDITOR, "01", NULL);
    int64_t head = log_head(f);
    struct lt_error err;
    json_t *page = NULL;
    struct oss_queue_query q = { .unit = "VN" };
    struct auth_principal nation = principal(AUTH_OFFICER, "VN", NULL);

    receive(f, &clerk,
            "{\"procedure\":\"no_such\",\"applicant\":{\"kind\":\"person\",\"id\":\"" FATHER
            "\"},\"channel\":\"counter\"}",
            LT_ENOTFOUND, &err);
    assert_string_equal(err.field, "procedure");
    receive(
        f, &clerk,
        "{\"procedure\":\"death_registration\",\"applicant\":{\"kind\":\"person\",\"id\":\"" FATHER
        "\"},\"channel\":\"counter\",\"documents\":[\"death_notice\",\"declaration\"],"
        "\"fields\":{\"deceased_id\":\"" ELDER "\"}}",
        LT_EINVAL, &err);
    assert_string_equal(err.field, "fields.death_date");
    {
        char code[11] = "0100000010", req[512];

        while (ids_enterprise_code_check(code, NULL) != LT_OK) {
            code[9]++;
        }
        snprintf(req, sizeof(req),
                 "{\"procedure\":\"household_business\",\"applicant\":{\"kind\":\"person\","
                 "\"id\":\"" BUYER "\"},\"channel\":\"counter\",\"documents\":[\"application\"],"
                 "\"fields\":{\"business_code\":\"%s\",\"business_name\":\"Hộ Dũng\","
                 "\"business_unit\":\"00070\",\"address_line\":\"5 Hàng Bài\",\"capital_vnd\":1,"
                 "\"industry_code\":\"!!\"}}",
                 code);
        receive(f, &clerk, req, LT_EINVAL, &err);
        assert_string_equal(err.field, "fields.industry_code"); /* at receipt, not approval */
    }
    receive(f, &clerk,
            "{\"procedure\":\"death_registration\",\"applicant\":{\"kind\":\"person\",\"id\":"
            "\"001085999999\"},\"channel\":\"counter\",\"documents\":[\"death_notice\","
            "\"declaration\"],\"fields\":{\"deceased_id\":\"" ELDER "\",\"death_date\":"
            "\"2026-04-19\"}}",
            LT_EINVAL, &err);
    assert_string_equal(err.field, "applicant.id");
    receive(f, &clerk,
            "{\"procedure\":\"land_mortgage\",\"applicant\":{\"kind\":\"person\",\"id\":\"12\"},"
            "\"channel\":\"counter\",\"documents\":[\"application\",\"contract\"],"
            "\"fields\":{\"parcel_id\":\"" PARCEL "\",\"mortgagee\":\"Ngân hàng A\"}}",
            LT_EINVAL, &err);
    assert_string_equal(err.field, "applicant.id"); /* malformed: said so, not "no person 12" */
    assert_null(strstr(err.message, "no person"));
    receive(f, &clerk,
            "{\"procedure\":\"land_mortgage\",\"applicant\":{\"kind\":\"person\",\"id\":\"" DEAD
            "\"},\"channel\":\"counter\",\"documents\":[\"application\",\"contract\"],"
            "\"fields\":{\"parcel_id\":\"" PARCEL "\",\"mortgagee\":\"Ngân hàng A\"}}",
            LT_EINVAL, &err);
    assert_string_equal(err.field, "applicant.id");
    receive(
        f, &clerk,
        "{\"procedure\":\"death_registration\",\"applicant\":{\"kind\":\"person\",\"id\":\"" FATHER
        "\"},\"channel\":\"counter\",\"documents\":[\"death_notice\",\"declaration\"],"
        "\"fields\":{\"deceased_id\":\"" DEAD "\",\"death_date\":\"2026-04-19\"}}",
        LT_EINVAL, &err);
    assert_string_equal(err.field, "fields.deceased_id");
    receive(f, &clerk,
            "{\"procedure\":\"land_transfer\",\"applicant\":{\"kind\":\"person\",\"id\":\"" BUYER
            "\"},\"channel\":\"counter\",\"documents\":[\"application\",\"contract\","
            "\"certificate\"],\"fields\":{\"parcel_id\":\"" PARCEL "\",\"transferee_id\":\"" MOTHER
            "\",\"contract_date\":\"2026-04-01\"}}",
            LT_EINVAL, &err);
    assert_string_equal(err.field, "fields.parcel_id");
    assert_non_null(strstr(err.message, "not held by the applicant"));
    receive(
        f, &clerk,
        "{\"procedure\":\"death_registration\",\"applicant\":{\"kind\":\"person\",\"id\":\"" FATHER
        "\"},\"channel\":\"counter\",\"documents\":[\"death_notice\",\"declaration\"],"
        "\"fields\":{\"deceased_id\":\"" ELDER "\",\"death_date\":\"2026-04-19\","
        "\"colour\":\"red\"}}",
        LT_EINVAL, &err);
    assert_string_equal(err.field, "fields.colour");
    receive(
        f, &clerk,
        "{\"procedure\":\"death_registration\",\"applicant\":{\"kind\":\"person\",\"id\":\"" FATHER
        "\"},\"channel\":\"counter\",\"documents\":[\"declaration\"],"
        "\"fields\":{\"deceased_id\":\"" ELDER "\",\"death_date\":\"2026-04-19\"}}",
        LT_EINVAL, &err);
    assert_string_equal(err.field, "documents");
    /* a citizen files online for themselves only */
    receive(
        f, &citizen,
        "{\"procedure\":\"marriage_registration\",\"applicant\":{\"kind\":\"person\",\"id\":\"" FATHER
        "\"},\"channel\":\"online\",\"documents\":[\"declaration\"],\"fields\":{"
        "\"spouse_id\":\"" MOTHER "\"}}",
        LT_EFORBIDDEN, &err);
    receive(
        f, &auditor,
        "{\"procedure\":\"marriage_registration\",\"applicant\":{\"kind\":\"person\",\"id\":\"" FATHER
        "\"},\"channel\":\"counter\",\"documents\":[\"declaration\"],\"fields\":{"
        "\"spouse_id\":\"" MOTHER "\"}}",
        LT_EFORBIDDEN, &err);
    receive(f, NULL, "{\"procedure\":\"marriage_registration\"}", LT_EUNAUTH, &err);
    {
        /* a child ID that says 2026 and male, for a girl */
        char girl[2048];
        char *sex;

        snprintf(girl, sizeof(girl), "%s", BIRTH_COMPOSITE);
        sex = strstr(girl, "\"male\"");

        memmove(sex + 3, sex + 1, strlen(sex + 1) + 1);
        memcpy(sex + 1, "fem", 3);
        receive(f, &clerk, girl, LT_EINVAL, &err);
        assert_string_equal(err.field, "fields.child_id");
    }

    assert_int_equal(log_head(f), head);
    assert_int_equal(oss_queue(f->o, &nation, &q, &page, &err), LT_OK);
    assert_int_equal(json_array_size(json_object_get(page, "dossiers")), 0);
    json_decref(page);
}

#define DEATH(applicant)                                                                           \
    "{\"procedure\":\"death_registration\",\"applicant\":{\"kind\":\"person\",\"id\":\"" applicant \
    "\"},\"channel\":\"counter\",\"documents\":[\"death_notice\",\"declaration\"],"                \
    "\"fields\":{\"deceased_id\":\"" ELDER "\",\"death_date\":\"2026-04-19\"}}"

static void test_refused_actions_change_nothing(void **state)
{
    struct fixture *f = *state;
    struct auth_principal clerk = principal(AUTH_CLERK, "00070", NULL);
    struct auth_principal officer = principal(AUTH_OFFICER, "00004", NULL);
    struct auth_principal other = principal(AUTH_OFFICER, "00070", NULL);
    struct auth_principal citizen = principal(AUTH_CITIZEN, "VN", ELDER);
    struct lt_error err;
    json_t *d = receive(f, &clerk, DEATH(FATHER), LT_OK, &err), *again = NULL;
    char code[16];
    int64_t head;

    snprintf(code, sizeof(code), "%s", S(d, "code"));
    json_decref(d);
    head = log_head(f);
    act(f, &officer, code, "{\"action\":\"approve\"}", LT_ECONFLICT, &err);
    assert_string_equal(err.message, "cannot approve a dossier that is received");
    assert_string_equal(err.detail, "the actions allowed now: review");
    act(f, &other, code, "{\"action\":\"review\"}", LT_EFORBIDDEN, &err);
    act(f, &clerk, code, "{\"action\":\"review\"}", LT_EFORBIDDEN, &err);
    /* a clerk never approves: told so, not which actions the status allows */
    act(f, &clerk, code, "{\"action\":\"approve\"}", LT_EFORBIDDEN, &err);
    assert_string_equal(err.message, "only an officer of the competent unit decides this dossier");
    act(f, &citizen, code, "{\"action\":\"review\"}", LT_EFORBIDDEN, &err);
    act(f, NULL, code, "{\"action\":\"review\"}", LT_EUNAUTH, &err);
    act(f, &officer, code, "{\"action\":\"dance\"}", LT_EINVAL, &err);
    act(f, &officer, code, "{\"action\":\"reject\"}", LT_EINVAL, &err);
    assert_string_equal(err.field, "reason");
    act(f, &officer, code, "{\"action\":\"review\",\"version\":7}", LT_ECONFLICT, &err);
    act(f, &officer, "ABC-DEF-GHJ", "{\"action\":\"review\"}", LT_EINVAL, &err);
    assert_int_equal(log_head(f), head);
    assert_int_equal(oss_get(f->o, &officer, code, &again, &err), LT_OK);
    assert_string_equal(S(again, "status"), "received");
    assert_int_equal(json_integer_value(json_object_get(again, "version")), 1);
    json_decref(again);

    /* review, then approve: the person is marked deceased */
    json_decref(act(f, &officer, code, "{\"action\":\"review\",\"version\":1}", LT_OK, &err));
    d = act(f, &officer, code, "{\"action\":\"approve\"}", LT_OK, &err);
    assert_string_equal(S(d, "status"), "approved");
    json_decref(d);
    assert_int_equal(registry_get(f->n, REG_PERSON, ELDER, &again, NULL, &err), LT_OK);
    assert_string_equal(S(again, "status"), "deceased");
    json_decref(again);
    /* a second death of the same person is refused at receipt */
    receive(f, &clerk, DEATH(FATHER), LT_EINVAL, &err);
    assert_string_equal(err.field, "fields.deceased_id");
}

#define TRANSFER                                                                                   \
    "{\"procedure\":\"land_transfer\",\"applicant\":{\"kind\":\"person\",\"id\":\"" FATHER         \
    "\"},\"channel\":\"counter\",\"documents\":[\"application\",\"contract\",\"certificate\"],"    \
    "\"fields\":{\"parcel_id\":\"" PARCEL "\",\"transferee_id\":\"" BUYER "\","                    \
    "\"contract_date\":\"2026-04-01\"}}"

/* Change members of a record directly in the registry, as another office would. */
static void change_record(struct fixture *f, enum registry_kind kind, const char *key,
                          json_t *changes)
{
    struct lt_error err;
    json_t *rec = NULL;
    int64_t v = 0;

    assert_int_equal(registry_get(f->n, kind, key, &rec, &v, &err), LT_OK);
    json_object_update(rec, changes);
    json_decref(changes);
    {
        struct registry_change ch = { .kind = kind,
                                      .record = rec,
                                      .base_version = v,
                                      .actor = "another office",
                                      .cause = "test",
                                      .effective = DATE_MIN };

        assert_int_equal(registry_write(f->n, &ch, NULL, &err), LT_OK);
    }
    json_decref(rec);
}

static void mark_deceased(struct fixture *f, const char *id, const char *day)
{
    change_record(f, REG_PERSON, id,
                  json_pack("{s:s, s:s}", "status", "deceased", "death_date", day));
}

static void test_parcel_changed_since_receipt(void **state)
{
    struct fixture *f = *state;
    struct auth_principal clerk = principal(AUTH_CLERK, "00070", NULL);
    struct auth_principal prov = principal(AUTH_OFFICER, "01", NULL);
    struct auth_principal commune = principal(AUTH_OFFICER, "00004", NULL);
    struct lt_error err;
    json_t *d = receive(f, &clerk, TRANSFER, LT_OK, &err), *rec = NULL;
    char code[16];
    int64_t head;

    snprintf(code, sizeof(code), "%s", S(d, "code"));
    assert_string_equal(S(d, "competent_unit"), "01"); /* a province-level procedure */
    json_decref(d);
    json_decref(act(f, &prov, code, "{\"action\":\"review\"}", LT_OK, &err));
    act(f, &commune, code, "{\"action\":\"approve\"}", LT_EFORBIDDEN, &err);

    /* the parcel changes under the dossier */
    change_record(f, REG_PARCEL, PARCEL, json_pack("{s:f}", "area_m2", 121.0));
    head = log_head(f);
    act(f, &prov, code, "{\"action\":\"approve\"}", LT_ECONFLICT, &err);
    assert_string_equal(err.message, "parcel " PARCEL " changed since the dossier was received");
    assert_string_equal(err.detail, "version 1 at receipt, 2 now");
    assert_int_equal(log_head(f), head);
    assert_int_equal(registry_get(f->n, REG_PARCEL, PARCEL, &rec, NULL, &err), LT_OK);
    assert_string_equal(S(json_array_get(json_object_get(rec, "holders"), 0), "id"), FATHER);
    json_decref(rec);
    assert_int_equal(oss_get(f->o, &prov, code, &d, &err), LT_OK);
    assert_string_equal(S(d, "status"), "in_review");
    json_decref(d);
    json_decref(act(f, &prov, code, "{\"action\":\"reject\",\"reason\":\"the parcel changed\"}",
                    LT_OK, &err));

    /* filed again, it goes through and the buyer holds the parcel */
    d = receive(f, &clerk, TRANSFER, LT_OK, &err);
    snprintf(code, sizeof(code), "%s", S(d, "code"));
    json_decref(d);
    json_decref(act(f, &prov, code, "{\"action\":\"review\"}", LT_OK, &err));
    json_decref(act(f, &prov, code, "{\"action\":\"approve\"}", LT_OK, &err));
    assert_int_equal(registry_get(f->n, REG_PARCEL, PARCEL, &rec, NULL, &err), LT_OK);
    assert_string_equal(S(json_array_get(json_object_get(rec, "holders"), 0), "id"), BUYER);
    json_decref(rec);
}

static void test_failed_effect_applies_nothing(void **state)
{
    struct fixture *f = *state;
    struct auth_principal clerk = principal(AUTH_CLERK, "00004", NULL);
    struct auth_principal officer = principal(AUTH_OFFICER, "00004", NULL);
    struct lt_error err;
    json_t *d, *rec = NULL;
    char code[16];
    int64_t head;

    /* a household that does not exist: refused at the counter, by trying the approval's
     * changes in a write that is rolled back, so that nothing is written */
    head = log_head(f);
    receive(f, &clerk,
            "{\"procedure\":\"permanent_residence\",\"applicant\":{\"kind\":\"person\","
            "\"id\":\"" BUYER "\"},\"channel\":\"counter\",\"documents\":[\"declaration\","
            "\"legal_residence\"],\"fields\":{\"person_id\":\"" BUYER "\",\"residence_unit\":"
            "\"00004\",\"address_line\":\"9 Phố Đội Cấn\",\"household_id\":\"HK-404\","
            "\"relation_to_head\":\"child\"}}",
            LT_EINVAL, &err);
    assert_non_null(strstr(err.message, "could not be approved"));
    assert_non_null(strstr(err.message, "household"));
    assert_string_equal(err.field, "fields.household_id");
    assert_int_equal(log_head(f), head);
    assert_int_equal(registry_get(f->n, REG_RESIDENCE, BUYER "/permanent", &rec, NULL, &err),
                     LT_OK);
    assert_string_equal(S(rec, "unit"), "00070"); /* unchanged */
    json_decref(rec);
    /* an unknown ethnic group: the registry's "ethnicity" is the form's child_ethnicity */
    {
        char req[sizeof(BIRTH_COMPOSITE)];
        char *at;

        memcpy(req, BIRTH_COMPOSITE, sizeof(req));
        at = strstr(req, "\"child_ethnicity\":\"01\"");
        assert_non_null(at);
        memcpy(at + strlen("\"child_ethnicity\":\""), "99", 2);
        receive(f, &clerk, req, LT_EINVAL, &err);
        assert_string_equal(err.field, "fields.child_ethnicity");
        assert_int_equal(log_head(f), head);
    }
    /* a composite whose third step would fail is refused at receipt, naming that step */
    receive(f, &clerk, BIRTH_COMPOSITE_HH, LT_EINVAL, &err);
    assert_non_null(strstr(err.detail, "residence"));
    assert_int_equal(log_head(f), head);
    assert_int_equal(registry_get(f->n, REG_PERSON, CHILD, &rec, NULL, &err), LT_ENOTFOUND);

    /* a composite step that fails at approval (the child was recorded deceased since the
     * birth step) leaves the earlier steps and itself as they were */
    d = receive(f, &clerk, BIRTH_COMPOSITE, LT_OK, &err);
    snprintf(code, sizeof(code), "%s", S(d, "code"));
    json_decref(d);
    json_decref(act(f, &officer, code, "{\"action\":\"review\"}", LT_OK, &err));
    json_decref(act(f, &officer, code, "{\"action\":\"approve\",\"step\":\"birth\"}", LT_OK, &err));
    mark_deceased(f, CHILD, "2026-04-20");
    head = log_head(f);
    act(f, &officer, code, "{\"action\":\"approve\",\"step\":\"residence\"}", LT_EINVAL, &err);
    assert_int_equal(log_head(f), head);
    assert_int_equal(registry_get(f->n, REG_RESIDENCE, CHILD "/permanent", &rec, NULL, &err),
                     LT_ENOTFOUND);
    assert_int_equal(oss_get(f->o, &officer, code, &d, &err), LT_OK);
    assert_string_equal(S(d, "status"), "in_review");
    assert_string_equal(S(json_array_get(json_object_get(d, "steps"), 0), "status"), "approved");
    assert_string_equal(S(json_array_get(json_object_get(d, "steps"), 1), "status"), "pending");
    json_decref(d);
}

static void test_applicant_died_since_receipt(void **state)
{
    struct fixture *f = *state;
    struct auth_principal clerk = principal(AUTH_CLERK, "00070", NULL);
    struct auth_principal prov = principal(AUTH_OFFICER, "01", NULL);
    struct lt_error err;
    json_t *d, *rec = NULL;
    char code[16];
    int64_t head;

    d = receive(f, &clerk,
                "{\"procedure\":\"land_mortgage\",\"applicant\":{\"kind\":\"person\",\"id\":"
                "\"" FATHER "\"},\"channel\":\"counter\",\"documents\":[\"application\","
                "\"contract\"],\"fields\":{\"parcel_id\":\"" PARCEL "\",\"mortgagee\":"
                "\"Ngân hàng A\",\"amount_vnd\":500000000}}",
                LT_OK, &err);
    snprintf(code, sizeof(code), "%s", S(d, "code"));
    json_decref(d);
    json_decref(act(f, &prov, code, "{\"action\":\"review\"}", LT_OK, &err));
    mark_deceased(f, FATHER, "2026-04-19");
    head = log_head(f);
    act(f, &prov, code, "{\"action\":\"approve\"}", LT_EINVAL, &err);
    assert_string_equal(err.field, "applicant.id");
    assert_int_equal(log_head(f), head);
    assert_int_equal(registry_get(f->n, REG_PARCEL, PARCEL, &rec, NULL, &err), LT_OK);
    assert_int_equal(json_array_size(json_object_get(rec, "encumbrances")), 0);
    json_decref(rec);
}

/* Receive req as a clerk of 00070, review and approve as an officer of unit. */
static void through(struct fixture *f, const char *req, const char *unit)
{
    struct auth_principal clerk = principal(AUTH_CLERK, "00070", NULL);
    struct auth_principal officer = principal(AUTH_OFFICER, unit, NULL);
    struct lt_error err;
    json_t *d = receive(f, &clerk, req, LT_OK, &err);
    char code[16];

    snprintf(code, sizeof(code), "%s", S(d, "code"));
    assert_string_equal(S(d, "competent_unit"), unit);
    json_decref(d);
    json_decref(act(f, &officer, code, "{\"action\":\"review\"}", LT_OK, &err));
    d = act(f, &officer, code, "{\"action\":\"approve\"}", LT_OK, &err);
    assert_string_equal(S(d, "status"), "approved");
    json_decref(d);
}

static json_t *record(struct fixture *f, enum registry_kind kind, const char *key)
{
    json_t *rec = NULL;
    struct lt_error err;

    if (registry_get(f->n, kind, key, &rec, NULL, &err) != LT_OK) {
        fail_msg("no %s %s: %s", registry_kind_name(kind), key, err.message);
    }
    return rec;
}

#define RESIDENCE(addr)                                                                            \
    "{\"procedure\":\"permanent_residence\",\"applicant\":{\"kind\":\"person\",\"id\":\"" BUYER    \
    "\"},\"channel\":\"counter\",\"documents\":[\"declaration\",\"legal_residence\"],"             \
    "\"fields\":{\"person_id\":\"" BUYER                                                           \
    "\",\"residence_unit\":\"00004\",\"address_line\":\"" addr "\"}}"

/* Two dossiers for one person's residence: the second, approved after the first, is refused. */
static void test_residence_changed_since_receipt(void **state)
{
    struct fixture *f = *state;
    struct auth_principal clerk = principal(AUTH_CLERK, "00070", NULL);
    struct lt_error err;
    json_t *a = receive(f, &clerk, RESIDENCE("1 Phố Kim Mã"), LT_OK, &err);
    json_t *b = receive(f, &clerk, RESIDENCE("2 Phố Kim Mã"), LT_OK, &err), *rec, *d;
    struct auth_principal officer = principal(AUTH_OFFICER, S(a, "competent_unit"), NULL);
    char ca[16], cb[16];
    int64_t head;

    snprintf(ca, sizeof(ca), "%s", S(a, "code"));
    snprintf(cb, sizeof(cb), "%s", S(b, "code"));
    json_decref(a);
    json_decref(b);
    json_decref(act(f, &officer, ca, "{\"action\":\"review\"}", LT_OK, &err));
    json_decref(act(f, &officer, cb, "{\"action\":\"review\"}", LT_OK, &err));
    json_decref(act(f, &officer, ca, "{\"action\":\"approve\"}", LT_OK, &err));

    head = log_head(f);
    act(f, &officer, cb, "{\"action\":\"approve\"}", LT_ECONFLICT, &err);
    assert_string_equal(err.message,
                        "residence " BUYER "/permanent changed since the dossier was received");
    assert_int_equal(log_head(f), head);
    rec = record(f, REG_RESIDENCE, BUYER "/permanent");
    assert_string_equal(S(rec, "address_line"), "1 Phố Kim Mã");
    json_decref(rec);
    assert_int_equal(oss_get(f->o, &officer, cb, &d, &err), LT_OK);
    assert_string_equal(S(d, "status"), "in_review");
    json_decref(d);

    /* filed again, it sees the first one's residence and goes through */
    through(f, RESIDENCE("2 Phố Kim Mã"), officer.unit);
    rec = record(f, REG_RESIDENCE, BUYER "/permanent");
    assert_string_equal(S(rec, "address_line"), "2 Phố Kim Mã");
    json_decref(rec);
}

/*
 * A household business registration of a new code from first10 (its check
 * digit put right) into code, and its receipt request into req.
 */
static void household_business(char code[11], char *req, size_t cap, const char *first10)
{
    int n;

    memcpy(code, first10, 11);
    for (int d = 0; d <= 9; d++) {
        code[9] = (char)('0' + d);
        if (ids_enterprise_code_check(code, NULL) == LT_OK) {
            break;
        }
    }
    n = snprintf(req, cap,
                 "{\"procedure\":\"household_business\",\"applicant\":{\"kind\":\"person\","
                 "\"id\":\"" BUYER "\"},\"channel\":\"counter\",\"documents\":["
                 "\"application\"],\"fields\":{\"business_code\":\"%s\",\"business_name\":"
                 "\"Hộ kinh doanh Dũng\",\"business_unit\":\"00070\",\"address_line\":"
                 "\"5 Hàng Bài\",\"capital_vnd\":100000000,\"industry_code\":\"4711\"}}",
                 code);
    assert_true(n > 0 && (size_t)n < cap);
}

static void test_single_procedures_apply_their_effects(void **state)
{
    struct fixture *f = *state;
    char req[1024], code[16];
    json_t *rec;

    through(f,
            "{\"procedure\":\"land_mortgage\",\"applicant\":{\"kind\":\"person\",\"id\":\"" FATHER
            "\"},\"channel\":\"counter\",\"documents\":[\"application\",\"contract\"],"
            "\"fields\":{\"parcel_id\":\"" PARCEL "\",\"mortgagee\":\"Ngân hàng A\","
            "\"amount_vnd\":500000000}}",
            "01");
    rec = record(f, REG_PARCEL, PARCEL);
    assert_string_equal(S(json_array_get(json_object_get(rec, "encumbrances"), 0), "holder"),
                        "Ngân hàng A");
    json_decref(rec);

    through(f,
            "{\"procedure\":\"land_first_certificate\",\"applicant\":{\"kind\":\"person\","
            "\"id\":\"" MOTHER "\"},\"channel\":\"counter\",\"documents\":[\"application\"],"
            "\"fields\":{\"parcel_id\":\"00004-3-7\",\"area_m2\":80.5,\"purpose\":\"ODT\","
            "\"certificate_no\":\"CS-0001\"}}",
            "00004");
    rec = record(f, REG_PARCEL, "00004-3-7");
    assert_string_equal(S(json_array_get(json_object_get(rec, "holders"), 0), "id"), MOTHER);
    json_decref(rec);

    through(f,
            "{\"procedure\":\"social_assistance\",\"applicant\":{\"kind\":\"person\",\"id\":"
            "\"" MOTHER "\"},\"channel\":\"counter\",\"documents\":[\"declaration\"],"
            "\"fields\":{\"beneficiary_id\":\"" MOTHER "\",\"category\":\"poor_single_parent\","
            "\"monthly_amount_vnd\":500000}}",
            "00004");
    rec = record(f, REG_BENEFIT, MOTHER "/social_assistance");
    assert_int_equal(json_integer_value(json_object_get(rec, "monthly_amount_vnd")), 500000);
    json_decref(rec);

    /* a household business, then its move to another ward (a province-level procedure) */
    household_business(code, req, sizeof(req), "0100000010");
    through(f, req, "00070");
    rec = record(f, REG_BUSINESS, code);
    assert_string_equal(S(rec, "legal_form"), "household_business");
    json_decref(rec);
    /* the same business again: refused at the counter */
    {
        struct auth_principal clerk = principal(AUTH_CLERK, "00070", NULL);
        struct auth_principal officer = principal(AUTH_OFFICER, "00070", NULL);
        struct lt_error err;
        char first[16], second[16];
        json_t *d;

        receive(f, &clerk, req, LT_EINVAL, &err);
        assert_non_null(strstr(err.message, "is already registered"));
        /* two dossiers for one new business, both received before either is approved:
         * the second approval is refused with a word for the officer, not for the API */
        household_business(code, req, sizeof(req), "0100000020");
        d = receive(f, &clerk, req, LT_OK, &err);
        snprintf(first, sizeof(first), "%s", S(d, "code"));
        json_decref(d);
        d = receive(f, &clerk, req, LT_OK, &err);
        snprintf(second, sizeof(second), "%s", S(d, "code"));
        json_decref(d);
        json_decref(act(f, &officer, first, "{\"action\":\"review\"}", LT_OK, &err));
        json_decref(act(f, &officer, first, "{\"action\":\"approve\"}", LT_OK, &err));
        json_decref(act(f, &officer, second, "{\"action\":\"review\"}", LT_OK, &err));
        act(f, &officer, second, "{\"action\":\"approve\"}", LT_ECONFLICT, &err);
        assert_non_null(strstr(err.message, "already exists"));
        assert_string_equal(err.hint, "another dossier or office registered it first");
    }
    snprintf(req, sizeof(req),
             "{\"procedure\":\"business_address_change\",\"applicant\":{\"kind\":\"business\","
             "\"id\":\"%s\"},\"channel\":\"counter\",\"documents\":[\"notice\"],\"fields\":"
             "{\"business_code\":\"%s\",\"new_unit\":\"00070\",\"address_line\":"
             "\"9 Hàng Bài\"}}",
             f->business, f->business);
    through(f, req, "01");
    rec = record(f, REG_BUSINESS, f->business);
    assert_string_equal(S(rec, "unit"), "00070");
    json_decref(rec);
}

static void test_death_composite_and_pause(void **state)
{
    struct fixture *f = *state;
    struct auth_principal clerk = principal(AUTH_CLERK, "00070", NULL);
    struct auth_principal officer = principal(AUTH_OFFICER, "01", NULL);
    struct lt_error err;
    json_t *d, *rec = NULL;
    char code[16];

    fixture_at(f, "2026-04-20", 10, 0); /* Monday */
    put(f, REG_BENEFIT,
        "{\"person_id\":\"" ELDER "\",\"scheme\":\"health_insurance\",\"card_no\":"
        "\"HT2010040000003\",\"start_date\":\"2026-01-01\",\"end_date\":\"2026-12-31\","
        "\"status\":\"active\"}");
    d = receive(f, &clerk,
                "{\"procedure\":\"death_residence_funeral\",\"applicant\":{\"kind\":\"person\","
                "\"id\":\"" FATHER "\"},\"channel\":\"counter\",\"documents\":[\"death_notice\","
                "\"declaration\"],\"fields\":{\"deceased_id\":\"" ELDER "\",\"death_date\":"
                "\"2026-04-18\",\"amount_vnd\":7200000}}",
                LT_OK, &err);
    snprintf(code, sizeof(code), "%s", S(d, "code"));
    assert_string_equal(S(d, "due_date"), "2026-04-28"); /* 5 working days, 27/4 off */
    json_decref(d);
    json_decref(act(f, &officer, code, "{\"action\":\"review\"}", LT_OK, &err));
    fixture_at(f, "2026-04-21", 11, 0);
    act(f, &officer, code, "{\"action\":\"request_info\"}", LT_EINVAL, &err);
    assert_string_equal(err.field, "note"); /* the applicant must be told what to bring */
    act(f, &officer, code, "{\"action\":\"request_info\",\"note\":7}", LT_EINVAL, &err);
    assert_string_equal(err.message, "note must be text, not a number");
    json_decref(act(f, &officer, code,
                    "{\"action\":\"request_info\",\"note\":\"bring the "
                    "death notice original\"}",
                    LT_OK, &err));
    act(f, &officer, code, "{\"action\":\"approve\",\"step\":\"death\"}", LT_ECONFLICT, &err);
    assert_string_equal(err.detail, "the actions allowed now: resume");
    /* paused Tuesday 21 .. Thursday 23: two working days pass */
    fixture_at(f, "2026-04-23", 9, 0);
    d = act(f, &clerk, code, "{\"action\":\"resume\"}", LT_OK, &err);
    /* 28/4 + 2 working days: 30/4 and 1/5 are holidays, so 29 April and 4 May */
    assert_string_equal(S(d, "due_date"), "2026-05-04");
    json_decref(d);
    json_decref(act(f, &officer, code, "{\"action\":\"approve\",\"step\":\"death\"}", LT_OK, &err));
    json_decref(
        act(f, &officer, code, "{\"action\":\"approve\",\"step\":\"residence\"}", LT_OK, &err));
    d = act(f, &officer, code, "{\"action\":\"approve\",\"step\":\"funeral\"}", LT_OK, &err);
    assert_string_equal(S(d, "status"), "approved");
    json_decref(d);
    assert_int_equal(registry_get(f->n, REG_RESIDENCE, ELDER "/permanent", &rec, NULL, &err),
                     LT_OK);
    assert_string_equal(S(rec, "to_date"), "2026-04-18");
    json_decref(rec);
    assert_int_equal(registry_get(f->n, REG_BENEFIT, ELDER "/social_assistance", &rec, NULL, &err),
                     LT_OK);
    assert_string_equal(S(rec, "category"), "funeral_allowance");
    assert_string_equal(S(rec, "status"), "ended");
    json_decref(rec);
    /* the health insurance card ended on the day of death */
    assert_int_equal(registry_get(f->n, REG_BENEFIT, ELDER "/health_insurance", &rec, NULL, &err),
                     LT_OK);
    assert_string_equal(S(rec, "status"), "ended");
    assert_string_equal(S(rec, "end_date"), "2026-04-18");
    json_decref(rec);
}

static void test_queue_indicators_and_reading(void **state)
{
    struct fixture *f = *state;
    struct auth_principal clerk = principal(AUTH_CLERK, "00070", NULL);
    struct auth_principal officer = principal(AUTH_OFFICER, "01", NULL);
    struct auth_principal commune = principal(AUTH_OFFICER, "00004", NULL);
    struct auth_principal citizen = principal(AUTH_CITIZEN, "VN", BUYER);
    struct auth_principal stranger = principal(AUTH_CITIZEN, "VN", MOTHER);
    struct lt_error err;
    json_t *d, *page = NULL, *ind = NULL, *pub = NULL;
    char first[16], cursor[64];
    struct oss_queue_query q = { .unit = "01", .limit = 2 };
    int32_t d0 = 0, d1 = 0;

    fixture_at(f, "2026-04-20", 9, 0);
    d = receive(f, &clerk, DEATH(FATHER), LT_OK, &err); /* same day: due 20/4 */
    snprintf(first, sizeof(first), "%s", S(d, "code"));
    json_decref(d);
    json_decref(receive(f, &clerk, TRANSFER, LT_OK, &err)); /* 10 working days */
    json_decref(receive(f, &citizen,
                        "{\"procedure\":\"temporary_residence\",\"applicant\":{\"kind\":"
                        "\"person\",\"id\":\"" BUYER "\"},\"channel\":\"online\",\"documents\":["
                        "\"declaration\",\"legal_residence\"],\"fields\":{\"person_id\":\"" BUYER
                        "\",\"residence_unit\":\"00004\",\"address_line\":\"2 Phố Đội Cấn\"}}",
                        LT_OK, &err)); /* 3 working days */

    fixture_at(f, "2026-04-22", 9, 0);
    assert_int_equal(oss_queue(f->o, &officer, &q, &page, &err), LT_OK);
    assert_int_equal(json_array_size(json_object_get(page, "dossiers")), 2);
    d = json_array_get(json_object_get(page, "dossiers"), 0);
    assert_string_equal(S(d, "code"), first);
    assert_true(json_is_true(json_object_get(d, "overdue")));
    d = json_array_get(json_object_get(page, "dossiers"), 1);
    assert_string_equal(S(json_object_get(d, "procedure"), "code"), "temporary_residence");
    assert_false(json_is_true(json_object_get(d, "overdue")));
    snprintf(cursor, sizeof(cursor), "%s", S(page, "next"));
    json_decref(page);
    q.after = cursor;
    assert_int_equal(oss_queue(f->o, &officer, &q, &page, &err), LT_OK);
    assert_int_equal(json_array_size(json_object_get(page, "dossiers")), 1);
    assert_true(json_is_null(json_object_get(page, "next")));
    json_decref(page);

    /* a commune sees its own; overdue only; a unit outside the jurisdiction is refused */
    q = (struct oss_queue_query){ .unit = "00004", .due = "overdue" };
    assert_int_equal(oss_queue(f->o, &commune, &q, &page, &err), LT_OK);
    assert_int_equal(json_array_size(json_object_get(page, "dossiers")), 1);
    json_decref(page);
    q = (struct oss_queue_query){ .unit = "79" };
    assert_int_equal(oss_queue(f->o, &commune, &q, &page, &err), LT_EFORBIDDEN);
    q = (struct oss_queue_query){ .unit = "00070", .side = "received" };
    assert_int_equal(oss_queue(f->o, &clerk, &q, &page, &err), LT_OK);
    assert_int_equal(json_array_size(json_object_get(page, "dossiers")), 2);
    json_decref(page);
    /* the citizen sees their own dossier only */
    q = (struct oss_queue_query){ 0 };
    assert_int_equal(oss_queue(f->o, &citizen, &q, &page, &err), LT_OK);
    assert_int_equal(json_array_size(json_object_get(page, "dossiers")), 1);
    json_decref(page);
    assert_int_equal(oss_get(f->o, &stranger, first, &d, &err), LT_EFORBIDDEN);
    assert_int_equal(oss_public(f->o, first, &pub, &err), LT_OK);
    assert_string_equal(S(pub, "status"), "received");
    assert_null(json_object_get(pub, "applicant"));
    assert_null(json_object_get(pub, "fields"));
    json_decref(pub);

    /* settle the death late (due 20/4, decided 22/4) */
    json_decref(act(f, &commune, first, "{\"action\":\"review\"}", LT_OK, &err));
    json_decref(act(f, &commune, first, "{\"action\":\"approve\"}", LT_OK, &err));
    date_parse("2026-04-01", &d0, NULL);
    date_parse("2026-04-30", &d1, NULL);
    assert_int_equal(oss_indicators(f->o, &officer, "01", d0, d1, &ind, &err), LT_OK);
    assert_int_equal(json_integer_value(json_object_get(ind, "received")), 3);
    assert_int_equal(json_integer_value(json_object_get(ind, "settled")), 1);
    assert_int_equal(json_integer_value(json_object_get(ind, "settled_late")), 1);
    assert_int_equal(json_integer_value(json_object_get(ind, "settled_on_time")), 0);
    assert_int_equal(json_integer_value(json_object_get(ind, "open")), 2);
    assert_int_equal(json_integer_value(json_object_get(ind, "overdue")), 0);
    assert_true(json_real_value(json_object_get(ind, "online_share")) > 0.33 &&
                json_real_value(json_object_get(ind, "online_share")) < 0.34);
    json_decref(ind);
    assert_int_equal(oss_indicators(f->o, &officer, "00004", d0, d1, &ind, &err), LT_OK);
    assert_int_equal(json_integer_value(json_object_get(ind, "received")), 2);
    json_decref(ind);
    assert_int_equal(oss_indicators(f->o, NULL, "00004", d0, d1, &ind, &err), LT_EUNAUTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_composite_birth_end_to_end, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_writes_nothing, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refused_actions_change_nothing, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_parcel_changed_since_receipt, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_failed_effect_applies_nothing, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_residence_changed_since_receipt, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_single_procedures_apply_their_effects, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_applicant_died_since_receipt, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_death_composite_and_pause, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(test_queue_indicators_and_reading, fixture_setup,
                                        fixture_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
