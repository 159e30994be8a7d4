/*
 * registry.c - the kinds of the registries, validation, and projecting
 * events that did not come through registry_write (sync, rebuild).
 *
 * Design note.  The registries are projections of the event log: a write
 * (write.c) validates in the caller's thread and runs its database work in
 * the store's writer thread; reads (read.c) go to reader connections.
 * Here are the pieces both use: the table of kinds, the checks every kind
 * shares (a referenced person or business exists), validation of a record
 * into its canonical shape and facts, and registry_apply_event, which
 * brings a projection up to date with an event from elsewhere, as the sync
 * layer and registry_rebuild do.
 */
#include "registry/registry.h"

#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "registry/kinds.h"
#include "core/banned.h"

static const struct kind_def *const kinds[REG_KIND_COUNT] = {
    [REG_PERSON] = &kind_person,       [REG_RESIDENCE] = &kind_residence,
    [REG_HOUSEHOLD] = &kind_household, [REG_PARCEL] = &kind_parcel,
    [REG_BENEFIT] = &kind_benefit,     [REG_BUSINESS] = &kind_business,
};

static enum lt_code db_require(struct store_conn *c, const char *sql, const char *key,
                               const char *what, const char *registry, const char *field,
                               struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step step;
    enum lt_code rc;

    rc = store_prepare(c, sql, &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, key);
    step = store_step(st, err);
    if (step == STORE_ERROR) {
        return err->code;
    }
    if (step == STORE_DONE) {
        field_error(err, field, "no %s \"%s\" in the %s registry", what, key, registry);
        lt_error_hint(err, "register the %s first", what);
        err->code = LT_ENOTFOUND; /* see check_db in kinds.h */
        return LT_ENOTFOUND;
    }
    return LT_OK;
}

#define REBUILD_CHUNK 10000

struct rebuild {
    struct node *n;
    struct store_conn *c;
    int64_t after;
    int64_t seen;
};

static enum lt_code rebuild_event(const struct event *ev, void *arg, struct lt_error *err)
{
    struct rebuild *r = arg;

    r->after = ev->pos;
    r->seen++;
    return registry_apply_event(r->c, r->n->u, ev, err);
}

static enum lt_code rebuild_chunk(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct rebuild *r = arg;

    r->c = c;
    return evlog_scan(c, r->after, REBUILD_CHUNK, rebuild_event, r, err);
}

static enum lt_code clear_tables(struct store_conn *c, void *arg, struct lt_error *err)
{
    (void)arg;
    return store_exec(c,
                      "DELETE FROM reg_people; DELETE FROM reg_residences; "
                      "DELETE FROM reg_households; DELETE FROM reg_parcels; "
                      "DELETE FROM reg_benefits; DELETE FROM reg_businesses;",
                      err);
}

const struct kind_def *kind_get(enum registry_kind kind)
{
    if ((unsigned)kind >= REG_KIND_COUNT) {
        return NULL;
    }
    return kinds[kind];
}

const char *registry_kind_name(enum registry_kind kind)
{
    const struct kind_def *k = kind_get(kind);

    return k ? k->name : "unknown";
}

bool registry_kind_parse(const char *name, enum registry_kind *out)
{
    for (int i = 0; i < REG_KIND_COUNT; i++) {
        if (strcmp(name, kinds[i]->name) == 0 || strcmp(name, kinds[i]->plural) == 0) {
            *out = (enum registry_kind)i;
            return true;
        }
    }
    return false;
}

enum lt_code db_exec(struct store_stmt *st, struct lt_error *err)
{
    return store_exec_stmt(st, err);
}

enum lt_code db_require_person(struct store_conn *c, const char *id, const char *field,
                               struct lt_error *err)
{
    return db_require(c, "SELECT 1 FROM reg_people WHERE key = ?", id, "person", "people", field,
                      err);
}

enum lt_code db_require_business(struct store_conn *c, const char *code, const char *field,
                                 struct lt_error *err)
{
    return db_require(c, "SELECT 1 FROM reg_businesses WHERE key = ?", code, "business",
                      "businesses", field, err);
}

enum lt_code validate_record(const struct units *u, enum registry_kind kind, const json_t *record,
                             int32_t effective, json_t **canonical, struct facts *f,
                             struct lt_error *err)
{
    const struct kind_def *k = kind_get(kind);
    struct vctx v;
    json_t *canon;
    enum lt_code rc;

    *canonical = NULL;
    if (k == NULL) {
        return lt_error_set(err, LT_EINVAL, "unknown registry kind %d", (int)kind);
    }
    if (record == NULL) {
        return lt_error_set(err, LT_EINVAL, "no %s record given", k->name);
    }
    v.u = u;
    v.today = date_today();
    v.effective = effective == DATE_MIN ? v.today : effective;
    canon = json_object();
    rc = fields_validate(&v, k->fields, record, canon, "", err);
    if (rc == LT_OK) {
        memset(f, 0, sizeof(*f));
        rc = k->check(&v, canon, f, err);
    }
    if (rc != LT_OK) {
        json_decref(canon);
        return rc;
    }
    *canonical = canon;
    return LT_OK;
}

enum lt_code registry_validate(const struct units *u, enum registry_kind kind, const json_t *record,
                               int32_t effective, json_t **canonical, struct lt_error *err)
{
    struct facts f;

    return validate_record(u, kind, record, effective, canonical, &f, err);
}

enum lt_code registry_record_key(enum registry_kind kind, const json_t *canonical, char *out,
                                 size_t cap, struct lt_error *err)
{
    const char *a = NULL, *b = NULL;
    int n;

    switch (kind) {
    case REG_PERSON:
    case REG_HOUSEHOLD:
    case REG_PARCEL:
        a = json_string_value(json_object_get(canonical, "id"));
        break;
    case REG_BUSINESS:
        a = json_string_value(json_object_get(canonical, "code"));
        break;
    case REG_RESIDENCE:
        a = json_string_value(json_object_get(canonical, "person_id"));
        b = json_string_value(json_object_get(canonical, "kind"));
        break;
    case REG_BENEFIT:
        a = json_string_value(json_object_get(canonical, "person_id"));
        b = json_string_value(json_object_get(canonical, "scheme"));
        break;
    case REG_KIND_COUNT:
        break;
    }
    if (a == NULL || ((kind == REG_RESIDENCE || kind == REG_BENEFIT) && b == NULL)) {
        return lt_error_set(err, LT_EINVAL, "the %s record has no key", registry_kind_name(kind));
    }
    n = b ? snprintf(out, cap, "%s/%s", a, b) : snprintf(out, cap, "%s", a);
    if (n < 0 || (size_t)n >= cap) {
        return lt_error_set(err, LT_ETOOBIG, "the key of the %s record is too long",
                            registry_kind_name(kind));
    }
    return LT_OK;
}

bool registry_entity_parse(const char *entity, enum registry_kind *kind, char *key, size_t cap)
{
    const char *slash = strchr(entity, '/');
    char name[16];

    if (slash == NULL || (size_t)(slash - entity) >= sizeof(name) || slash[1] == '\0' ||
        strlen(slash + 1) >= cap) {
        return false;
    }
    memcpy(name, entity, (size_t)(slash - entity));
    name[slash - entity] = '\0';
    if (!registry_kind_parse(name, kind) || strcmp(name, kind_get(*kind)->name) != 0) {
        return false; /* not a registry entity ("people/..." is not one either) */
    }
    snprintf(key, cap, "%s", slash + 1);
    return true;
}

/*
 * An event set aside keeps the record as it is; the row only takes the
 * entity's version, so that a read gives the version a change must name.
 */
static enum lt_code keep_record(struct store_conn *c, const struct kind_def *k, const char *key,
                                int64_t version, struct lt_error *err)
{
    struct store_stmt *st;
    char sql[96];
    enum lt_code rc;

    snprintf(sql, sizeof(sql), "UPDATE %s SET version = ? WHERE key = ? AND version < ?", k->table);
    rc = store_prepare(c, sql, &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, version);
    store_bind_text(st, 2, key);
    store_bind_int(st, 3, version);
    return store_exec_stmt(st, err);
}

enum lt_code registry_apply_event(struct store_conn *c, const struct units *u,
                                  const struct event *ev, struct lt_error *err)
{
    char key[REG_KEY_MAX];
    enum registry_kind kind;
    const struct kind_def *k;
    json_t *record, *canon = NULL;
    struct facts f;
    char *text = NULL;
    enum lt_code rc;

    if (!registry_entity_parse(ev->entity, &kind, key, sizeof(key))) {
        return LT_OK; /* not a registry event */
    }
    k = kind_get(kind);
    record = ev->body ? json_loads(ev->body, 0, NULL) : NULL;
    if (record == NULL) {
        return lt_error_set(err, LT_EINVAL, "event %s/%lld: the body is not JSON", ev->origin,
                            (long long)ev->seq);
    }
    rc = validate_record(u, kind, record, ev->effective, &canon, &f, err);
    json_decref(record);
    if (rc != LT_OK) {
        return rc;
    }
    if (strcmp(f.key, key) != 0) {
        rc = lt_error_set(err, LT_EINVAL, "event %s/%lld: the record's key \"%s\" is not %s",
                          ev->origin, (long long)ev->seq, f.key, ev->entity);
        goto out;
    }
    if (event_set_aside(ev)) {
        rc = keep_record(c, k, key, ev->version, err);
        goto out;
    }
    text = json_dumps(canon, REG_DUMP_FLAGS);
    rc = k->project(c, &f, ev->version, text, err);

out:
    free(text);
    json_decref(canon);
    return rc;
}

enum lt_code registry_rebuild(struct node *n, int64_t *events, struct lt_error *err)
{
    struct rebuild r = { n, NULL, 0, 0 };
    enum lt_code rc;
    int64_t before;

    /* XXX: emptied in one transaction, refilled in others: readers may see part */
    rc = store_write(n->store, clear_tables, NULL, err);
    do {
        before = r.seen;
        if (rc == LT_OK) {
            rc = store_write(n->store, rebuild_chunk, &r, err);
        }
    } while (rc == LT_OK && r.seen - before == REBUILD_CHUNK);
    if (events != NULL) {
        *events = r.seen;
    }
    return rc;
}
