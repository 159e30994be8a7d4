/*
 * oss.c - the one-stop shop object, its clock, and the helpers shared by
 * its files: time formatting, units and jurisdictions, the event append
 * and the projection row.
 */
#include "oss/oss_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/date.h"
#include "evlog/evlog.h"
#include "core/banned.h"

static int64_t wall_ms(void *arg)
{
    struct timespec ts;

    (void)arg;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct oss *oss_new(struct node *n, const struct oss_catalogue *cat, const struct oss_calendar *cal)
{
    struct oss *o = xcalloc(1, sizeof(*o));

    o->node = n;
    o->u = node_units(n);
    atomic_init(&o->cat, cat);
    atomic_init(&o->cal, cal);
    pthread_mutex_init(&o->ref_mu, NULL);
    o->now_ms = wall_ms;
    return o;
}

void oss_free(struct oss *o)
{
    if (o == NULL) {
        return;
    }
    for (size_t i = 0; i < o->npublished; i++) {
        oss_catalogue_free(o->published[i].cat);
        oss_calendar_free(o->published[i].cal);
    }
    free(o->published);
    pthread_mutex_destroy(&o->ref_mu);
    free(o);
}

void oss_set_clock(struct oss *o, int64_t (*now_ms)(void *arg), void *arg)
{
    o->now_ms = now_ms != NULL ? now_ms : wall_ms;
    o->clock_arg = arg;
}

const struct oss_catalogue *oss_catalogue(const struct oss *o)
{
    return atomic_load(&((struct oss *)o)->cat);
}

const struct oss_calendar *oss_calendar(const struct oss *o)
{
    return atomic_load(&((struct oss *)o)->cal);
}

struct node *oss_node(const struct oss *o)
{
    return o->node;
}

int64_t oss_now(const struct oss *o)
{
    return o->now_ms(o->clock_arg);
}

int32_t oss_today(const struct oss *o)
{
    return oss_day_of_ms(oss_now(o));
}

void oss_format_time(int64_t ms, char out[OSS_TIME_MAX])
{
    int32_t day = oss_day_of_ms(ms);
    int64_t into = ms + OSS_VIETNAM_OFFSET_MS - (int64_t)day * OSS_DAY_MS;
    int y, m, d;

    date_to_civil(day, &y, &m, &d);
    snprintf(out, OSS_TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d+07:00", y, m, d,
             (int)(into / 3600000), (int)(into / 60000 % 60), (int)(into / 1000 % 60));
}

void oss_province_of(const struct oss *o, const char *code, char out[UNIT_CODE_MAX])
{
    const struct unit *un = units_find_default(o->u, code);
    const struct unit *p = un != NULL ? unit_province(o->u, un) : NULL;

    snprintf(out, UNIT_CODE_MAX, "%s", p != NULL ? p->code : "");
}

void oss_unit_at_level(const struct oss *o, const char *commune, enum oss_level level,
                       char out[UNIT_CODE_MAX])
{
    if (level == OSS_LEVEL_PROVINCE) {
        oss_province_of(o, commune, out);
    } else {
        snprintf(out, UNIT_CODE_MAX, "%s", commune);
    }
}

enum lt_code oss_require_principal(const struct auth_principal *who, struct lt_error *err)
{
    if (who == NULL) {
        lt_error_set(err, LT_EUNAUTH, "sign in first");
        lt_error_hint(err, "only the procedures and the public look-up are open to everyone");
        return LT_EUNAUTH;
    }
    return LT_OK;
}

bool oss_within(const struct oss *o, const struct auth_principal *who, const char *code)
{
    return code != NULL && units_code_within(o->u, code, who->unit);
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : "";
}

bool oss_may_read(const struct oss *o, const struct auth_principal *who, const json_t *doc)
{
    const json_t *app = json_object_get(doc, "applicant");
    const json_t *steps = json_object_get(doc, "steps");

    if (who->role == AUTH_CITIZEN) {
        return strcmp(str(app, "kind"), "person") == 0 && who->person_id[0] != '\0' &&
               strcmp(str(app, "id"), who->person_id) == 0;
    }
    if (who->role == AUTH_NODE) {
        return false;
    }
    if (oss_within(o, who, str(doc, "received_unit")) ||
        oss_within(o, who, str(doc, "competent_unit"))) {
        return true;
    }
    for (size_t i = 0; i < json_array_size(steps); i++) {
        if (oss_within(o, who, str(json_array_get(steps, i), "competent_unit"))) {
            return true;
        }
    }
    return false;
}

json_t *oss_doc_public(const json_t *doc, int64_t version)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)doc, k, v)
    {
        if (k[0] != '_') {
            json_object_set(out, k, v);
        }
    }
    json_object_set_new(out, "version", json_integer(version));
    return out;
}

enum lt_code oss_append_event(struct oss *o, struct store_conn *c, const char *code,
                              const char *type, const char *actor, int64_t base_version,
                              const json_t *body, int64_t *version, struct lt_error *err)
{
    struct event ev;
    int64_t current = 0;
    enum lt_code rc;

    memset(&ev, 0, sizeof(ev));
    snprintf(ev.actor, sizeof(ev.actor), "%s", actor);
    snprintf(ev.type, sizeof(ev.type), "%s", type);
    snprintf(ev.entity, sizeof(ev.entity), "dossier/%s", code);
    snprintf(ev.cause, sizeof(ev.cause), "dossier:%s", code);
    ev.base_version = base_version;
    ev.effective = oss_today(o);
    ev.body = json_dumps(body, OSS_DUMP_FLAGS);
    if (ev.body == NULL) {
        BUG("a dossier event body does not dump");
    }
    rc = evlog_append_trusted(node_evlog(o->node), c, &ev, &current, err);
    free(ev.body);
    if (rc == LT_ECONFLICT) {
        lt_error_set(err, LT_ECONFLICT, "dossier %s changed meanwhile (version %lld now)", code,
                     (long long)current);
        lt_error_hint(err, "read the dossier again and retry");
        return rc;
    }
    if (rc == LT_OK) {
        *version = ev.version;
    }
    return rc;
}

static int32_t doc_int(const json_t *doc, const char *k, int32_t dflt)
{
    const json_t *v = json_object_get(doc, k);

    return json_is_integer(v) ? (int32_t)json_integer_value(v) : dflt;
}

enum lt_code oss_row_insert(struct store_conn *c, const json_t *doc, int64_t version,
                            struct lt_error *err)
{
    static const char sql[] =
        "INSERT INTO oss_dossiers (code, procedure, proc_version, applicant_kind,"
        " applicant_id, channel, received_unit, received_province, competent_unit,"
        " competent_province, status, open, received_ms, received_day, due_day, settled_day,"
        " version, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    const json_t *proc = json_object_get(doc, "procedure");
    const json_t *app = json_object_get(doc, "applicant");
    struct store_stmt *st;
    enum oss_status s = OSS_RECEIVED;
    int32_t due = DATE_MIN;
    char *text;
    enum lt_code rc = store_prepare(c, sql, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    oss_status_parse(str(doc, "status"), &s);
    date_parse(str(doc, "due_date"), &due, NULL);
    text = json_dumps(doc, OSS_DUMP_FLAGS);
    store_bind_text(st, 1, str(doc, "code"));
    store_bind_text(st, 2, str(proc, "code"));
    store_bind_int(st, 3, json_integer_value(json_object_get(proc, "version")));
    store_bind_text(st, 4, str(app, "kind"));
    store_bind_text(st, 5, str(app, "id"));
    store_bind_text(st, 6, str(doc, "channel"));
    store_bind_text(st, 7, str(doc, "received_unit"));
    store_bind_text(st, 8, str(doc, "_received_province"));
    store_bind_text(st, 9, str(doc, "competent_unit"));
    store_bind_text(st, 10, str(doc, "_competent_province"));
    store_bind_text(st, 11, oss_status_name(s));
    store_bind_int(st, 12, oss_status_open(s));
    store_bind_int(st, 13, json_integer_value(json_object_get(doc, "_received_ms")));
    store_bind_int(st, 14, oss_day_of_ms(json_integer_value(json_object_get(doc, "_received_ms"))));
    store_bind_int(st, 15, due);
    if (json_object_get(doc, "_settled_on") != NULL) {
        store_bind_int(st, 16, doc_int(doc, "_settled_on", 0));
    } else {
        store_bind_null(st, 16);
    }
    store_bind_int(st, 17, version);
    store_bind_text(st, 18, text);
    rc = store_exec_stmt(st, err);
    free(text);
    return rc;
}

enum lt_code oss_row_load(struct store_conn *c, const char *code, json_t **doc, int64_t *version,
                          struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step step;
    enum lt_code rc =
        store_prepare(c, "SELECT doc, version FROM oss_dossiers WHERE code = ?", &st, err);

    *doc = NULL;
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, code);
    step = store_step(st, err);
    if (step == STORE_ERROR) {
        return err->code;
    }
    if (step == STORE_DONE) {
        lt_error_set(err, LT_ENOTFOUND, "no dossier %s", code);
        lt_error_hint(err, "check the code on the receipt");
        return LT_ENOTFOUND;
    }
    *doc = json_loadb(store_col_text(st, 0), store_col_bytes(st, 0), 0, NULL);
    *version = store_col_int(st, 1);
    if (*doc == NULL) {
        return lt_error_set(err, LT_EINTERNAL, "the stored dossier %s is not JSON", code);
    }
    return LT_OK;
}
