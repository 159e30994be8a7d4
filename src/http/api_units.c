/*
 * api_units.c - the units register over HTTP: health, look-up, hierarchy,
 * lineage and search.
 *
 * Every handler only reads the register (read-only after load), so they
 * run on any worker thread without locks.  A state code names different
 * units before and after the 2025 reform; ?date= picks one, and without it
 * the code means the unit in force today, else the last one that carried
 * it (units_find_default), as on the command line.
 */
#include "http/api.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/utf8.h"
#include "units/unit_json.h"
#include "core/banned.h"

#define QUERY_MAX         256 /* bytes of a search query */
#define SEARCH_LIMIT_DEF  20
#define LINKS_FIRST_GUESS 64
#define HISTORY_MAX       8

enum date_mode {
    DATE_DEFAULT, /* no ?date= */
    DATE_ON,      /* ?date=YYYY-MM-DD */
    DATE_ANY,     /* ?date=any, where allowed */
};

struct date_arg {
    enum date_mode mode;
    int32_t day;
};

/* The register is read-only; ctx only carries it through a void pointer. */
static const struct units *units_of(void *ctx)
{
    return ctx;
}

static enum lt_code read_date(const struct http_request *req, bool any_ok, struct date_arg *d,
                              struct lt_error *err)
{
    const char *s = http_request_query(req, "date");

    d->mode = DATE_DEFAULT;
    d->day = 0;
    if (s == NULL) {
        return LT_OK;
    }
    if (any_ok && strcmp(s, "any") == 0) {
        d->mode = DATE_ANY;
        return LT_OK;
    }
    if (date_parse(s, &d->day, err) != LT_OK) {
        lt_error_field(err, "date");
        if (any_ok) {
            lt_error_hint(err, "write dates as YYYY-MM-DD, e.g. 2025-07-01, or \"any\"");
        } else if (err->hint[0] == '\0') {
            lt_error_hint(err, "write dates as YYYY-MM-DD, e.g. 2025-07-01");
        }
        return LT_EINVAL;
    }
    d->mode = DATE_ON;
    return LT_OK;
}

static enum lt_code check_code(const char *code, struct lt_error *err)
{
    size_t len = strlen(code);
    bool ok = len > 0 && len < UNIT_CODE_MAX;

    for (size_t i = 0; ok && i < len; i++) {
        char c = code[i];

        ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }
    if (!ok) {
        lt_error_set(err, LT_EINVAL, "malformed unit code \"%.16s\"", code);
        lt_error_hint(err, "a unit code is 2 digits (province), 3 (district), 5 (commune) or VN");
        lt_error_field(err, "code");
        return LT_EINVAL;
    }
    return LT_OK;
}

/* "until 2025-06-30", "from 2025-07-01", "from A to B" or "always". */
static void format_range(const struct unit *unit, char *out, size_t cap)
{
    char from[DATE_STR_MAX], to[DATE_STR_MAX];

    date_format(unit->valid_from, from);
    date_format(unit->valid_to, to);
    if (from[0] && to[0]) {
        snprintf(out, cap, "from %s to %s", from, to);
    } else if (to[0]) {
        snprintf(out, cap, "until %s", to);
    } else if (from[0]) {
        snprintf(out, cap, "from %s", from);
    } else {
        snprintf(out, cap, "always");
    }
}

/* The code exists, but not on the day asked: say when it did. */
static enum lt_code not_on_date(const char *code, int32_t day, const struct unit **all, size_t n,
                                struct lt_error *err)
{
    char date[DATE_STR_MAX], range[48];
    struct buf when, names;

    buf_init(&when, LT_ERROR_HINT_MAX - 80);
    buf_init(&names, LT_ERROR_DETAIL_MAX - 1);
    for (size_t i = 0; i < n && i < HISTORY_MAX; i++) {
        format_range(all[i], range, sizeof(range));
        /* A full buffer keeps what fits; the rest is left out. */
        buf_printf(&when, "%s%s", i > 0 ? (i + 1 == n ? " and " : ", ") : "", range);
        buf_printf(&names, "%s%s %s", i > 0 ? "; " : "", all[i]->name, range);
    }
    date_format(day, date);
    lt_error_set(err, LT_ENOTFOUND, "no unit had the code \"%s\" on %s", code, date);
    lt_error_detail(err, "\"%s\" was %s", code, buf_str(&names));
    lt_error_hint(err, "the code was in force %s; ask with ?date=YYYY-MM-DD within those dates",
                  buf_str(&when));
    lt_error_field(err, "date");
    buf_release(&when);
    buf_release(&names);
    return LT_ENOTFOUND;
}

/* The unit a code names under the date argument, or an error saying why not. */
static enum lt_code resolve(const struct units *u, const char *code, const struct date_arg *d,
                            const struct unit **out, struct lt_error *err)
{
    const struct unit *all[HISTORY_MAX];
    size_t n;

    if (check_code(code, err) != LT_OK) {
        return LT_EINVAL;
    }
    *out = d->mode == DATE_ON ? units_find(u, code, d->day) : units_find_default(u, code);
    if (*out != NULL) {
        return LT_OK;
    }
    n = units_find_all(u, code, all, HISTORY_MAX);
    if (n == 0) {
        lt_error_set(err, LT_ENOTFOUND, "no unit has the code \"%s\"", code);
        lt_error_hint(err, "search by name: GET /api/v1/units?q=<name>");
        lt_error_field(err, "code");
        return LT_ENOTFOUND;
    }
    return not_on_date(code, d->day, all, n, err);
}

static const char *const q_unit[] = { "date", NULL };
static const char *const q_search[] = { "q", "date", "limit", NULL };

/* Read ?date= and the {code} capture, and find the unit. */
static enum lt_code unit_from_request(const struct units *u, const struct http_request *req,
                                      bool any_ok, struct date_arg *d, const struct unit **out,
                                      struct lt_error *err)
{
    enum lt_code rc = http_request_only_query(req, q_unit, err);

    if (rc == LT_OK) {
        rc = read_date(req, any_ok, d, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    return resolve(u, http_request_param(req, "code"), d, out, err);
}

static enum lt_code get_healthz(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct units *u = units_of(ctx);

    (void)err;
    return http_reply_json(req, 200,
                           json_pack("{s:s, s:I, s:s}", "status", "ok", "units",
                                     (json_int_t)units_count(u), "version", LT_VERSION));
}

static enum lt_code get_unit(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct units *u = units_of(ctx);
    const struct unit *unit;
    struct date_arg d;
    enum lt_code rc = unit_from_request(u, req, false, &d, &unit, err);

    if (rc != LT_OK) {
        return rc;
    }
    return http_reply_json(req, 200, unit_to_json(u, unit));
}

static enum lt_code get_children(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct units *u = units_of(ctx);
    const struct unit *unit;
    const struct unit **kids;
    struct date_arg d;
    int32_t day;
    size_t n;
    json_t *list;
    enum lt_code rc = unit_from_request(u, req, true, &d, &unit, err);

    if (rc != LT_OK) {
        return rc;
    }
    /* The nation has old and new provinces: by default the unit's own
     * period, today for a unit in force. */
    day = d.mode == DATE_ANY           ? DATE_MIN
          : d.mode == DATE_ON          ? d.day
          : unit->valid_to == DATE_MAX ? date_today()
                                       : unit->valid_to;

    n = units_children(u, unit, day, NULL, 0);
    kids = xcalloc(n + 1, sizeof(*kids));
    n = units_children(u, unit, day, kids, n);
    list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(list, unit_ref_json(kids[i]));
    }
    free(kids);
    return http_reply_json(req, 200,
                           json_pack("{s:o, s:o}", "unit", unit_ref_json(unit), "children", list));
}

static enum lt_code get_parents(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct units *u = units_of(ctx);
    const struct unit *unit;
    struct date_arg d;
    json_t *list;
    enum lt_code rc = unit_from_request(u, req, false, &d, &unit, err);

    if (rc != LT_OK) {
        return rc;
    }
    list = json_array();
    for (const struct unit *p = unit_parent(u, unit); p != NULL; p = unit_parent(u, p)) {
        json_array_append_new(list, unit_ref_json(p));
    }
    return http_reply_json(req, 200,
                           json_pack("{s:o, s:o}", "unit", unit_ref_json(unit), "parents", list));
}

static enum lt_code reply_lineage(struct http_request *req, void *ctx, bool forward,
                                  struct lt_error *err)
{
    const struct units *u = units_of(ctx);
    const struct unit *unit;
    struct date_arg d;
    struct unit_link *links;
    size_t cap = LINKS_FIRST_GUESS, n;
    json_t *list;
    enum lt_code rc = unit_from_request(u, req, false, &d, &unit, err);

    if (rc != LT_OK) {
        return rc;
    }
    links = xmalloc(cap * sizeof(*links));
    n = forward ? units_successors(u, unit, links, cap) : units_predecessors(u, unit, links, cap);
    if (n > cap) {
        cap = n;
        links = xrealloc(links, cap * sizeof(*links));
        n = forward ? units_successors(u, unit, links, cap)
                    : units_predecessors(u, unit, links, cap);
    }
    list = json_array();
    for (size_t i = 0; i < n && i < cap; i++) {
        json_array_append_new(list, unit_link_json(&links[i]));
    }
    free(links);
    return http_reply_json(req, 200,
                           json_pack("{s:o, s:o}", "unit", unit_ref_json(unit),
                                     forward ? "successors" : "predecessors", list));
}

static enum lt_code get_successors(struct http_request *req, void *ctx, struct lt_error *err)
{
    return reply_lineage(req, ctx, true, err);
}

static enum lt_code get_predecessors(struct http_request *req, void *ctx, struct lt_error *err)
{
    return reply_lineage(req, ctx, false, err);
}

static enum lt_code read_limit(const struct http_request *req, size_t *limit, struct lt_error *err)
{
    const char *s = http_request_query(req, "limit");
    char *end;
    long v;

    *limit = SEARCH_LIMIT_DEF;
    if (s == NULL) {
        return LT_OK;
    }
    v = strtol(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || v < 1 || v > API_SEARCH_LIMIT_MAX) {
        lt_error_set(err, LT_EINVAL, "limit must be a whole number from 1 to %d",
                     API_SEARCH_LIMIT_MAX);
        lt_error_detail(err, "got \"%.32s\"", s);
        lt_error_field(err, "limit");
        return LT_EINVAL;
    }
    *limit = (size_t)v;
    return LT_OK;
}

static enum lt_code read_query(const struct http_request *req, const char **q, struct lt_error *err)
{
    size_t len, bad = 0;

    *q = http_request_query(req, "q");
    if (*q == NULL || (*q)[0] == '\0') {
        lt_error_set(err, LT_EINVAL, "the search text q is missing");
        lt_error_hint(err, "ask /api/v1/units?q=ba%%20dinh");
        lt_error_field(err, "q");
        return LT_EINVAL;
    }
    len = strlen(*q);
    if (len > QUERY_MAX) {
        lt_error_set(err, LT_EINVAL, "the search text q is longer than %d bytes", QUERY_MAX);
        lt_error_field(err, "q");
        return LT_EINVAL;
    }
    if (!utf8_valid_text(*q, len, &bad)) {
        lt_error_set(err, LT_EINVAL, "the search text q is not valid UTF-8 text");
        lt_error_detail(err, "bad byte at offset %zu", bad);
        lt_error_field(err, "q");
        return LT_EINVAL;
    }
    return LT_OK;
}

static enum lt_code get_search(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct units *u = units_of(ctx);
    const struct unit *found[API_SEARCH_LIMIT_MAX];
    const char *q;
    size_t limit, total;
    struct date_arg d;
    json_t *list;
    enum lt_code rc;

    rc = http_request_only_query(req, q_search, err);
    if (rc == LT_OK) {
        rc = read_query(req, &q, err);
    }
    if (rc == LT_OK) {
        rc = read_limit(req, &limit, err);
    }
    if (rc == LT_OK) {
        rc = read_date(req, true, &d, err);
    }
    if (rc != LT_OK) {
        return rc;
    }

    /* Without a date, search every period, old names included, since
     * people search with the names they know. */
    total = units_search(u, q, d.mode == DATE_ON ? d.day : DATE_MIN, found, limit);
    list = json_array();
    for (size_t i = 0; i < total && i < limit; i++) {
        json_array_append_new(list, unit_to_json(u, found[i]));
    }
    return http_reply_json(
        req, 200,
        json_pack("{s:s, s:I, s:o}", "query", q, "total", (json_int_t)total, "results", list));
}

void api_units_register(struct http_server *s, const struct units *u)
{
    /* Handlers never write through ctx; the cast only fits the void *. */
    void *ctx = (void *)u;

    http_server_route(s, "GET", "/healthz", get_healthz, ctx);
    http_server_route(s, "GET", "/api/v1/units", get_search, ctx);
    http_server_route(s, "GET", "/api/v1/units/{code}", get_unit, ctx);
    http_server_route(s, "GET", "/api/v1/units/{code}/children", get_children, ctx);
    http_server_route(s, "GET", "/api/v1/units/{code}/parents", get_parents, ctx);
    http_server_route(s, "GET", "/api/v1/units/{code}/successors", get_successors, ctx);
    http_server_route(s, "GET", "/api/v1/units/{code}/predecessors", get_predecessors, ctx);
}
