/*
 * dossier.c - actions on a dossier, and reading one (see dossier.h).
 */
#include "oss/dossier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "oss/code.h"
#include "oss/effects.h"
#include "core/banned.h"

#define REASON_MAX     1000
#define FIELD_PATH_MAX 80 /* "fields.<name>" */

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));

    return s != NULL ? s : "";
}

enum lt_code oss_row_update(struct store_conn *c, const json_t *doc, int64_t version,
                            struct lt_error *err)
{
    static const char sql[] = "UPDATE oss_dossiers SET status = ?, open = ?, due_day = ?,"
                              " settled_day = ?, version = ?, doc = ? WHERE code = ?";
    struct store_stmt *st;
    enum oss_status s = OSS_RECEIVED;
    int32_t due = 0;
    char *text;
    enum lt_code rc = store_prepare(c, sql, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    oss_status_parse(str(doc, "status"), &s);
    date_parse(str(doc, "due_date"), &due, NULL);
    text = json_dumps(doc, OSS_DUMP_FLAGS);
    store_bind_text(st, 1, oss_status_name(s));
    store_bind_int(st, 2, oss_status_open(s));
    store_bind_int(st, 3, due);
    if (json_is_integer(json_object_get(doc, "_settled_on"))) {
        store_bind_int(st, 4, json_integer_value(json_object_get(doc, "_settled_on")));
    } else {
        store_bind_null(st, 4);
    }
    store_bind_int(st, 5, version);
    store_bind_text(st, 6, text);
    store_bind_text(st, 7, str(doc, "code"));
    rc = store_exec_stmt(st, err);
    free(text);
    return rc;
}

/* One action, from the request. */
struct action {
    struct oss *o;
    const struct auth_principal *who;
    const char *code;
    enum oss_action a;
    const char *step;
    const char *reason;
    const char *note;
    int64_t want_version; /* 0: any */
    json_t *doc;          /* the result */
    int64_t version;
};

static enum lt_code forbidden(struct lt_error *err, const char *unit, const char *what)
{
    lt_error_set(err, LT_EFORBIDDEN, "%s", what);
    lt_error_detail(err, "the competent unit is %s", unit);
    lt_error_hint(err, "an officer of that unit (or of a unit above it) decides");
    return LT_EFORBIDDEN;
}

/* May the caller do this action on doc (for step: on that step)? */
static enum lt_code check_right(const struct action *ac, const json_t *doc, const json_t *step,
                                struct lt_error *err)
{
    const struct auth_principal *who = ac->who;
    const char *competent = step != NULL ? str(step, "competent_unit") : str(doc, "competent_unit");
    bool officer = who->role == AUTH_OFFICER && oss_within(ac->o, who, competent);
    bool clerk = who->role == AUTH_CLERK && oss_within(ac->o, who, str(doc, "received_unit"));

    switch (ac->a) {
    case OSS_RESUME:
    case OSS_RETURN_RESULT:
        if (officer || clerk) {
            return LT_OK;
        }
        return forbidden(
            err, competent,
            "only the receiving counter or an officer of the competent unit may do this");
    default:
        if (officer) {
            return LT_OK;
        }
        return forbidden(err, competent,
                         "only an officer of the competent unit decides this dossier");
    }
}

/* Can the role take the action on any dossier at all?  (Which one: check_right.) */
static bool role_may(enum auth_role role, enum oss_action a)
{
    if (a == OSS_RESUME || a == OSS_RETURN_RESULT) {
        return role == AUTH_OFFICER || role == AUTH_CLERK;
    }
    return role == AUTH_OFFICER;
}

static void add_timeline(struct action *ac, json_t *doc, const char *status)
{
    char at[OSS_TIME_MAX];
    json_t *t;

    oss_format_time(oss_now(ac->o), at);
    t = json_pack("{s:s, s:s, s:s, s:s}", "time", at, "actor", ac->who->account, "action",
                  oss_action_name(ac->a), "status", status);
    if (ac->step != NULL) {
        json_object_set_new(t, "step", json_string(ac->step));
    }
    if (ac->reason != NULL) {
        json_object_set_new(t, "reason", json_string(ac->reason));
    }
    if (ac->note != NULL) {
        json_object_set_new(t, "note", json_string(ac->note));
    }
    json_array_append_new(json_object_get(doc, "timeline"), t);
}

/* The fields a step's procedure sees: its own names, bound to the composite's. */
static json_t *bound_fields(const struct oss_step *s, const json_t *fields)
{
    json_t *out = json_object();

    for (size_t i = 0; i < s->proc->nfields; i++) {
        const char *name = s->proc->fields[i].name;
        const char *from = json_string_value(json_object_get(s->bind, name));
        json_t *v = json_object_get(fields, from != NULL ? from : name);

        if (v != NULL) {
            json_object_set(out, name, v);
        }
    }
    return out;
}

/* The applicant's check, then each effect of p, in ctx (fields: p's own). */
static enum lt_code run_effects(const struct oss_effect_ctx *ctx, const struct oss_procedure *p,
                                bool business, struct lt_error *err)
{
    enum lt_code rc = oss_effect_check_applicant(ctx, business, err);

    for (size_t i = 0; rc == LT_OK && i < p->neffects; i++) {
        rc = oss_effect_apply(ctx, p->effects[i], err);
    }
    return rc;
}

static enum lt_code apply_effects(struct action *ac, struct store_conn *c, const json_t *doc,
                                  const struct oss_procedure *p, const json_t *fields,
                                  struct lt_error *err)
{
    struct oss_effect_ctx ctx = {
        .node = ac->o->node,
        .conn = c,
        .dossier = ac->code,
        .actor = ac->who->account,
        .fields = fields,
        .seen = json_object_get(doc, "_seen"),
        .applicant = str(json_object_get(doc, "applicant"), "id"),
        .today = oss_today(ac->o),
    };

    return run_effects(
        &ctx, p, strcmp(str(json_object_get(doc, "applicant"), "kind"), "business") == 0, err);
}

struct trial {
    struct oss *o;
    const struct oss_procedure *p;
    const char *actor, *kind, *applicant;
    const json_t *fields, *seen;
    const char *failed_step; /* the step whose effects were refused, or NULL */
    bool passed;
};

/* Every effect of the dossier in order; never kept (see oss_try_effects). */
static enum lt_code trial_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct trial *t = arg;
    struct oss_effect_ctx ctx = {
        .node = t->o->node,
        .conn = c,
        .dossier = "receipt-check",
        .actor = t->actor,
        .fields = t->fields,
        .seen = t->seen,
        .applicant = t->applicant,
        .today = oss_today(t->o),
    };
    bool business = strcmp(t->kind, "business") == 0;
    enum lt_code rc = LT_OK;

    if (t->p->nsteps == 0) {
        rc = run_effects(&ctx, t->p, business, err);
    }
    for (size_t i = 0; rc == LT_OK && i < t->p->nsteps; i++) {
        json_t *fields = bound_fields(&t->p->steps[i], t->fields);

        ctx.fields = fields;
        rc = run_effects(&ctx, t->p->steps[i].proc, business, err);
        json_decref(fields);
        if (rc != LT_OK) {
            t->failed_step = t->p->steps[i].code;
        }
    }
    if (rc != LT_OK) {
        return rc;
    }
    t->passed = true;
    /* any refusal rolls the write back: nothing of the trial is kept */
    return lt_error_set(err, LT_ECONFLICT, "a receipt's trial of its effects is never kept");
}

/*
 * The form's field behind a registry field that refused a trial: the one
 * of the dossier's fields named as it ("household_id") or ending in "_" and
 * its name ("child_ethnicity" for "ethnicity"), if exactly one is; else
 * "fields" as a whole.
 */
static void form_field(const json_t *fields, const char *field, struct lt_error *err)
{
    const char *name, *found = NULL;
    size_t flen = strlen(field), matches = 0;
    json_t *v;

    json_object_foreach((json_t *)fields, name, v)
    {
        size_t len = strlen(name);

        (void)v;
        if (flen > 0 &&
            (strcmp(name, field) == 0 || (len > flen + 1 && name[len - flen - 1] == '_' &&
                                          strcmp(name + len - flen, field) == 0))) {
            found = name;
            matches++;
        }
    }
    if (matches == 1) {
        char path[FIELD_PATH_MAX];

        snprintf(path, sizeof(path), "fields.%s", found);
        lt_error_field(err, path);
    } else {
        lt_error_field(err, "fields");
    }
}

enum lt_code oss_try_effects(struct oss *o, const struct oss_procedure *p, const char *actor,
                             const char *applicant_kind, const char *applicant,
                             const json_t *fields, const json_t *seen, struct lt_error *err)
{
    struct trial t = { o, p, actor, applicant_kind, applicant, fields, seen, NULL, false };
    struct lt_error why;
    enum lt_code rc;

    rc = store_write(node_store(o->node), trial_fn, &t, &why);
    if (t.passed) {
        return LT_OK;
    }
    if (rc != LT_EINVAL && rc != LT_ENOTFOUND && rc != LT_ECONFLICT) {
        *err = why; /* the store's own failure: as it is */
        return rc;
    }
    if (rc == LT_ECONFLICT) {
        why.hint[0] = '\0'; /* a record the dossier would register exists already */
    }
    lt_error_set(err, LT_EINVAL, "this dossier could not be approved: %s", why.message);
    if (t.failed_step != NULL) {
        lt_error_detail(err, "at step \"%s\"; checked at receipt by trying its changes",
                        t.failed_step);
    } else {
        lt_error_detail(err, "checked at receipt by trying its changes");
    }
    lt_error_hint(err, "%s", why.hint[0] ? why.hint : "correct the fields and receive it again");
    form_field(fields, why.field, err);
    return LT_EINVAL;
}

static json_t *find_step(const json_t *doc, const char *code, size_t *index)
{
    const json_t *steps = json_object_get(doc, "steps");

    for (size_t i = 0; i < json_array_size(steps); i++) {
        if (strcmp(str(json_array_get(steps, i), "code"), code) == 0) {
            *index = i;
            return json_array_get(steps, i);
        }
    }
    return NULL;
}

/* Approve one step of a composite; *last tells whether it was the last one. */
static enum lt_code approve_step(struct action *ac, struct store_conn *c, json_t *doc,
                                 const struct oss_procedure *p, bool *last, struct lt_error *err)
{
    const json_t *steps = json_object_get(doc, "steps");
    size_t idx = 0;
    json_t *step = find_step(doc, ac->step, &idx);
    const struct oss_step *ps = oss_procedure_step(p, ac->step);
    json_t *fields;
    enum lt_code rc;

    if (step == NULL || ps == NULL) {
        lt_error_set(err, LT_EINVAL, "the dossier has no step \"%.60s\"", ac->step);
        lt_error_field(err, "step");
        return LT_EINVAL;
    }
    for (size_t i = 0; i < idx; i++) {
        if (strcmp(str(json_array_get(steps, i), "status"), "approved") != 0) {
            lt_error_set(err, LT_ECONFLICT, "step \"%s\" waits for step \"%s\"", ac->step,
                         str(json_array_get(steps, i), "code"));
            lt_error_hint(err, "approve the steps in order");
            lt_error_field(err, "step");
            return LT_ECONFLICT;
        }
    }
    if (strcmp(str(step, "status"), "pending") != 0) {
        lt_error_set(err, LT_ECONFLICT, "step \"%s\" is %s already", ac->step, str(step, "status"));
        lt_error_field(err, "step");
        return LT_ECONFLICT;
    }
    rc = check_right(ac, doc, step, err);
    if (rc != LT_OK) {
        return rc;
    }
    fields = bound_fields(ps, json_object_get(doc, "fields"));
    rc = apply_effects(ac, c, doc, ps->proc, fields, err);
    json_decref(fields);
    if (rc != LT_OK) {
        return rc;
    }
    json_object_set_new(step, "status", json_string("approved"));
    *last = idx + 1 == json_array_size(steps);
    return LT_OK;
}

static void reject_pending_steps(json_t *doc)
{
    const json_t *steps = json_object_get(doc, "steps");

    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i);

        if (strcmp(str(s, "status"), "pending") == 0) {
            json_object_set_new(s, "status", json_string("rejected"));
        }
    }
}

static void settle(struct action *ac, json_t *doc)
{
    json_object_set_new(doc, "_settled_on", json_integer(oss_today(ac->o)));
}

static void pause_clock(struct action *ac, json_t *doc)
{
    json_object_set_new(doc, "_paused_on", json_integer(oss_today(ac->o)));
}

static void resume_clock(struct action *ac, json_t *doc)
{
    int32_t paused = (int32_t)json_integer_value(json_object_get(doc, "_paused_on"));
    int32_t due = 0;
    int n = oss_calendar_working_days_between(oss_calendar(ac->o), paused, oss_today(ac->o));
    char day[DATE_STR_MAX];

    date_parse(str(doc, "due_date"), &due, NULL);
    date_format(oss_calendar_add_working_days(oss_calendar(ac->o), due, n), day);
    json_object_set_new(doc, "due_date", json_string(day));
    json_object_del(doc, "_paused_on");
}

/* The decision and its consequences on doc; next is the status reached. */
static enum lt_code decide(struct action *ac, struct store_conn *c, json_t *doc,
                           const struct oss_procedure *p, enum oss_status *next,
                           struct lt_error *err)
{
    bool composite = p->nsteps > 0;
    bool last = true;
    enum lt_code rc = LT_OK;

    if (ac->step != NULL && !composite) {
        lt_error_set(err, LT_EINVAL, "the dossier has no steps");
        lt_error_field(err, "step");
        return LT_EINVAL;
    }
    if (ac->a == OSS_APPROVE && composite) {
        if (ac->step == NULL) {
            lt_error_set(err, LT_EINVAL, "name the step to approve");
            lt_error_hint(err, "a composite dossier is approved step by step");
            lt_error_field(err, "step");
            return LT_EINVAL;
        }
        rc = approve_step(ac, c, doc, p, &last, err);
        if (rc == LT_OK && !last) {
            *next = OSS_IN_REVIEW;
        }
    } else if (ac->a == OSS_APPROVE) {
        rc = check_right(ac, doc, NULL, err);
        if (rc == LT_OK) {
            rc = apply_effects(ac, c, doc, p, json_object_get(doc, "fields"), err);
        }
    } else if (ac->a == OSS_REJECT) {
        size_t idx;
        json_t *step = ac->step != NULL ? find_step(doc, ac->step, &idx) : NULL;

        if (ac->step != NULL && step == NULL) {
            lt_error_set(err, LT_EINVAL, "the dossier has no step \"%.60s\"", ac->step);
            lt_error_field(err, "step");
            return LT_EINVAL;
        }
        rc = check_right(ac, doc, step, err);
        if (rc == LT_OK) {
            reject_pending_steps(doc);
        }
    }
    if (rc == LT_OK && (*next == OSS_APPROVED || *next == OSS_REJECTED)) {
        settle(ac, doc);
    }
    return rc;
}

/* The event of an action: what was done and the status and due date it left. */
static enum lt_code append_action(struct action *ac, struct store_conn *c, const json_t *doc,
                                  enum oss_status next, int64_t version, struct lt_error *err)
{
    char type[48];
    json_t *body = json_pack("{s:s, s:s, s:s}", "action", oss_action_name(ac->a), "status",
                             oss_status_name(next), "due_date", str(doc, "due_date"));
    enum lt_code rc;

    if (ac->step != NULL) {
        json_object_set_new(body, "step", json_string(ac->step));
    }
    if (ac->reason != NULL) {
        json_object_set_new(body, "reason", json_string(ac->reason));
    }
    if (ac->note != NULL) {
        json_object_set_new(body, "note", json_string(ac->note));
    }
    snprintf(type, sizeof(type), "dossier.%s", oss_action_name(ac->a));
    rc = oss_append_event(ac->o, c, ac->code, type, ac->who->account, version, body, &ac->version,
                          err);
    json_decref(body);
    return rc;
}

static enum lt_code act_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct action *ac = arg;
    json_t *doc = NULL;
    const json_t *pj;
    const struct oss_procedure *p;
    enum oss_status cur, next;
    int64_t version;
    enum lt_code rc;

    rc = oss_row_load(c, ac->code, &doc, &version, err);
    if (rc != LT_OK) {
        return rc;
    }
    pj = json_object_get(doc, "procedure");
    p = oss_catalogue_version(oss_catalogue(ac->o), str(pj, "code"),
                              (int)json_integer_value(json_object_get(pj, "version")));
    if (p == NULL || !oss_status_parse(str(doc, "status"), &cur)) {
        rc = lt_error_set(err, LT_EINTERNAL,
                          "dossier %s names a procedure version or status "
                          "this program does not know",
                          ac->code);
        goto out;
    }
    if (!oss_may_read(ac->o, ac->who, doc)) {
        rc = forbidden(err, str(doc, "competent_unit"),
                       "the dossier lies outside your jurisdiction");
        goto out;
    }
    if (ac->want_version != 0 && ac->want_version != version) {
        rc = lt_error_set(err, LT_ECONFLICT,
                          ac->want_version > version ? "dossier %s has no version %lld yet"
                                                     : "dossier %s changed since version %lld",
                          ac->code, (long long)ac->want_version);
        lt_error_detail(err, "current version %lld", (long long)version);
        lt_error_hint(err, "read the dossier again");
        goto out;
    }
    if (!role_may(ac->who->role, ac->a)) {
        rc = check_right(ac, doc, NULL, err); /* refused, whatever the status */
        goto out;
    }
    rc = oss_transition(cur, ac->a, &next, err);
    if (rc == LT_OK && ac->a != OSS_APPROVE && ac->a != OSS_REJECT) {
        rc = check_right(ac, doc, NULL, err);
    }
    if (rc == LT_OK) {
        rc = decide(ac, c, doc, p, &next, err);
    }
    if (rc != LT_OK) {
        goto out;
    }
    if (ac->a == OSS_REQUEST_INFO) {
        pause_clock(ac, doc);
    } else if (ac->a == OSS_RESUME) {
        resume_clock(ac, doc);
    }
    json_object_set_new(doc, "status", json_string(oss_status_name(next)));
    if (ac->reason != NULL && ac->a == OSS_REJECT) {
        json_object_set_new(doc, "reason", json_string(ac->reason));
    }
    add_timeline(ac, doc, oss_status_name(next));
    rc = append_action(ac, c, doc, next, version, err);
    if (rc == LT_OK) {
        rc = oss_row_update(c, doc, ac->version, err);
    }
out:
    if (rc == LT_OK) {
        ac->doc = doc;
    } else {
        json_decref(doc);
    }
    return rc;
}

static enum lt_code text_member(const json_t *req, const char *name, const char **out,
                                struct lt_error *err)
{
    const json_t *v = json_object_get(req, name);

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return LT_OK;
    }
    if (!json_is_string(v)) {
        lt_error_set(err, LT_EINVAL, "%s must be text, not %s", name,
                     json_is_number(v) ? "a number" : "a list, object or true/false");
        lt_error_hint(err, "quote it: \"%s\": \"...\"", name);
        lt_error_field(err, name);
        return LT_EINVAL;
    }
    if (json_string_length(v) > REASON_MAX) {
        lt_error_set(err, LT_EINVAL, "%s is longer than %d bytes", name, REASON_MAX);
        lt_error_field(err, name);
        return LT_EINVAL;
    }
    *out = json_string_length(v) > 0 ? json_string_value(v) : NULL;
    return LT_OK;
}

static enum lt_code parse_action(const json_t *req, struct action *ac, struct lt_error *err)
{
    const json_t *ver = json_object_get(req, "version");
    enum lt_code rc;

    if (!oss_action_parse(json_string_value(json_object_get(req, "action")), &ac->a)) {
        lt_error_set(err, LT_EINVAL, "unknown action");
        lt_error_hint(err, "one of review, request_info, resume, approve, reject, return_result");
        lt_error_field(err, "action");
        return LT_EINVAL;
    }
    rc = text_member(req, "step", &ac->step, err);
    if (rc == LT_OK) {
        rc = text_member(req, "reason", &ac->reason, err);
    }
    if (rc == LT_OK) {
        rc = text_member(req, "note", &ac->note, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (ver != NULL && !json_is_null(ver) &&
        (!json_is_integer(ver) || json_integer_value(ver) < 1)) {
        lt_error_set(err, LT_EINVAL, "version must be a whole number from 1");
        lt_error_field(err, "version");
        return LT_EINVAL;
    }
    ac->want_version = json_is_integer(ver) ? json_integer_value(ver) : 0;
    if (ac->a == OSS_REJECT && ac->reason == NULL) {
        lt_error_set(err, LT_EINVAL, "a rejection needs its reason");
        lt_error_hint(err, "the applicant is told why, in writing");
        lt_error_field(err, "reason");
        return LT_EINVAL;
    }
    if (ac->a == OSS_REQUEST_INFO && ac->note == NULL && ac->reason == NULL) {
        lt_error_set(err, LT_EINVAL, "asking the applicant for more needs what to bring");
        lt_error_hint(err, "say it in note, e.g. \"the original of the rental contract\"");
        lt_error_field(err, "note");
        return LT_EINVAL;
    }
    return LT_OK;
}

enum lt_code oss_act(struct oss *o, const struct auth_principal *who, const char *code,
                     const json_t *req, json_t **dossier, struct lt_error *err)
{
    char canon[OSS_DOSSIER_CODE_MAX];
    struct action ac = { .o = o, .who = who, .code = canon };
    enum lt_code rc;

    *dossier = NULL;
    rc = oss_require_principal(who, err);
    if (rc == LT_OK) {
        rc = oss_code_parse(code, canon, err);
    }
    if (rc == LT_OK) {
        rc = parse_action(req, &ac, err);
    }
    if (rc == LT_OK && who->role == AUTH_CITIZEN) {
        rc = lt_error_set(err, LT_EFORBIDDEN,
                          "citizens follow their dossiers but do not act on them");
    }
    if (rc == LT_OK) {
        rc = store_write(node_store(o->node), act_fn, &ac, err);
    }
    if (rc == LT_OK) {
        *dossier = oss_doc_public(ac.doc, ac.version);
    }
    json_decref(ac.doc);
    return rc;
}

struct read_one {
    const char *code;
    json_t *doc;
    int64_t version;
};

static enum lt_code read_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct read_one *r = arg;

    return oss_row_load(c, r->code, &r->doc, &r->version, err);
}

static enum lt_code load(struct oss *o, const char *code, struct read_one *r, struct lt_error *err)
{
    char canon[OSS_DOSSIER_CODE_MAX];
    enum lt_code rc = oss_code_parse(code, canon, err);

    if (rc != LT_OK) {
        return rc;
    }
    r->code = canon;
    r->doc = NULL;
    rc = store_read(node_store(o->node), read_fn, r, err);
    r->code = NULL;
    return rc;
}

enum lt_code oss_get(struct oss *o, const struct auth_principal *who, const char *code,
                     json_t **dossier, struct lt_error *err)
{
    struct read_one r;
    enum lt_code rc;

    *dossier = NULL;
    rc = oss_require_principal(who, err);
    if (rc == LT_OK) {
        rc = load(o, code, &r, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (!oss_may_read(o, who, r.doc)) {
        json_decref(r.doc);
        return lt_error_set(err, LT_EFORBIDDEN, "dossier %s is not yours to read", code);
    }
    *dossier = oss_doc_public(r.doc, r.version);
    json_decref(r.doc);
    return LT_OK;
}

enum lt_code oss_public(struct oss *o, const char *code, json_t **out, struct lt_error *err)
{
    struct read_one r;
    const json_t *p;
    enum lt_code rc = load(o, code, &r, err);

    *out = NULL;
    if (rc != LT_OK) {
        return rc;
    }
    p = json_object_get(r.doc, "procedure");
    *out = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "code", str(r.doc, "code"), "status",
                     str(r.doc, "status"), "due_date", str(r.doc, "due_date"), "procedure", "code",
                     str(p, "code"), "name_vi", str(p, "name_vi"), "name_en", str(p, "name_en"));
    json_decref(r.doc);
    return LT_OK;
}
