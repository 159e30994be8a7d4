/*
 * receive.c - receiving a dossier: the request checked against the
 * procedure version in force, the records it names looked up (once-only:
 * what the registries hold is not asked again), the competent unit
 * derived, the due date counted, and the dossier written with its first
 * event.
 *
 * Everything that can refuse the request runs before the write, on
 * readers; the write only appends the event and inserts the row, so a
 * refused request writes nothing.  The versions of the records seen here
 * are kept in the dossier (_seen) so that approval can tell whether one
 * changed meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/utf8.h"
#include "oss/code.h"
#include "oss/oss_int.h"
#include "registry/ids.h"
#include "core/banned.h"

#define TEXT_MAX   500
#define RETRIES    4
#define DOCS_MAX   32
#define NUMBER_MAX 1e15

struct receipt {
    const struct oss_procedure *p;
    const char *kind, *id, *channel;
    json_t *fields; /* canonical copy */
    json_t *docs;
    json_t *seen;
    char received_unit[UNIT_CODE_MAX];
    char competent[UNIT_CODE_MAX];
};

static enum lt_code refuse(struct lt_error *err, const char *field, const char *fmt, const char *a)
{
    lt_error_set(err, LT_EINVAL, fmt, a);
    lt_error_field(err, field);
    return LT_EINVAL;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/*
 * A person's residences as they are at receipt (version 0: none), kept with
 * the other versions seen: an approval that registers or removes one
 * refuses if it changed in between (another dossier approved first, say).
 */
static enum lt_code note_residences(struct oss *o, struct receipt *r, const char *person,
                                    struct lt_error *err)
{
    static const char *const kinds[] = { "permanent", "temporary" };
    char key[48], entity[96];

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        int64_t version = 0;
        json_t *rec = NULL;
        enum lt_code rc;

        snprintf(key, sizeof(key), "%s/%s", person, kinds[i]);
        rc = registry_get(o->node, REG_RESIDENCE, key, &rec, &version, err);
        json_decref(rec);
        if (rc == LT_ENOTFOUND) {
            version = 0;
        } else if (rc != LT_OK) {
            return rc;
        }
        snprintf(entity, sizeof(entity), "%s/%s", registry_kind_name(REG_RESIDENCE), key);
        json_object_set_new(r->seen, entity, json_integer(version));
    }
    return LT_OK;
}

/* The record a field names: its presence checked as the field asks; its version kept. */
static enum lt_code check_record(struct oss *o, struct receipt *r, const struct oss_field *f,
                                 enum registry_kind kind, const char *key, const char *path,
                                 struct lt_error *err)
{
    json_t *rec = NULL;
    int64_t version = 0;
    char entity[96];
    enum lt_code rc = registry_get(o->node, kind, key, &rec, &version, err);

    if (rc == LT_EINVAL) {
        lt_error_field(err, path); /* a key that cannot be one: say where it was written */
        return rc;
    }
    if (rc != LT_OK && rc != LT_ENOTFOUND) {
        return rc;
    }
    if (f->check == OSS_CHECK_NEW) {
        json_decref(rec);
        return rc == LT_OK ? refuse(err, path, "%s is already registered", key) : LT_OK;
    }
    if (rc == LT_ENOTFOUND) {
        return f->check == OSS_CHECK_NONE ? LT_OK : refuse(err, path, "no %s is registered", key);
    }
    if (f->check == OSS_CHECK_ALIVE &&
        strcmp(str(rec, "status") ? str(rec, "status") : "", "deceased") == 0) {
        json_decref(rec);
        return refuse(err, path, "%s is recorded as deceased", key);
    }
    if (f->check == OSS_CHECK_HELD) {
        const json_t *holders = json_object_get(rec, "holders");
        bool held = false;

        for (size_t i = 0; i < json_array_size(holders); i++) {
            const char *h = str(json_array_get(holders, i), "id");

            held = held || (h != NULL && strcmp(h, r->id) == 0);
        }
        if (!held) {
            json_decref(rec);
            lt_error_set(err, LT_EINVAL, "parcel %s is not held by the applicant %s", key, r->id);
            lt_error_hint(err, "only a holder of the parcel may file this procedure");
            lt_error_field(err, path);
            return LT_EINVAL;
        }
    }
    json_decref(rec);
    snprintf(entity, sizeof(entity), "%s/%s", registry_kind_name(kind), key);
    json_object_set_new(r->seen, entity, json_integer(version));
    return kind == REG_PERSON ? note_residences(o, r, key, err) : LT_OK;
}

static bool option_ok(const struct oss_field *f, const char *v)
{
    for (size_t i = 0; i < json_array_size(f->options); i++) {
        const char *o = str(json_array_get(f->options, i), "value");

        if (o != NULL && strcmp(o, v) == 0) {
            return true;
        }
    }
    return false;
}

static enum lt_code check_text_value(struct oss *o, const struct oss_field *f, const char *s,
                                     const char *path, struct lt_error *err)
{
    struct personal_id pid;
    struct parcel_id par;
    const struct unit *un;
    int32_t day;
    int cp;
    enum lt_code rc = LT_OK;

    if (s[0] == '\0' || strlen(s) > TEXT_MAX || !utf8_valid_text(s, strlen(s), NULL)) {
        return refuse(err, path, "%s: empty, too long or not valid text", f->name);
    }
    if (utf8_find_invisible(s, strlen(s), &cp) < strlen(s)) {
        lt_error_set(err, LT_EINVAL, "%s: an invisible character (U+%04X)", f->name, (unsigned)cp);
        lt_error_hint(err, "type the text again; pasted text often carries such characters");
        lt_error_field(err, path);
        return LT_EINVAL;
    }
    switch (f->type) {
    case OSS_F_DATE:
        rc = date_parse(s, &day, err);
        break;
    case OSS_F_PERSON_ID:
        rc = ids_personal_id_parse(o->u, s, &pid, err);
        break;
    case OSS_F_PARCEL_ID:
        rc = ids_parcel_id_parse(o->u, s, oss_today(o), &par, err);
        break;
    case OSS_F_BUSINESS_CODE:
        rc = ids_enterprise_code_check(s, err);
        break;
    case OSS_F_UNIT:
        un = units_find(o->u, s, oss_today(o));
        if (un == NULL || un->level != UNIT_COMMUNE) {
            return refuse(err, path, "%s is not a commune or ward in force today", s);
        }
        break;
    case OSS_F_INDUSTRY_CODE:
        if (!ids_industry_code_valid(s)) {
            return refuse(err, path, "\"%s\" is not an industry code of 4 or 5 digits", s);
        }
        break;
    case OSS_F_ENUM:
        if (!option_ok(f, s)) {
            return refuse(err, path, "\"%s\" is not one of the options", s);
        }
        break;
    default:
        break;
    }
    if (rc != LT_OK) {
        lt_error_field(err, path);
    }
    return rc;
}

static enum lt_code check_field(struct oss *o, struct receipt *r, const struct oss_field *f,
                                const json_t *v, struct lt_error *err)
{
    static const enum registry_kind kinds[] = {
        [OSS_F_PERSON_ID] = REG_PERSON,
        [OSS_F_PARCEL_ID] = REG_PARCEL,
        [OSS_F_BUSINESS_CODE] = REG_BUSINESS,
    };
    char path[LT_ERROR_FIELD_MAX];
    enum lt_code rc;

    snprintf(path, sizeof(path), "fields.%s", f->name);
    if (f->type == OSS_F_NUMBER) {
        if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > NUMBER_MAX) {
            return refuse(err, path, "%s must be a number above 0", f->name);
        }
        json_object_set(r->fields, f->name, (json_t *)v);
        return LT_OK;
    }
    if (!json_is_string(v)) {
        return refuse(err, path, "%s must be text", f->name);
    }
    rc = check_text_value(o, f, json_string_value(v), path, err);
    if (rc == LT_OK && (f->type == OSS_F_PERSON_ID || f->type == OSS_F_PARCEL_ID ||
                        f->type == OSS_F_BUSINESS_CODE)) {
        rc = check_record(o, r, f, kinds[f->type], json_string_value(v), path, err);
    }
    if (rc == LT_OK) {
        json_object_set(r->fields, f->name, (json_t *)v);
    }
    return rc;
}

static enum lt_code check_fields(struct oss *o, struct receipt *r, const json_t *fields,
                                 struct lt_error *err)
{
    const char *k;
    const json_t *v;
    enum lt_code rc;

    if (fields != NULL && !json_is_object(fields)) {
        return refuse(err, "fields", "%s", "fields must be an object");
    }
    json_object_foreach((json_t *)fields, k, v)
    {
        if (oss_procedure_field(r->p, k) == NULL) {
            char path[LT_ERROR_FIELD_MAX];

            snprintf(path, sizeof(path), "fields.%.50s", k);
            return refuse(err, path, "the procedure has no field \"%.60s\"", k);
        }
    }
    for (size_t i = 0; i < r->p->nfields; i++) {
        const struct oss_field *f = &r->p->fields[i];
        const json_t *v2 = json_object_get(fields, f->name);

        if (v2 == NULL || json_is_null(v2) || (json_is_string(v2) && !json_string_length(v2))) {
            if (f->required) {
                char path[LT_ERROR_FIELD_MAX];

                snprintf(path, sizeof(path), "fields.%s", f->name);
                lt_error_set(err, LT_EINVAL, "%s is required", f->name);
                lt_error_hint(err, "fill in every field marked required");
                lt_error_field(err, path);
                return LT_EINVAL;
            }
            continue;
        }
        rc = check_field(o, r, f, v2, err);
        if (rc != LT_OK) {
            return rc;
        }
    }
    return LT_OK;
}

/* A child's personal ID agrees with the birth date and sex declared (as the registry will ask). */
static enum lt_code check_child_id(struct oss *o, const json_t *fields, struct lt_error *err)
{
    const char *id = str(fields, "child_id");
    const char *born = str(fields, "child_birth_date");
    const char *sex = str(fields, "child_sex");
    int32_t day;

    if (id == NULL || born == NULL || sex == NULL || date_parse(born, &day, NULL) != LT_OK) {
        return LT_OK;
    }
    if (ids_personal_id_check(o->u, id, day, strcmp(sex, "female") == 0, err) != LT_OK) {
        lt_error_field(err, "fields.child_id");
        return LT_EINVAL;
    }
    return LT_OK;
}

static enum lt_code check_documents(struct receipt *r, const json_t *docs, struct lt_error *err)
{
    const json_t *known = json_object_get(r->p->doc, "documents");

    if (docs != NULL && (!json_is_array(docs) || json_array_size(docs) > DOCS_MAX)) {
        return refuse(err, "documents", "%s", "documents must be a list of document codes");
    }
    for (size_t i = 0; i < json_array_size(docs); i++) {
        const char *d = json_string_value(json_array_get(docs, i));
        bool found = false;

        for (size_t j = 0; d != NULL && j < json_array_size(known); j++) {
            found = found || strcmp(str(json_array_get(known, j), "code"), d) == 0;
        }
        if (!found) {
            return refuse(err, "documents", "\"%.60s\" is not a document of this procedure",
                          d ? d : "?");
        }
        json_array_append(r->docs, json_array_get(docs, i));
    }
    for (size_t j = 0; j < json_array_size(known); j++) {
        const json_t *kd = json_array_get(known, j);
        bool given = false;

        for (size_t i = 0; i < json_array_size(docs); i++) {
            const char *d = json_string_value(json_array_get(docs, i));

            given = given || (d != NULL && strcmp(d, str(kd, "code")) == 0);
        }
        if (!given && json_is_true(json_object_get(kd, "required"))) {
            return refuse(err, "documents", "the document \"%s\" is required", str(kd, "code"));
        }
    }
    return LT_OK;
}

static enum lt_code check_applicant(struct oss *o, struct receipt *r, struct lt_error *err)
{
    bool person = r->kind != NULL && strcmp(r->kind, "person") == 0;
    bool business = r->kind != NULL && strcmp(r->kind, "business") == 0;
    struct personal_id pid;
    json_t *rec = NULL;
    const char *status;
    enum lt_code rc;

    if (!person && !business) {
        return refuse(err, "applicant.kind", "%s", "applicant.kind must be person or business");
    }
    if (r->id == NULL || r->id[0] == '\0' || strlen(r->id) > 16) {
        return refuse(err, "applicant.id", "%s", "applicant.id is required");
    }
    rc = person ? ids_personal_id_parse(o->u, r->id, &pid, err)
                : ids_enterprise_code_check(r->id, err);
    if (rc != LT_OK) {
        lt_error_field(err, "applicant.id");
        return rc;
    }
    rc = registry_get(o->node, person ? REG_PERSON : REG_BUSINESS, r->id, &rec, NULL, err);
    if (rc == LT_ENOTFOUND) {
        lt_error_set(err, LT_EINVAL, "no %s %s is registered", person ? "person" : "business",
                     r->id);
        lt_error_hint(err, "check the ID, or register the applicant first");
        lt_error_field(err, "applicant.id");
        return LT_EINVAL;
    }
    if (rc != LT_OK) {
        return rc;
    }
    status = str(rec, "status") ? str(rec, "status") : "";
    if (strcmp(status, person ? "deceased" : "dissolved") == 0) {
        json_decref(rec);
        return refuse(err, "applicant.id", "the applicant %s is recorded as deceased or dissolved",
                      r->id);
    }
    json_decref(rec);
    return LT_OK;
}

/* Role, channel and whose dossier it is. */
static enum lt_code check_caller(struct oss *o, const struct auth_principal *who, struct receipt *r,
                                 struct lt_error *err)
{
    bool online = strcmp(r->channel, "online") == 0;

    if (!online && strcmp(r->channel, "counter") != 0) {
        return refuse(err, "channel", "%s", "channel must be counter or online");
    }
    if (who->role == AUTH_CITIZEN) {
        if (!online || strcmp(r->kind ? r->kind : "", "person") != 0 ||
            strcmp(r->id ? r->id : "", who->person_id) != 0) {
            lt_error_set(err, LT_EFORBIDDEN, "a citizen files online, for themselves only");
            lt_error_hint(err, "send channel \"online\" and your own personal ID as applicant");
            return LT_EFORBIDDEN;
        }
        return LT_OK;
    }
    if (who->role != AUTH_CLERK && who->role != AUTH_OFFICER) {
        return lt_error_set(err, LT_EFORBIDDEN, "only clerks, officers and citizens file dossiers");
    }
    const struct unit *un = units_find_default(o->u, who->unit);

    if (un == NULL) {
        return lt_error_set(err, LT_EFORBIDDEN, "the account's unit \"%.16s\" is unknown",
                            who->unit);
    }
    snprintf(r->received_unit, sizeof(r->received_unit), "%s", un->code);
    return LT_OK;
}

static json_t *steps_json(struct oss *o, const struct receipt *r)
{
    json_t *steps = json_array();

    for (size_t i = 0; i < r->p->nsteps; i++) {
        const struct oss_step *s = &r->p->steps[i];
        char unit[UNIT_CODE_MAX];

        /* the composite's own unit is a commune (its level) or a province */
        if (s->proc->level == OSS_LEVEL_PROVINCE) {
            oss_province_of(o, r->competent, unit);
        } else {
            snprintf(unit, sizeof(unit), "%s", r->competent);
        }
        json_array_append_new(steps, json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", s->code,
                                               "name_vi", s->name_vi, "name_en", s->name_en,
                                               "status", "pending", "competent_unit", unit));
    }
    return steps;
}

static json_t *build_doc(struct oss *o, const struct auth_principal *who, struct receipt *r)
{
    int64_t now = oss_now(o);
    char at[OSS_TIME_MAX], due[DATE_STR_MAX], rp[UNIT_CODE_MAX], cp[UNIT_CODE_MAX];

    oss_format_time(now, at);
    date_format(oss_calendar_due(oss_calendar(o), now, r->p->limit), due);
    oss_province_of(o, r->received_unit, rp);
    oss_province_of(o, r->competent, cp);
    return json_pack(
        "{s:s, s:{s:s, s:i, s:s, s:s}, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O,"
        " s:o, s:[{s:s, s:s, s:s, s:s}], s:I, s:s, s:s, s:O}",
        "code", "", "procedure", "code", r->p->code, "version", r->p->version, "name_vi",
        r->p->name_vi, "name_en", r->p->name_en, "applicant", "kind", r->kind, "id", r->id,
        "channel", r->channel, "received_unit", r->received_unit, "competent_unit", r->competent,
        "status", "received", "received_at", at, "due_date", due, "fields", r->fields, "documents",
        r->docs, "steps", steps_json(o, r), "timeline", "time", at, "actor", who->account, "action",
        "receive", "status", "received", "_received_ms", (json_int_t)now, "_received_province", rp,
        "_competent_province", cp, "_seen", r->seen);
}

struct insert {
    struct oss *o;
    json_t *doc;
    const char *actor;
    int64_t version;
};

static enum lt_code insert_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct insert *in = arg;
    const char *code = json_string_value(json_object_get(in->doc, "code"));
    enum lt_code rc;

    rc = oss_append_event(in->o, c, code, "dossier.received", in->actor, 0, in->doc, &in->version,
                          err);
    if (rc == LT_OK) {
        rc = oss_row_insert(c, in->doc, in->version, err);
    }
    return rc;
}

static enum lt_code write_new(struct oss *o, const struct auth_principal *who, json_t *doc,
                              int64_t *version, struct lt_error *err)
{
    struct insert in = { o, doc, who->account, 0 };
    enum lt_code rc = LT_ECONFLICT;

    /* a new random code collides with an existing one about never; retry if it does */
    for (int i = 0; i < RETRIES && rc == LT_ECONFLICT; i++) {
        char code[OSS_DOSSIER_CODE_MAX];

        oss_code_new(code);
        json_object_set_new(doc, "code", json_string(code));
        rc = store_write(node_store(o->node), insert_fn, &in, err);
    }
    *version = in.version;
    return rc;
}

enum lt_code oss_receive(struct oss *o, const struct auth_principal *who, const json_t *req,
                         json_t **dossier, struct lt_error *err)
{
    struct receipt r = { 0 };
    const json_t *app = json_object_get(req, "applicant");
    json_t *doc = NULL;
    int64_t version = 0;
    enum lt_code rc;

    *dossier = NULL;
    rc = oss_require_principal(who, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (str(req, "procedure") == NULL) {
        lt_error_set(err, LT_EINVAL, "procedure is required: the code of a procedure");
        lt_error_hint(err, "GET /api/v1/procedures lists them");
        lt_error_field(err, "procedure");
        return LT_EINVAL;
    }
    r.p = oss_catalogue_find(oss_catalogue(o), str(req, "procedure"), oss_today(o));
    if (r.p == NULL) {
        lt_error_set(err, LT_ENOTFOUND, "no procedure \"%.60s\" is in force today",
                     str(req, "procedure") ? str(req, "procedure") : "");
        lt_error_hint(err, "GET /api/v1/procedures lists them");
        lt_error_field(err, "procedure");
        return LT_ENOTFOUND;
    }
    r.kind = str(app, "kind");
    r.id = str(app, "id");
    r.channel = str(req, "channel") ? str(req, "channel") : "";
    r.fields = json_object();
    r.docs = json_array();
    r.seen = json_object();
    rc = check_caller(o, who, &r, err);
    if (rc == LT_OK) {
        rc = check_applicant(o, &r, err);
    }
    if (rc == LT_OK) {
        rc = check_fields(o, &r, json_object_get(req, "fields"), err);
    }
    if (rc == LT_OK) {
        rc = check_child_id(o, r.fields, err);
    }
    if (rc == LT_OK) {
        rc = check_documents(&r, json_object_get(req, "documents"), err);
    }
    if (rc == LT_OK) {
        rc = oss_route(o, r.p, r.fields, r.id, r.competent, err);
    }
    if (rc == LT_OK && who->role == AUTH_CITIZEN) {
        snprintf(r.received_unit, sizeof(r.received_unit), "%s", r.competent);
    }
    if (rc == LT_OK) {
        rc = oss_try_effects(o, r.p, who->account, r.kind, r.id, r.fields, r.seen, err);
    }
    if (rc == LT_OK) {
        doc = build_doc(o, who, &r);
        rc = write_new(o, who, doc, &version, err);
    }
    if (rc == LT_OK) {
        *dossier = oss_doc_public(doc, version);
    }
    json_decref(doc);
    json_decref(r.fields);
    json_decref(r.docs);
    json_decref(r.seen);
    return rc;
}
