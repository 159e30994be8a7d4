/*
 * sync_bench.c - the load driver and observer of bench/sync_latency.sh, and
 * the signature rates of bench/sync_catchup.sh.
 *
 *   sync_bench lt URL TOKEN PEOPLE RATE SECS WARMUP DB...
 *   sync_bench pg CONNINFO PEOPLE RATE SECS WARMUP CONNINFO:COLUMN...
 *   sync_bench crypto SECS
 *
 * lt: writer threads register the people of the NDJSON file PEOPLE (one
 * object a line) at the node URL, POST /api/v1/people with the bearer
 * TOKEN, at RATE a second on an open-loop schedule (request i is due at
 * start + i / RATE whatever the answers before it), for WARMUP + SECS
 * seconds.  Each request's answer (201: the commune has committed the
 * event, synchronous=FULL) is its start time t0.  One observer thread per
 * DB (a node's lienthong.db, opened read only beside the serving process)
 * reads the events after the last position it saw every POLL_US
 * microseconds (environment, default 250); an event "person/ID" first
 * seen there is stamped with the time the read began.
 *
 * pg: the same, the rows being (id, body) inserted into table ev at the
 * PostgreSQL server CONNINFO in autocommit (t0: the COMMIT acknowledged),
 * and each observer polling its server for "id, COLUMN" of the rows whose
 * COLUMN (a sequence number the subscriber's default gives each row in
 * the order it applies them) is past the last one seen.
 *
 * Both: latency of an event at an observer = first seen - t0, on one
 * monotonic clock in this process.  Events of the warm-up are left out.
 * Prints lines "name value unit" for the script; LAT_DUMP=FILE also writes
 * every event's figures to FILE.
 *
 * crypto: one thread, the project's own functions: event_hash (BLAKE2b
 * over a person event's canonical bytes), sync_sign_event and
 * sync_event_sig_ok (Ed25519, libsodium's crypto_sign_detached and
 * crypto_sign_verify_detached), each for SECS seconds; prints the rates.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include "evlog/evlog.h"
#include "sync/keys.h"

#define OBSERVERS_MAX 4
#define LINE_MAX_LEN  4096

enum mode { MODE_LT, MODE_PG };

struct person {
    char *json;
    uint64_t id; /* the 12-digit personal ID (lt); the row id (pg) */
};

static enum mode mode;
static struct person *people;
static size_t npeople;
static size_t total;  /* events to write */
static size_t warmup; /* the first ones, left out */
static double rate;
static int64_t start_ns;
static atomic_size_t next_index;
static atomic_bool writers_done;
static atomic_int write_errors;
static int64_t poll_ns = 250000;

/* Per event, nanoseconds on CLOCK_MONOTONIC; 0: not yet. */
static int64_t *t_due, *t_send, *t_ack;
static _Atomic int64_t *t_seen[OBSERVERS_MAX];

/* ID -> index, open addressing. */
static uint64_t *slot_id;
static uint32_t *slot_ix;
static size_t slot_mask;

static const char *url, *token, *conninfo;

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t ns)
{
    struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static void *xmalloc0(size_t n)
{
    void *p = calloc(1, n != 0 ? n : 1);

    if (p == NULL) {
        fprintf(stderr, "sync_bench: out of memory\n");
        exit(1);
    }
    return p;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static void index_put(uint64_t id, uint32_t ix)
{
    size_t i = mix(id) & slot_mask;

    while (slot_id[i] != 0 && slot_id[i] != id) {
        i = (i + 1) & slot_mask;
    }
    slot_id[i] = id;
    slot_ix[i] = ix;
}

static long index_get(uint64_t id)
{
    size_t i = mix(id) & slot_mask;

    while (slot_id[i] != 0) {
        if (slot_id[i] == id) {
            return slot_ix[i];
        }
        i = (i + 1) & slot_mask;
    }
    return -1;
}

/* Read the people, keep the first total of them, index their IDs. */
static void load_people(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[LINE_MAX_LEN];
    size_t cap = 1;

    if (f == NULL) {
        fprintf(stderr, "sync_bench: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    people = xmalloc0(total * sizeof(*people));
    while (npeople < total && fgets(line, sizeof(line), f) != NULL) {
        const char *id = strstr(line, "\"id\":\"");
        size_t len = strcspn(line, "\r\n");

        if (id == NULL || len == 0) {
            continue;
        }
        line[len] = '\0';
        people[npeople].json = strdup(line);
        people[npeople].id = strtoull(id + 6, NULL, 10);
        npeople++;
    }
    fclose(f);
    if (npeople < total) {
        fprintf(stderr, "sync_bench: %s holds %zu people, %zu needed\n", path, npeople, total);
        exit(1);
    }
    while (cap < 2 * total) {
        cap <<= 1;
    }
    slot_id = xmalloc0(cap * sizeof(*slot_id));
    slot_ix = xmalloc0(cap * sizeof(*slot_ix));
    slot_mask = cap - 1;
    for (size_t i = 0; i < total; i++) {
        index_put(mode == MODE_LT ? people[i].id : i + 1, (uint32_t)i);
    }
}

/* Take the next event and wait for its time; false when all are out. */
static bool next_due(size_t *ix)
{
    size_t i = atomic_fetch_add(&next_index, 1);

    if (i >= total) {
        return false;
    }
    t_due[i] = start_ns + (int64_t)((double)i * 1e9 / rate);
    sleep_until(t_due[i]);
    *ix = i;
    return true;
}

/* The lienthong writer. */

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static void *lt_writer(void *arg)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    char auth[512], target[512];
    size_t i;

    (void)arg;
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    snprintf(target, sizeof(target), "%s/api/v1/people", url);
    hdr = curl_slist_append(hdr, auth);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, target);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    while (next_due(&i)) {
        long status = 0;

        curl_easy_setopt(h, CURLOPT_POSTFIELDS, people[i].json);
        t_send[i] = now_ns();
        if (curl_easy_perform(h) == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        }
        if (status == 201) {
            t_ack[i] = now_ns();
        } else if (atomic_fetch_add(&write_errors, 1) < 5) {
            fprintf(stderr, "sync_bench: person %zu answered %ld\n", i, status);
        }
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return NULL;
}

/* The lienthong observer: a read-only connection to a node's database. */

struct observer {
    int n;
    const char *target; /* database path, or conninfo:column */
};

static bool observe_done(int n)
{
    for (size_t i = 0; i < total; i++) {
        if (t_ack[i] != 0 && atomic_load(&t_seen[n][i]) == 0) {
            return false;
        }
    }
    return true;
}

/* Keep polling until the writers are done and everything is seen, or 20 s after. */
static bool keep_polling(int n, int64_t *give_up)
{
    if (!atomic_load(&writers_done)) {
        return true;
    }
    if (*give_up == 0) {
        *give_up = now_ns() + 20 * (int64_t)1000000000;
    }
    return now_ns() < *give_up && !observe_done(n);
}

static void seen(int n, long ix, int64_t at)
{
    int64_t zero = 0;

    if (ix >= 0) {
        atomic_compare_exchange_strong(&t_seen[n][ix], &zero, at);
    }
}

static void *lt_observer(void *arg)
{
    struct observer *o = arg;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t last = 0, give_up = 0, next;

    if (sqlite3_open_v2(o->target, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT pos, entity FROM events WHERE pos > ?1 ORDER BY pos", -1,
                           &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "sync_bench: %s: %s\n", o->target, sqlite3_errmsg(db));
        exit(1);
    }
    sqlite3_busy_timeout(db, 1000);
    /* Start after what is there already. */
    sqlite3_stmt *head = NULL;
    sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(pos), 0) FROM events", -1, &head, NULL);
    if (sqlite3_step(head) == SQLITE_ROW) {
        last = sqlite3_column_int64(head, 0);
    }
    sqlite3_finalize(head);

    next = now_ns();
    while (keep_polling(o->n, &give_up)) {
        int64_t at = now_ns();
        int rc;

        sqlite3_bind_int64(st, 1, last);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *entity = (const char *)sqlite3_column_text(st, 1);

            last = sqlite3_column_int64(st, 0);
            if (entity != NULL && strncmp(entity, "person/", 7) == 0) {
                seen(o->n, index_get(strtoull(entity + 7, NULL, 10)), at);
            }
        }
        sqlite3_reset(st);
        next += poll_ns;
        if (next < now_ns()) {
            next = now_ns();
        }
        sleep_until(next);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return NULL;
}

#ifdef HAVE_LIBPQ
static PGconn *pg_connect(const char *ci)
{
    PGconn *c = PQconnectdb(ci);

    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "sync_bench: %s: %s", ci, PQerrorMessage(c));
        exit(1);
    }
    return c;
}

static void *pg_writer(void *arg)
{
    PGconn *c = pg_connect(conninfo);
    PGresult *r;
    size_t i;

    (void)arg;
    r = PQprepare(c, "ins", "INSERT INTO ev (id, body) VALUES ($1::bigint, $2)", 2, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "sync_bench: prepare: %s", PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
    while (next_due(&i)) {
        char id[24];
        const char *values[2] = { id, people[i].json };

        snprintf(id, sizeof(id), "%zu", i + 1);
        t_send[i] = now_ns();
        r = PQexecPrepared(c, "ins", 2, values, NULL, NULL, 0);
        if (PQresultStatus(r) == PGRES_COMMAND_OK) {
            t_ack[i] = now_ns();
        } else if (atomic_fetch_add(&write_errors, 1) < 5) {
            fprintf(stderr, "sync_bench: row %zu: %s", i, PQerrorMessage(c));
        }
        PQclear(r);
    }
    PQfinish(c);
    return NULL;
}

static void *pg_observer(void *arg)
{
    struct observer *o = arg;
    char ci[1024], sql[256], lastbuf[24];
    const char *colon = strrchr(o->target, ':');
    PGconn *c;
    PGresult *r;
    int64_t last = 0, give_up = 0, next;

    if (colon == NULL) {
        fprintf(stderr, "sync_bench: observer %s: CONNINFO:COLUMN expected\n", o->target);
        exit(1);
    }
    snprintf(ci, sizeof(ci), "%.*s", (int)(colon - o->target), o->target);
    c = pg_connect(ci);
    snprintf(sql, sizeof(sql), "SELECT id, %s FROM ev WHERE %s > $1::bigint ORDER BY %s", colon + 1,
             colon + 1, colon + 1);
    r = PQprepare(c, "poll", sql, 1, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "sync_bench: prepare %s: %s", sql, PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
    snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(%s), 0) FROM ev", colon + 1);
    r = PQexec(c, sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        last = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);

    next = now_ns();
    while (keep_polling(o->n, &give_up)) {
        const char *values[1] = { lastbuf };
        int64_t at = now_ns();

        snprintf(lastbuf, sizeof(lastbuf), "%" PRId64, last);
        r = PQexecPrepared(c, "poll", 1, values, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            fprintf(stderr, "sync_bench: poll: %s", PQerrorMessage(c));
            exit(1);
        }
        for (int k = 0; k < PQntuples(r); k++) {
            uint64_t id = strtoull(PQgetvalue(r, k, 0), NULL, 10);

            last = strtoll(PQgetvalue(r, k, 1), NULL, 10);
            seen(o->n, index_get(id), at);
        }
        PQclear(r);
        next += poll_ns;
        if (next < now_ns()) {
            next = now_ns();
        }
        sleep_until(next);
    }
    PQfinish(c);
    return NULL;
}
#endif

/* Figures. */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static double pct(const int64_t *v, size_t n, double p)
{
    size_t k;

    if (n == 0) {
        return 0;
    }
    k = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return (double)v[k] / 1e6;
}

/* Print percentiles (ms) of b[i] - a[i] over the measured events. */
static void report(const char *name, const int64_t *a, const int64_t *b_plain,
                   _Atomic int64_t *b_atomic)
{
    int64_t *v = xmalloc0(total * sizeof(*v));
    size_t n = 0, missing = 0;

    for (size_t i = warmup; i < total; i++) {
        int64_t b = b_plain != NULL ? b_plain[i] : atomic_load(&b_atomic[i]);

        if (a[i] == 0) {
            continue;
        }
        if (b == 0) {
            missing++;
            continue;
        }
        v[n++] = b - a[i];
    }
    qsort(v, n, sizeof(*v), cmp_i64);
    printf("%s_events %zu events\n", name, n);
    printf("%s_missing %zu events\n", name, missing);
    printf("%s_p50 %.3f ms\n", name, pct(v, n, 50));
    printf("%s_p90 %.3f ms\n", name, pct(v, n, 90));
    printf("%s_p99 %.3f ms\n", name, pct(v, n, 99));
    printf("%s_p999 %.3f ms\n", name, pct(v, n, 99.9));
    printf("%s_max %.3f ms\n", name, n ? (double)v[n - 1] / 1e6 : 0.0);
    free(v);
}

/* Every event, for a look at the tail over time: "i send_s commit_ms hop1_ms ...". */
static void dump(const char *path, int nobs)
{
    FILE *f = fopen(path, "w");

    if (f == NULL) {
        fprintf(stderr, "sync_bench: cannot write %s: %s\n", path, strerror(errno));
        return;
    }
    for (size_t i = 0; i < total; i++) {
        fprintf(f, "%zu %.6f %.3f", i, (double)(t_send[i] - start_ns) / 1e9,
                t_ack[i] ? (double)(t_ack[i] - t_send[i]) / 1e6 : -1.0);
        for (int n = 0; n < nobs; n++) {
            int64_t seen_at = atomic_load(&t_seen[n][i]);

            fprintf(f, " %.3f", seen_at && t_ack[i] ? (double)(seen_at - t_ack[i]) / 1e6 : -1.0);
        }
        fputc('\n', f);
    }
    fclose(f);
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int usage(void)
{
    fprintf(stderr, "usage: sync_bench lt URL TOKEN PEOPLE RATE SECS WARMUP DB...\n"
                    "       sync_bench pg CONNINFO PEOPLE RATE SECS WARMUP CONNINFO:COLUMN...\n"
                    "       sync_bench crypto SECS\n");
    return 2;
}

/* crypto: rates of the project's hash, sign and verify on one thread. */
static int run_crypto(double secs)
{
    static const char body[] =
        "{\"id\":\"001084002045\",\"full_name\":\"Đàm Anh Đại Hành\",\"birth_date\":"
        "\"1984-02-05\",\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\","
        "\"status\":\"alive\"}";
    struct sync_key k;
    struct event ev;
    uint8_t seed[32];
    uint64_t n;
    int64_t t0, end;
    volatile int bad = 0;

    randombytes_buf(seed, sizeof(seed));
    crypto_sign_seed_keypair(k.pk, k.sk, seed);
    memset(&ev, 0, sizeof(ev));
    snprintf(ev.origin, sizeof(ev.origin), "00004-1a2b3c4d");
    snprintf(ev.actor, sizeof(ev.actor), "bench.officer");
    snprintf(ev.type, sizeof(ev.type), "person.registered");
    snprintf(ev.entity, sizeof(ev.entity), "person/001084002045");
    snprintf(ev.cause, sizeof(ev.cause), "api");
    ev.body = (char *)body;
    ev.has_prev = true;

    n = 0;
    t0 = now_ns();
    end = t0 + (int64_t)(secs * 1e9);
    while (now_ns() < end) {
        for (int j = 0; j < 256; j++, n++) {
            ev.seq = (int64_t)n;
            event_hash(&ev, ev.hash);
        }
    }
    printf("event_hash %.0f per_s\n", (double)n * 1e9 / (double)(now_ns() - t0));

    n = 0;
    t0 = now_ns();
    end = t0 + (int64_t)(secs * 1e9);
    while (now_ns() < end) {
        for (int j = 0; j < 16; j++, n++) {
            ev.hash[0] = (uint8_t)n;
            sync_sign_event(&k, &ev);
        }
    }
    printf("sign %.0f per_s\n", (double)n * 1e9 / (double)(now_ns() - t0));

    n = 0;
    t0 = now_ns();
    end = t0 + (int64_t)(secs * 1e9);
    while (now_ns() < end) {
        for (int j = 0; j < 16; j++, n++) {
            bad += !sync_event_sig_ok(k.pk, ev.hash, ev.sig);
        }
    }
    printf("verify %.0f per_s\n", (double)n * 1e9 / (double)(now_ns() - t0));
    if (bad) {
        fprintf(stderr, "sync_bench: a good signature failed to verify\n");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    pthread_t writers[64], obs_threads[OBSERVERS_MAX];
    struct observer obs[OBSERVERS_MAX];
    int nobs, nwriters, first_obs;
    const char *people_path, *env;
    double secs, warm, cpu0, span;
    int64_t *late;
    size_t nlate = 0;

    if (sodium_init() < 0) {
        return 1;
    }
    if (argc == 3 && strcmp(argv[1], "crypto") == 0) {
        return run_crypto(atof(argv[2]));
    }
    if (argc < 9 && !(argc >= 8 && strcmp(argv[1], "pg") == 0)) {
        return usage();
    }
    if (strcmp(argv[1], "lt") == 0) {
        mode = MODE_LT;
        url = argv[2];
        token = argv[3];
        people_path = argv[4];
        rate = atof(argv[5]);
        secs = atof(argv[6]);
        warm = atof(argv[7]);
        first_obs = 8;
    } else if (strcmp(argv[1], "pg") == 0) {
#ifndef HAVE_LIBPQ
        fprintf(stderr, "sync_bench: built without libpq\n");
        return 2;
#endif
        mode = MODE_PG;
        conninfo = argv[2];
        people_path = argv[3];
        rate = atof(argv[4]);
        secs = atof(argv[5]);
        warm = atof(argv[6]);
        first_obs = 7;
    } else {
        return usage();
    }
    nobs = argc - first_obs;
    if (rate <= 0 || secs <= 0 || warm < 0 || nobs < 1 || nobs > OBSERVERS_MAX) {
        return usage();
    }
    if ((env = getenv("POLL_US")) != NULL) {
        poll_ns = atoll(env) * 1000;
    }
    nwriters = (env = getenv("WRITERS")) != NULL ? atoi(env) : 8;
    if (nwriters < 1 || nwriters > 64) {
        return usage();
    }
    warmup = (size_t)(warm * rate);
    total = warmup + (size_t)(secs * rate);
    load_people(people_path);
    t_due = xmalloc0(total * sizeof(*t_due));
    t_send = xmalloc0(total * sizeof(*t_send));
    t_ack = xmalloc0(total * sizeof(*t_ack));
    for (int n = 0; n < nobs; n++) {
        t_seen[n] = xmalloc0(total * sizeof(*t_seen[n]));
        obs[n] = (struct observer){ .n = n, .target = argv[first_obs + n] };
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);

    cpu0 = cpu_s();
    start_ns = now_ns() + 200000000; /* the observers start first */
    for (int n = 0; n < nobs; n++) {
#ifdef HAVE_LIBPQ
        pthread_create(&obs_threads[n], NULL, mode == MODE_LT ? lt_observer : pg_observer, &obs[n]);
#else
        pthread_create(&obs_threads[n], NULL, lt_observer, &obs[n]);
#endif
    }
    for (int w = 0; w < nwriters; w++) {
#ifdef HAVE_LIBPQ
        pthread_create(&writers[w], NULL, mode == MODE_LT ? lt_writer : pg_writer, NULL);
#else
        pthread_create(&writers[w], NULL, lt_writer, NULL);
#endif
    }
    for (int w = 0; w < nwriters; w++) {
        pthread_join(writers[w], NULL);
    }
    atomic_store(&writers_done, true);
    for (int n = 0; n < nobs; n++) {
        pthread_join(obs_threads[n], NULL);
    }

    span = (double)(t_send[total - 1] - t_send[warmup]) / 1e9;
    printf("written %zu events\n", total - (size_t)atomic_load(&write_errors));
    printf("write_errors %d events\n", atomic_load(&write_errors));
    printf("rate %.1f per_s\n", span > 0 ? (double)(total - 1 - warmup) / span : 0.0);
    late = xmalloc0(total * sizeof(*late));
    for (size_t i = warmup; i < total; i++) {
        late[nlate++] = t_send[i] - t_due[i];
    }
    qsort(late, nlate, sizeof(*late), cmp_i64);
    printf("send_late_p99 %.3f ms\n", pct(late, nlate, 99));
    free(late);
    report("commit", t_send, t_ack, NULL);
    for (int n = 0; n < nobs; n++) {
        char name[32];

        snprintf(name, sizeof(name), "hop%d", n + 1);
        report(name, t_ack, NULL, t_seen[n]);
    }
    printf("driver_cpu %.2f s\n", cpu_s() - cpu0);
    if ((env = getenv("LAT_DUMP")) != NULL) {
        dump(env, nobs);
    }
    curl_global_cleanup();
    return 0;
}
