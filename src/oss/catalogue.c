/*
 * catalogue.c - loading and validating the procedure catalogue, and
 * finding the version in force on a day.
 *
 * The structs point into the parsed JSON document, which the catalogue
 * keeps, so strings are borrowed from it and nothing is copied.
 */
#include "oss/catalogue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "oss/effects.h"
#include "core/banned.h"

struct oss_catalogue {
    json_t *root;
    struct oss_procedure *procs;
    size_t count;
};

extern const char lt_data_procedures[];
extern const size_t lt_data_procedures_len;

static const char *const type_names[] = {
    [OSS_F_TEXT] = "text",
    [OSS_F_DATE] = "date",
    [OSS_F_PERSON_ID] = "person_id",
    [OSS_F_PARCEL_ID] = "parcel_id",
    [OSS_F_BUSINESS_CODE] = "business_code",
    [OSS_F_UNIT] = "unit",
    [OSS_F_ENUM] = "enum",
    [OSS_F_NUMBER] = "number",
    [OSS_F_INDUSTRY_CODE] = "industry_code",
};

static const char *const check_names[] = {
    [OSS_CHECK_NONE] = "",
    [OSS_CHECK_NEW] = "new",
    [OSS_CHECK_EXISTS] = "exists",
    [OSS_CHECK_ALIVE] = "alive",
    [OSS_CHECK_HELD] = "held_by_applicant",
};

static const char *const route_names[] = {
    [OSS_ROUTE_UNIT_FIELD] = "unit_field",
    [OSS_ROUTE_RESIDENCE_OF] = "residence_of",
    [OSS_ROUTE_PARCEL] = "parcel",
    [OSS_ROUTE_BUSINESS] = "business",
};

const char *oss_field_type_name(enum oss_field_type t)
{
    return type_names[t];
}

const char *oss_level_name(enum oss_level l)
{
    return l == OSS_LEVEL_PROVINCE ? "province" : "commune";
}

static int lookup(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s != NULL && i < n; i++) {
        if (strcmp(names[i], s) == 0) {
            return (int)i;
        }
    }
    return -1;
}

#define NAMES(a) (a), sizeof(a) / sizeof((a)[0])

static enum lt_code bad(struct lt_error *err, const json_t *p, const char *member, const char *why)
{
    const char *code = json_string_value(json_object_get(p, "code"));

    lt_error_set(err, LT_EINVAL, "catalogue: procedure \"%s\" version %d: %s: %s",
                 code ? code : "?", (int)json_integer_value(json_object_get(p, "version")), member,
                 why);
    lt_error_field(err, member);
    return LT_EINVAL;
}

static const char *str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static enum lt_code parse_field(const json_t *p, const json_t *f, struct oss_field *out,
                                struct lt_error *err)
{
    int t = lookup(NAMES(type_names), str(f, "type"));
    int ch = json_object_get(f, "check") ? lookup(NAMES(check_names), str(f, "check")) : 0;

    out->name = str(f, "name");
    out->required = json_is_true(json_object_get(f, "required"));
    out->options = json_object_get(f, "options");
    if (out->name == NULL || out->name[0] == '\0' || str(f, "label_vi") == NULL ||
        str(f, "label_en") == NULL) {
        return bad(err, p, "fields", "a field without name, label_vi or label_en");
    }
    if (t < 0 || ch < 0) {
        return bad(err, p, out->name, "unknown type or check");
    }
    out->type = (enum oss_field_type)t;
    out->check = (enum oss_check)ch;
    if ((t == OSS_F_ENUM) != (json_array_size(out->options) > 0)) {
        return bad(err, p, out->name, "options are given exactly for enum fields");
    }
    if (ch == OSS_CHECK_HELD && t != OSS_F_PARCEL_ID) {
        return bad(err, p, out->name, "held_by_applicant is for parcel fields");
    }
    if ((ch == OSS_CHECK_ALIVE) && t != OSS_F_PERSON_ID) {
        return bad(err, p, out->name, "alive is for person fields");
    }
    return LT_OK;
}

const struct oss_field *oss_procedure_field(const struct oss_procedure *p, const char *name)
{
    for (size_t i = 0; i < p->nfields; i++) {
        if (strcmp(p->fields[i].name, name) == 0) {
            return &p->fields[i];
        }
    }
    return NULL;
}

const struct oss_step *oss_procedure_step(const struct oss_procedure *p, const char *code)
{
    for (size_t i = 0; i < p->nsteps; i++) {
        if (strcmp(p->steps[i].code, code) == 0) {
            return &p->steps[i];
        }
    }
    return NULL;
}

static enum lt_code parse_route(const json_t *pj, struct oss_procedure *p, struct lt_error *err)
{
    const json_t *r = json_object_get(pj, "route");
    int by = lookup(NAMES(route_names), str(r, "by"));
    static const enum oss_field_type want[] = {
        [OSS_ROUTE_UNIT_FIELD] = OSS_F_UNIT,
        [OSS_ROUTE_RESIDENCE_OF] = OSS_F_PERSON_ID,
        [OSS_ROUTE_PARCEL] = OSS_F_PARCEL_ID,
        [OSS_ROUTE_BUSINESS] = OSS_F_BUSINESS_CODE,
    };
    const struct oss_field *f;

    p->route_field = str(r, "field");
    if (by < 0 || p->route_field == NULL) {
        return bad(err, pj, "route",
                   "needs by (unit_field, residence_of, parcel, business) and field");
    }
    p->route_by = (enum oss_route_by)by;
    if (by == OSS_ROUTE_RESIDENCE_OF && strcmp(p->route_field, "applicant") == 0) {
        return LT_OK;
    }
    f = oss_procedure_field(p, p->route_field);
    if (f == NULL || f->type != want[by] || !f->required) {
        return bad(err, pj, "route", "its field is missing, optional or of the wrong type");
    }
    return LT_OK;
}

static enum lt_code parse_limit(const json_t *pj, struct oss_procedure *p, struct lt_error *err)
{
    const json_t *l = json_object_get(pj, "time_limit");
    json_int_t n = json_integer_value(json_object_get(l, "working_days"));

    p->limit.same_day = json_is_true(json_object_get(l, "same_day"));
    p->limit.working_days = (int)n;
    if (p->limit.same_day == (n != 0) || n < 0 || n > 365) {
        return bad(err, pj, "time_limit", "needs working_days (1..365) or same_day: true");
    }
    return LT_OK;
}

/* The effects are known and their fields are there. */
static enum lt_code check_effects(const json_t *pj, struct oss_procedure *p, struct lt_error *err)
{
    const json_t *eff = json_object_get(pj, "effects");

    if (!json_is_array(eff)) {
        return bad(err, pj, "effects", "missing");
    }
    p->neffects = json_array_size(eff);
    p->effects = xcalloc(p->neffects + 1, sizeof(*p->effects));
    for (size_t i = 0; i < p->neffects; i++) {
        const char *k = json_string_value(json_array_get(eff, i));
        const char *const *needs = k ? oss_effect_needs(k) : NULL;

        if (needs == NULL) {
            return bad(err, pj, "effects", "an effect the program does not know");
        }
        for (; *needs != NULL; needs++) {
            const char *n = (*needs)[0] == '?' ? *needs + 1 : *needs;
            const struct oss_field *f = oss_procedure_field(p, n);

            if (f == NULL || ((*needs)[0] != '?' && !f->required)) {
                return bad(err, pj, "effects", "an effect needs a field the procedure lacks");
            }
        }
        p->effects[i] = k;
    }
    return LT_OK;
}

static enum lt_code parse_one(const json_t *pj, struct oss_procedure *p, struct lt_error *err)
{
    const json_t *fields = json_object_get(pj, "fields");
    const char *lvl = str(pj, "level");
    const char *vt = str(pj, "valid_to");
    json_int_t fee = json_integer_value(json_object_get(pj, "fee_vnd"));
    enum lt_code rc;

    memset(p, 0, sizeof(*p));
    p->doc = pj;
    p->code = str(pj, "code");
    p->version = (int)json_integer_value(json_object_get(pj, "version"));
    p->name_vi = str(pj, "name_vi");
    p->name_en = str(pj, "name_en");
    p->domain = str(pj, "domain");
    p->fee_vnd = fee;
    p->valid_to = DATE_MAX;
    if (p->code == NULL || strlen(p->code) >= OSS_CODE_MAX || p->version < 1 ||
        p->name_vi == NULL || p->name_en == NULL || p->domain == NULL || fee < 0) {
        return bad(err, pj, "code", "needs code, version >= 1, name_vi, name_en, domain, fee_vnd");
    }
    if (date_parse(str(pj, "valid_from") ? str(pj, "valid_from") : "", &p->valid_from, err) ||
        (vt != NULL && date_parse(vt, &p->valid_to, err)) || p->valid_to < p->valid_from) {
        return bad(err, pj, "valid_from", "needs valid_from (and valid_to, not before it)");
    }
    if (lvl == NULL || (strcmp(lvl, "commune") != 0 && strcmp(lvl, "province") != 0)) {
        return bad(err, pj, "level", "must be commune or province");
    }
    p->level = strcmp(lvl, "province") == 0 ? OSS_LEVEL_PROVINCE : OSS_LEVEL_COMMUNE;
    if (!json_is_array(fields) || !json_is_array(json_object_get(pj, "documents")) ||
        !json_is_array(json_object_get(pj, "legal_basis")) ||
        json_array_size(json_object_get(pj, "legal_basis")) == 0) {
        return bad(err, pj, "fields", "needs fields, documents and a legal basis");
    }
    p->nfields = json_array_size(fields);
    p->fields = xcalloc(p->nfields + 1, sizeof(*p->fields));
    for (size_t i = 0; i < p->nfields; i++) {
        rc = parse_field(pj, json_array_get(fields, i), &p->fields[i], err);
        if (rc != LT_OK) {
            return rc;
        }
        if (oss_procedure_field(p, p->fields[i].name) != &p->fields[i]) {
            return bad(err, pj, p->fields[i].name, "a field named twice");
        }
    }
    rc = parse_limit(pj, p, err);
    if (rc == LT_OK) {
        rc = parse_route(pj, p, err);
    }
    if (rc == LT_OK) {
        rc = check_effects(pj, p, err);
    }
    return rc;
}

/* The composite can fill every required field of the step's procedure. */
static enum lt_code check_step(const json_t *pj, const struct oss_procedure *p,
                               const struct oss_step *s, struct lt_error *err)
{
    for (size_t i = 0; i < s->proc->nfields; i++) {
        const struct oss_field *sf = &s->proc->fields[i];
        const char *from = str(s->bind, sf->name);
        const struct oss_field *cf = oss_procedure_field(p, from ? from : sf->name);

        if (cf == NULL && sf->required) {
            return bad(err, pj, "steps", "a step needs a field the composite does not have");
        }
        if (cf != NULL && cf->type != sf->type) {
            return bad(err, pj, "steps", "a step's field is bound to a field of another type");
        }
    }
    return LT_OK;
}

static enum lt_code link_steps(struct oss_catalogue *cat, const json_t *pj, struct oss_procedure *p,
                               struct lt_error *err)
{
    const json_t *steps = json_object_get(pj, "steps");

    if (steps == NULL) {
        return LT_OK;
    }
    p->nsteps = json_array_size(steps);
    if (p->nsteps < 2 || p->neffects > 0) {
        return bad(err, pj, "steps", "a composite has two steps or more and no effects of its own");
    }
    p->steps = xcalloc(p->nsteps, sizeof(*p->steps));
    for (size_t i = 0; i < p->nsteps; i++) {
        const json_t *sj = json_array_get(steps, i);
        struct oss_step *s = &p->steps[i];
        const char *pc = str(sj, "procedure");

        s->code = str(sj, "code");
        s->name_vi = str(sj, "name_vi");
        s->name_en = str(sj, "name_en");
        s->bind = json_object_get(sj, "bind");
        s->proc = pc ? oss_catalogue_find(cat, pc, p->valid_from) : NULL;
        if (s->code == NULL || s->name_vi == NULL || s->name_en == NULL || s->proc == NULL ||
            s->proc->nsteps > 0 || !json_is_object(s->bind)) {
            return bad(err, pj, "steps",
                       "each step needs code, names, bind and a single procedure in force");
        }
        if (oss_procedure_step(p, s->code) != s) {
            return bad(err, pj, "steps", "a step code used twice");
        }
        if (check_step(pj, p, s, err) != LT_OK) {
            return LT_EINVAL;
        }
    }
    return LT_OK;
}

static bool overlap(const struct oss_procedure *a, const struct oss_procedure *b)
{
    return strcmp(a->code, b->code) == 0 && a->valid_from <= b->valid_to &&
           b->valid_from <= a->valid_to;
}

enum lt_code oss_catalogue_parse(const char *text, size_t len, struct oss_catalogue **out,
                                 struct lt_error *err)
{
    json_error_t jerr;
    struct oss_catalogue *cat = xcalloc(1, sizeof(*cat));
    const json_t *procs;
    enum lt_code rc = LT_OK;

    *out = NULL;
    cat->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    procs = json_object_get(cat->root, "procedures");
    if (!json_is_array(procs) || json_array_size(procs) == 0) {
        lt_error_set(err, LT_EINVAL, "catalogue: no \"procedures\" array");
        lt_error_detail(err, "%s", cat->root ? "" : jerr.text);
        oss_catalogue_free(cat);
        return LT_EINVAL;
    }
    cat->count = json_array_size(procs);
    cat->procs = xcalloc(cat->count, sizeof(*cat->procs));
    for (size_t i = 0; rc == LT_OK && i < cat->count; i++) {
        rc = parse_one(json_array_get(procs, i), &cat->procs[i], err);
        for (size_t j = 0; rc == LT_OK && j < i; j++) {
            if (overlap(&cat->procs[i], &cat->procs[j])) {
                rc = bad(err, cat->procs[i].doc, "valid_from", "two versions in force on one day");
            }
        }
    }
    for (size_t i = 0; rc == LT_OK && i < cat->count; i++) {
        rc = link_steps(cat, cat->procs[i].doc, &cat->procs[i], err);
    }
    if (rc != LT_OK) {
        oss_catalogue_free(cat);
        return rc;
    }
    *out = cat;
    return LT_OK;
}

void oss_catalogue_free(struct oss_catalogue *cat)
{
    if (cat == NULL) {
        return;
    }
    for (size_t i = 0; i < cat->count; i++) {
        free(cat->procs[i].fields);
        free(cat->procs[i].effects);
        free(cat->procs[i].steps);
    }
    free(cat->procs);
    json_decref(cat->root);
    free(cat);
}

static struct oss_catalogue *builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void load_builtin(void)
{
    struct lt_error err;

    if (oss_catalogue_parse(lt_data_procedures, lt_data_procedures_len, &builtin, &err) != LT_OK) {
        BUG("the built-in procedure catalogue does not load: %s", err.message);
    }
}

const struct oss_catalogue *oss_catalogue_builtin(void)
{
    pthread_once(&builtin_once, load_builtin);
    return builtin;
}

const struct oss_procedure *oss_catalogue_find(const struct oss_catalogue *cat, const char *code,
                                               int32_t day)
{
    for (size_t i = 0; code != NULL && i < cat->count; i++) {
        const struct oss_procedure *p = &cat->procs[i];

        if (strcmp(p->code, code) == 0 && p->valid_from <= day && day <= p->valid_to) {
            return p;
        }
    }
    return NULL;
}

const struct oss_procedure *oss_catalogue_version(const struct oss_catalogue *cat, const char *code,
                                                  int version)
{
    for (size_t i = 0; code != NULL && i < cat->count; i++) {
        if (strcmp(cat->procs[i].code, code) == 0 && cat->procs[i].version == version) {
            return &cat->procs[i];
        }
    }
    return NULL;
}

size_t oss_catalogue_count(const struct oss_catalogue *cat)
{
    return cat->count;
}

const struct oss_procedure *oss_catalogue_at(const struct oss_catalogue *cat, size_t i)
{
    return i < cat->count ? &cat->procs[i] : NULL;
}

size_t oss_catalogue_in_force(const struct oss_catalogue *cat, int32_t day,
                              const struct oss_procedure **out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < cat->count; i++) {
        const struct oss_procedure *p = &cat->procs[i];

        if (p->valid_from <= day && day <= p->valid_to) {
            if (n < max) {
                out[n] = p;
            }
            n++;
        }
    }
    return n;
}

static json_t *limit_json(const struct oss_time_limit *l)
{
    if (l->same_day) {
        return json_pack("{s:b}", "same_day", 1);
    }
    return json_pack("{s:i}", "working_days", l->working_days);
}

json_t *oss_procedure_summary_json(const struct oss_procedure *p)
{
    return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:o, s:I, s:b}", "code", p->code, "version",
                     p->version, "name_vi", p->name_vi, "name_en", p->name_en, "domain", p->domain,
                     "level", oss_level_name(p->level), "time_limit", limit_json(&p->limit),
                     "fee_vnd", (json_int_t)p->fee_vnd, "composite", p->nsteps > 0);
}

static json_t *fields_json(const struct oss_procedure *p)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < p->nfields; i++) {
        const json_t *fj = json_array_get(json_object_get(p->doc, "fields"), i);
        json_t *f =
            json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", p->fields[i].name, "label_vi",
                      str(fj, "label_vi"), "label_en", str(fj, "label_en"), "type",
                      oss_field_type_name(p->fields[i].type), "required", p->fields[i].required);

        if (p->fields[i].options != NULL) {
            json_object_set(f, "options", (json_t *)p->fields[i].options);
        }
        json_array_append_new(arr, f);
    }
    return arr;
}

json_t *oss_procedure_json(const struct oss_procedure *p)
{
    json_t *o = oss_procedure_summary_json(p);
    json_t *steps = json_array();
    char day[DATE_STR_MAX];

    date_format(p->valid_from, day);
    json_object_set_new(o, "valid_from", json_string(day));
    json_object_set_new(o, "fields", fields_json(p));
    json_object_set(o, "documents", json_object_get(p->doc, "documents"));
    json_object_set(o, "effects", json_object_get(p->doc, "effects"));
    json_object_set(o, "legal_basis", json_object_get(p->doc, "legal_basis"));
    json_object_set(o, "confirmed", json_object_get(p->doc, "confirmed"));
    if (json_object_get(p->doc, "note") != NULL) {
        json_object_set(o, "note", json_object_get(p->doc, "note"));
    }
    for (size_t i = 0; i < p->nsteps; i++) {
        json_array_append_new(steps,
                              json_pack("{s:s, s:s, s:s, s:s}", "code", p->steps[i].code,
                                        "procedure", p->steps[i].proc->code, "name_vi",
                                        p->steps[i].name_vi, "name_en", p->steps[i].name_en));
    }
    json_object_set_new(o, "steps", steps);
    return o;
}
