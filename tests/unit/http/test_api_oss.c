/*
 * Tests for src/http/api_oss.c: the one-stop shop endpoints in process,
 * through a real server and libcurl.  A test guard takes the principal
 * from an "X-Test-Principal: role:unit:person" header (none: anonymous),
 * standing in for the login guard.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "../oss/fixture.h"
#include "audit/audit.h"
#include "http/api_oss.h"
#include "http/api_registry.h"

struct web {
    struct fixture *f;
    struct audit *audit;
    struct http_server *s;
    char base[64];
};

static enum lt_code test_guard(struct http_request *req, void *ctx, struct lt_error *err)
{
    const char *h = http_request_header(req, "X-Test-Principal");
    char role[16] = "", unit[16] = "", person[16] = "";
    struct auth_principal p;

    (void)ctx;
    (void)err;
    if (h == NULL) {
        return LT_OK;
    }
    sscanf(h, "%15[^:]:%15[^:]:%15s", role, unit, person);
    p = principal(strcmp(role, "clerk") == 0     ? AUTH_CLERK
                  : strcmp(role, "officer") == 0 ? AUTH_OFFICER
                                                 : AUTH_CITIZEN,
                  unit, person);
    http_request_set_principal(req, &p);
    return LT_OK;
}

static int web_setup(void **state)
{
    struct web *w = calloc(1, sizeof(*w));
    struct http_config cfg;
    struct lt_error err;

    if (fixture_setup((void **)&w->f) != 0) {
        return -1;
    }
    http_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.threads = 2;
    w->s = http_server_new(&cfg, &err);
    http_server_set_guard(w->s, test_guard, NULL);
    if (audit_new(node_store(w->f->n), node_evlog(w->f->n), NULL, &w->audit, &err) != LT_OK) {
        return -1;
    }
    api_registry_set_audit(w->audit);
    api_oss_register(w->s, w->f->o);
    if (http_server_start(w->s, &err) != LT_OK) {
        return -1;
    }
    snprintf(w->base, sizeof(w->base), "%s", http_server_url(w->s));
    *state = w;
    return 0;
}

static int web_teardown(void **state)
{
    struct web *w = *state;
    void *f = w->f;

    http_server_free(w->s);
    api_registry_set_audit(NULL);
    audit_free(w->audit);
    free(w);
    return fixture_teardown(&f);
}

struct answer {
    long status;
    char type[64];
    struct buf body;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;

    buf_append(&a->body, p, size * n);
    return size * n;
}

/* One request; who is "role:unit:person" or NULL. */
static void call(struct web *w, const char *method, const char *path, const char *who,
                 const char *body, struct answer *a)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char url[512], hdr[128];
    char *ct = NULL;

    memset(a, 0, sizeof(*a));
    buf_init(&a->body, 1 << 20);
    snprintf(url, sizeof(url), "%s%s", w->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (who != NULL) {
        snprintf(hdr, sizeof(hdr), "X-Test-Principal: %s", who);
        h = curl_slist_append(h, hdr);
    }
    if (body != NULL) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(a->type, sizeof(a->type), "%s", ct ? ct : "");
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static json_t *json_of(struct answer *a)
{
    json_t *j = json_loads(buf_str(&a->body), 0, NULL);

    assert_non_null(j);
    return j;
}

static const char *S(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s ? s : "";
}

#define CLERK   "clerk:00070"
#define OFFICER "officer:00004"
#define PROV    "officer:01"

#define BIRTH                                                                                      \
    "{\"procedure\":\"birth_residence_health_insurance\",\"applicant\":{\"kind\":\"person\","      \
    "\"id\":\"" FATHER "\"},\"channel\":\"counter\",\"documents\":[\"birth_certificate\","         \
    "\"declaration\"],\"fields\":{\"child_id\":\"" CHILD "\",\"child_full_name\":"                 \
    "\"Nguyễn Văn Bé\",\"child_birth_date\":\"2026-04-10\",\"child_sex\":\"male\","            \
    "\"child_ethnicity\":\"01\",\"father_id\":\"" FATHER "\",\"mother_id\":\"" MOTHER "\","        \
    "\"residence_unit\":\"00004\",\"address_line\":\"1 Phố Đội Cấn\",\"card_no\":\"TE101\"}}"

static void test_anonymous_sees_only_the_open_endpoints(void **state)
{
    struct web *w = *state;
    struct answer a;
    json_t *j;

    call(w, "GET", "/api/v1/procedures?date=2025-07-01", NULL, NULL, &a);
    assert_int_equal(a.status, 200);
    j = json_of(&a);
    assert_int_equal(json_array_size(json_object_get(j, "procedures")), 16);
    json_decref(j);
    buf_release(&a.body);
    call(w, "GET", "/api/v1/procedures/household_business?date=2024-01-01", NULL, NULL, &a);
    assert_int_equal(a.status, 200);
    j = json_of(&a);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    assert_true(json_array_size(json_object_get(j, "fields")) > 0);
    json_decref(j);
    buf_release(&a.body);
    call(w, "GET", "/api/v1/procedures/nothing", NULL, NULL, &a);
    assert_int_equal(a.status, 404);
    buf_release(&a.body);

    static const char *const closed[][2] = {
        { "GET", "/api/v1/dossiers" },           { "GET", "/api/v1/dossiers/ABC-DEF-GHJ" },
        { "POST", "/api/v1/dossiers" },          { "POST", "/api/v1/dossiers/ABC-DEF-GHJ/actions" },
        { "GET", "/api/v1/indicators?unit=01" },
    };
    for (size_t i = 0; i < sizeof(closed) / sizeof(closed[0]); i++) {
        call(w, closed[i][0], closed[i][1], NULL, closed[i][0][0] == 'P' ? "{}" : NULL, &a);
        assert_int_equal(a.status, 401);
        buf_release(&a.body);
    }
}

static void test_counter_to_result_over_http(void **state)
{
    struct web *w = *state;
    struct answer a;
    json_t *j;
    char code[16], path[128];

    call(w, "POST", "/api/v1/dossiers", CLERK, BIRTH, &a);
    assert_int_equal(a.status, 201);
    j = json_of(&a);
    snprintf(code, sizeof(code), "%s", S(j, "code"));
    assert_string_equal(S(j, "competent_unit"), "00004");
    json_decref(j);
    buf_release(&a.body);

    snprintf(path, sizeof(path), "/api/v1/dossiers/%s/actions", code);
    call(w, "POST", path, OFFICER, "{\"action\":\"approve\",\"step\":\"birth\"}", &a);
    assert_int_equal(a.status, 409);
    j = json_of(&a);
    assert_string_equal(S(json_object_get(j, "error"), "detail"),
                        "the actions allowed now: review");
    json_decref(j);
    buf_release(&a.body);
    call(w, "POST", path, OFFICER, "{\"action\":\"review\"}", &a);
    assert_int_equal(a.status, 200);
    buf_release(&a.body);
    call(w, "POST", path, OFFICER, "{\"action\":\"approve\",\"step\":\"birth\"}", &a);
    assert_int_equal(a.status, 200);
    buf_release(&a.body);
    call(w, "POST", path, OFFICER, "{\"action\":\"approve\",\"step\":\"residence\"}", &a);
    assert_int_equal(a.status, 200);
    buf_release(&a.body);
    call(w, "POST", path, OFFICER, "{\"action\":\"approve\",\"step\":\"health_insurance\"}", &a);
    assert_int_equal(a.status, 403);
    buf_release(&a.body);
    call(w, "POST", path, PROV, "{\"action\":\"approve\",\"step\":\"health_insurance\"}", &a);
    assert_int_equal(a.status, 200);
    j = json_of(&a);
    assert_string_equal(S(j, "status"), "approved");
    json_decref(j);
    buf_release(&a.body);

    /* the dossier, for the receiving clerk */
    snprintf(path, sizeof(path), "/api/v1/dossiers/%s", code);
    call(w, "GET", path, CLERK, NULL, &a);
    assert_int_equal(a.status, 200);
    j = json_of(&a);
    assert_int_equal(json_array_size(json_object_get(j, "timeline")), 5);
    assert_string_equal(S(json_array_get(json_object_get(j, "steps"), 2), "status"), "approved");
    json_decref(j);
    buf_release(&a.body);
    call(w, "GET", path, "citizen:VN:" MOTHER, NULL, &a);
    assert_int_equal(a.status, 403);
    buf_release(&a.body);

    /* the read is in the audit trail as a read of the dossier about the applicant and
     * about each person named, under the dossier's code for want of an X-Purpose */
    {
        struct audit_filter flt = {
            .subject_kind = "dossier", .subject_key = code, .limit = 10, .subject_today = DATE_MIN
        };
        const char *const named[] = { FATHER, MOTHER, CHILD };
        struct lt_error err;
        json_t *page = NULL;

        assert_int_equal(audit_flush(w->audit, &err), LT_OK);
        for (size_t i = 0; i < 3; i++) {
            const json_t *item;

            flt.person = named[i];
            assert_int_equal(audit_query(node_store(w->f->n), &flt, &page, &err), LT_OK);
            item = json_array_get(json_object_get(page, "items"), 0);
            assert_non_null(item);
            assert_string_equal(S(item, "purpose"), code);
            assert_string_equal(S(item, "actor"), "clerk-00070");
            json_decref(page);
        }
    }

    /* the public look-up, JSON and HTML, carries nothing personal */
    snprintf(path, sizeof(path), "/api/v1/public/dossiers/%s", code);
    call(w, "GET", path, NULL, NULL, &a);
    assert_int_equal(a.status, 200);
    assert_null(strstr(buf_str(&a.body), FATHER));
    assert_non_null(strstr(buf_str(&a.body), "\"status\":\"approved\""));
    buf_release(&a.body);
    snprintf(path, sizeof(path), "/lookup?code=%s", code);
    call(w, "GET", path, NULL, NULL, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.type, "text/html; charset=utf-8");
    assert_non_null(strstr(buf_str(&a.body), "<form method=\"get\" action=\"/lookup\">"));
    assert_non_null(strstr(buf_str(&a.body), "(approved)"));
    assert_null(strstr(buf_str(&a.body), FATHER));
    assert_null(strstr(buf_str(&a.body), "<script"));
    buf_release(&a.body);
    call(w, "GET", "/lookup?code=%3Cscript%3E", NULL, NULL, &a);
    assert_int_equal(a.status, 400);
    assert_null(strstr(buf_str(&a.body), "<script>"));
    buf_release(&a.body);
    call(w, "GET", "/lookup", NULL, NULL, &a);
    assert_int_equal(a.status, 200);
    buf_release(&a.body);
}

static void test_refusals_over_http_write_nothing(void **state)
{
    struct web *w = *state;
    struct answer a;
    json_t *j;

    call(w, "POST", "/api/v1/dossiers", CLERK,
         "{\"procedure\":\"death_registration\",\"applicant\":{\"kind\":\"person\",\"id\":\"" FATHER
         "\"},\"channel\":\"counter\",\"documents\":[\"death_notice\",\"declaration\"],"
         "\"fields\":{\"deceased_id\":\"" ELDER "\"}}",
         &a);
    assert_int_equal(a.status, 400);
    j = json_of(&a);
    assert_string_equal(S(json_object_get(j, "error"), "field"), "fields.death_date");
    json_decref(j);
    buf_release(&a.body);
    call(w, "POST", "/api/v1/dossiers", CLERK, "{\"procedure\":\"nope\"}", &a);
    assert_int_equal(a.status, 404);
    buf_release(&a.body);
    call(w, "POST", "/api/v1/dossiers", CLERK, "not json", &a);
    assert_int_equal(a.status, 400);
    buf_release(&a.body);
    call(w, "GET", "/api/v1/dossiers?unit=VN", "officer:VN", NULL, &a);
    assert_int_equal(a.status, 200);
    j = json_of(&a);
    assert_int_equal(json_array_size(json_object_get(j, "dossiers")), 0);
    json_decref(j);
    buf_release(&a.body);
    call(w, "GET", "/api/v1/dossiers?unit=79", OFFICER, NULL, &a);
    assert_int_equal(a.status, 403);
    buf_release(&a.body);
    call(w, "GET", "/api/v1/dossiers?limit=0", OFFICER, NULL, &a);
    assert_int_equal(a.status, 400);
    buf_release(&a.body);
}

static void test_queue_and_indicators_over_http(void **state)
{
    struct web *w = *state;
    struct answer a;
    json_t *j;
    char path[160];

    for (int i = 0; i < 3; i++) {
        call(w, "POST", "/api/v1/dossiers", CLERK,
             "{\"procedure\":\"marriage_registration\",\"applicant\":{\"kind\":\"person\",\"id\":"
             "\"" FATHER "\"},\"channel\":\"counter\",\"documents\":[\"declaration\"],\"fields\":"
             "{\"spouse_id\":\"" MOTHER "\"}}",
             &a);
        assert_int_equal(a.status, 201);
        buf_release(&a.body);
    }
    call(w, "GET", "/api/v1/dossiers?unit=01&limit=2", PROV, NULL, &a);
    assert_int_equal(a.status, 200);
    j = json_of(&a);
    assert_int_equal(json_array_size(json_object_get(j, "dossiers")), 2);
    snprintf(path, sizeof(path), "/api/v1/dossiers?unit=01&limit=2&after=%s", S(j, "next"));
    json_decref(j);
    buf_release(&a.body);
    call(w, "GET", path, PROV, NULL, &a);
    j = json_of(&a);
    assert_int_equal(json_array_size(json_object_get(j, "dossiers")), 1);
    assert_true(json_is_null(json_object_get(j, "next")));
    json_decref(j);
    /* the queue names applicants: each page is a list of them in the audit trail */
    {
        struct audit_filter flt = { .subject_kind = "dossier",
                                    .person = FATHER,
                                    .actor = "officer-01",
                                    .limit = 10,
                                    .subject_today = DATE_MIN };
        struct lt_error err;
        json_t *page = NULL;
        const json_t *item;

        assert_int_equal(audit_flush(w->audit, &err), LT_OK);
        assert_int_equal(audit_query(node_store(w->f->n), &flt, &page, &err), LT_OK);
        /* the three dossiers, over two pages */
        assert_int_equal(json_array_size(json_object_get(page, "items")), 3);
        item = json_array_get(json_object_get(page, "items"), 0);
        assert_string_equal(S(item, "action"), "list");
        assert_string_equal(S(item, "purpose"), "the queue of dossiers");
        json_decref(page);
    }
    buf_release(&a.body);
    call(w, "GET", "/api/v1/indicators?unit=00004&from=2026-04-01&to=2026-04-30", PROV, NULL, &a);
    assert_int_equal(a.status, 200);
    j = json_of(&a);
    assert_int_equal(json_integer_value(json_object_get(j, "received")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "open")), 3);
    json_decref(j);
    buf_release(&a.body);
    call(w, "GET", "/api/v1/indicators?unit=00004&from=2026-04-30&to=2026-04-01", PROV, NULL, &a);
    assert_int_equal(a.status, 400);
    buf_release(&a.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_anonymous_sees_only_the_open_endpoints, web_setup,
                                        web_teardown),
        cmocka_unit_test_setup_teardown(test_counter_to_result_over_http, web_setup, web_teardown),
        cmocka_unit_test_setup_teardown(test_refusals_over_http_write_nothing, web_setup,
                                        web_teardown),
        cmocka_unit_test_setup_teardown(test_queue_and_indicators_over_http, web_setup,
                                        web_teardown),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
