/*
 * oss_bench.c - the one-stop shop under load, in process, for bench/oss.sh.
 *
 *   oss_bench DIR FLOW THREADS QUEUE
 *
 * Makes a fresh durable node in DIR (Hà Nội, 01), registers FLOW + a few
 * thousand people with permanent residences spread over the province's
 * communes, then:
 *
 *  1. flow: THREADS threads each take their share of FLOW dossiers of
 *     temporary residence registration through receive, review and
 *     approve (three writes, each an event; the approval also writes the
 *     residence record), each write waiting for its commit as a request
 *     would; prints dossiers per second (wall) and CPU seconds.
 *  2. queue: QUEUE more dossiers (marriage registration, left open) are
 *     received over the past 60 days, then the officer's queue of the
 *     province (oss_queue: first page of 50, a page deep in the queue via
 *     its cursor, and the overdue ones) is read 300 times each; prints the
 *     median and the 99th percentile in milliseconds.
 *
 * Results are lines "name value unit" for the script to collect.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/date.h"
#include "evlog/evlog.h"
#include "oss/oss.h"
#include "registry/registry.h"

#define COMMUNES_MAX 128

static struct node *node;
static struct oss *shop;
static const struct unit *communes[COMMUNES_MAX];
static size_t ncommunes;
static _Thread_local int64_t thread_now; /* 0: the wall clock */

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t bench_clock(void *arg)
{
    (void)arg;
    return thread_now != 0 ? thread_now : wall_ms();
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, const struct lt_error *err)
{
    fprintf(stderr, "oss_bench: %s: %s (%s)\n", what, err->message, err->detail);
    exit(1);
}

static void person_id(int i, char out[16])
{
    unsigned k = (unsigned)i;

    snprintf(out, 16, "0010%02u%06u", (60 + k / 1000000) % 100, k % 1000000);
}

static enum lt_code init_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    (void)arg;
    return evlog_init_node(c, "bench", "01", err);
}

static void open_node(const char *dir)
{
    struct store_options o;
    struct store *s = NULL;
    struct lt_error err;

    store_options_default(&o);
    o.create = true;
    if (store_open(dir, &o, &s, &err) != LT_OK || store_write(s, init_fn, NULL, &err) != LT_OK) {
        die("init", &err);
    }
    store_close(s);
    o.create = false;
    o.readers = 16;
    o.cache_kib = 65536; /* a province node's database does not fit the 8 MiB default */
    if (node_open(dir, &o, &node, &err) != LT_OK) {
        die("open", &err);
    }
}

/* people 0..n-1, each with a permanent residence in one of the communes */
static void seed_people(int n)
{
    enum { CHUNK = 5000 };
    struct registry_change ch[2 * CHUNK];
    struct registry_result *res = calloc(2 * CHUNK, sizeof(*res));
    struct lt_error err;

    for (int base = 0; base < n; base += CHUNK) {
        int m = n - base < CHUNK ? n - base : CHUNK;

        for (int i = 0; i < m; i++) {
            char id[16], born[16];
            int k = base + i;

            person_id(k, id);
            snprintf(born, sizeof(born), "19%02u-01-01", (60 + (unsigned)k / 1000000) % 100);
            ch[2 * i] = (struct registry_change){
                .kind = REG_PERSON,
                .record = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "full_name",
                                    "Nguyễn Văn Thử", "birth_date", born, "sex", "male",
                                    "ethnicity", "01", "nationality", "VN", "status", "alive"),
                .actor = "bench",
                .cause = "bench",
                .effective = DATE_MIN,
            };
            ch[2 * i + 1] = (struct registry_change){
                .kind = REG_RESIDENCE,
                .record = json_pack("{s:s, s:s, s:s, s:s, s:s}", "person_id", id, "kind",
                                    "permanent", "unit", communes[k % ncommunes]->code,
                                    "address_line", "1 Đường Thử", "from_date", "2000-01-01"),
                .actor = "bench",
                .cause = "bench",
                .effective = DATE_MIN,
            };
        }
        if (registry_write_batch(node, ch, 2 * (size_t)m, true, res, NULL, &err) != LT_OK) {
            die("seed", &err);
        }
        for (int i = 0; i < 2 * m; i++) {
            json_decref(ch[i].record);
        }
    }
    free(res);
}

struct worker {
    int from, to;
    int failed;
    struct lt_error err;
};

static struct auth_principal who(enum auth_role role, const char *unit)
{
    struct auth_principal p;

    memset(&p, 0, sizeof(p));
    snprintf(p.account, sizeof(p.account), "%s-%s", role == AUTH_CLERK ? "clerk" : "officer", unit);
    p.role = role;
    snprintf(p.unit, sizeof(p.unit), "%s", unit);
    return p;
}

static void *flow_worker(void *arg)
{
    struct worker *w = arg;
    struct auth_principal clerk = who(AUTH_CLERK, communes[0]->code);
    struct auth_principal officer = who(AUTH_OFFICER, "01");
    json_t *review = json_pack("{s:s}", "action", "review");
    json_t *approve = json_pack("{s:s}", "action", "approve");

    for (int i = w->from; i < w->to && !w->failed; i++) {
        char id[16];
        json_t *req, *d = NULL, *d2 = NULL;
        const char *code;

        person_id(i, id);
        req = json_pack("{s:s, s:{s:s, s:s}, s:s, s:[s, s], s:{s:s, s:s, s:s}}", "procedure",
                        "temporary_residence", "applicant", "kind", "person", "id", id, "channel",
                        "counter", "documents", "declaration", "legal_residence", "fields",
                        "person_id", id, "residence_unit", communes[(i * 7 + 3) % ncommunes]->code,
                        "address_line", "2 Đường Tạm");
        if (oss_receive(shop, &clerk, req, &d, &w->err) != LT_OK) {
            w->failed = 1;
        }
        json_decref(req);
        code = json_string_value(json_object_get(d, "code"));
        if (!w->failed && oss_act(shop, &officer, code, review, &d2, &w->err) != LT_OK) {
            w->failed = 1;
        }
        json_decref(d2);
        d2 = NULL;
        if (!w->failed && oss_act(shop, &officer, code, approve, &d2, &w->err) != LT_OK) {
            w->failed = 1;
        }
        json_decref(d2);
        json_decref(d);
    }
    json_decref(review);
    json_decref(approve);
    return NULL;
}

static void *queue_worker(void *arg)
{
    struct worker *w = arg;
    struct auth_principal clerk = who(AUTH_CLERK, communes[1]->code);
    int64_t now = wall_ms();

    for (int i = w->from; i < w->to && !w->failed; i++) {
        char id[16], spouse[16];
        json_t *req, *d = NULL;

        person_id(i, id);
        person_id(i + 1, spouse);
        /* received over the past 60 days, so due dates spread */
        thread_now = now - (int64_t)((i * 7919L) % (60L * 86400)) * 1000;
        req = json_pack("{s:s, s:{s:s, s:s}, s:s, s:[s], s:{s:s}}", "procedure",
                        "marriage_registration", "applicant", "kind", "person", "id", id, "channel",
                        i % 3 ? "counter" : "online", "documents", "declaration", "fields",
                        "spouse_id", spouse);
        if (oss_receive(shop, &clerk, req, &d, &w->err) != LT_OK) {
            w->failed = 1;
        }
        json_decref(req);
        json_decref(d);
    }
    thread_now = 0;
    return NULL;
}

static double run_threads(void *(*fn)(void *), int n, int threads)
{
    pthread_t t[256];
    struct worker w[256];
    double t0 = now_s();

    for (int i = 0; i < threads; i++) {
        w[i] = (struct worker){ .from = n * i / threads, .to = n * (i + 1) / threads };
        pthread_create(&t[i], NULL, fn, &w[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        if (w[i].failed) {
            die("worker", &w[i].err);
        }
    }
    return now_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void time_queue(const char *name, struct oss_queue_query q)
{
    enum { RUNS = 300 };
    struct auth_principal officer = who(AUTH_OFFICER, "01");
    double ms[RUNS];
    size_t items = 0;
    struct lt_error err;

    for (int i = 0; i < RUNS; i++) {
        json_t *page = NULL;
        double t0 = now_s();

        if (oss_queue(shop, &officer, &q, &page, &err) != LT_OK) {
            die("queue", &err);
        }
        ms[i] = (now_s() - t0) * 1000;
        items = json_array_size(json_object_get(page, "dossiers"));
        json_decref(page);
    }
    qsort(ms, RUNS, sizeof(ms[0]), cmp_double);
    printf("queue_%s_median %.3f ms\nqueue_%s_p99 %.3f ms\nqueue_%s_items %zu rows\n", name,
           ms[RUNS / 2], name, ms[RUNS * 99 / 100], name, items);
}

/* The cursor of page n of the province's queue. */
static char *cursor_at(int pages)
{
    struct auth_principal officer = who(AUTH_OFFICER, "01");
    struct oss_queue_query q = { .unit = "01", .limit = 500 };
    char *cur = NULL;
    struct lt_error err;

    for (int i = 0; i < pages; i++) {
        json_t *page = NULL;

        q.after = cur;
        if (oss_queue(shop, &officer, &q, &page, &err) != LT_OK) {
            die("queue", &err);
        }
        free(cur);
        cur = json_is_string(json_object_get(page, "next"))
                  ? strdup(json_string_value(json_object_get(page, "next")))
                  : NULL;
        json_decref(page);
    }
    return cur;
}

int main(int argc, char **argv)
{
    int flow, threads, queue;
    const struct unit *prov;
    double wall, cpu0, cpu;
    char *deep;

    if (argc != 5) {
        fprintf(stderr, "usage: oss_bench DIR FLOW THREADS QUEUE\n");
        return 2;
    }
    flow = atoi(argv[2]);
    threads = atoi(argv[3]);
    queue = atoi(argv[4]);
    if (flow < 1 || threads < 1 || threads > 256 || queue < 1) {
        fprintf(stderr, "oss_bench: FLOW, QUEUE >= 1, THREADS 1..256\n");
        return 2;
    }
    open_node(argv[1]);
    prov = units_find(node_units(node), "01", date_today());
    ncommunes = units_children(node_units(node), prov, date_today(), communes, COMMUNES_MAX);
    if (ncommunes > COMMUNES_MAX) {
        ncommunes = COMMUNES_MAX;
    }
    shop = oss_new(node, oss_catalogue_builtin(), oss_calendar_builtin());
    oss_set_clock(shop, bench_clock, NULL);
    seed_people(flow > queue + 1 ? flow : queue + 1);

    cpu0 = cpu_s();
    wall = run_threads(flow_worker, flow, threads);
    cpu = cpu_s() - cpu0;
    printf("flow_dossiers %d dossiers\nflow_threads %d threads\n", flow, threads);
    printf("flow_rate %.0f dossiers/s\nflow_wall %.2f s\nflow_cpu %.2f s\n", flow / wall, wall,
           cpu);
    printf("flow_writes_rate %.0f writes/s\n", 3 * flow / wall);

    wall = run_threads(queue_worker, queue, threads);
    printf("queue_seed_rate %.0f receipts/s\n", queue / wall);
    time_queue("first_page", (struct oss_queue_query){ .unit = "01", .limit = 50 });
    deep = cursor_at(queue / 1000);
    time_queue("middle_page", (struct oss_queue_query){ .unit = "01", .limit = 50, .after = deep });
    time_queue("overdue", (struct oss_queue_query){ .unit = "01", .due = "overdue", .limit = 50 });
    time_queue("commune", (struct oss_queue_query){ .unit = communes[5]->code, .limit = 50 });
    free(deep);
    oss_free(shop);
    node_close(node);
    return 0;
}
