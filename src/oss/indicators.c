/*
 * indicators.c - the on-time figures of a unit for a period: received,
 * settled, settled on time and late, open and overdue, share online.
 *
 * These are the figures of the national index of service to citizens and
 * businesses.  A dossier counts for its competent unit; a province counts
 * its communes' dossiers and its own, the nation every dossier.  Received
 * and online count dossiers received in the period; settled ones were
 * decided in it (on time: on or before the due date, after any pause);
 * open and overdue are the dossiers received in the period still open now,
 * and those of them past their due date today.  Each figure is one count
 * over an index range (oss_i_received, oss_i_settled).
 */
#include <stdio.h>
#include <string.h>

#include "core/date.h"
#include "oss/oss_int.h"
#include "core/banned.h"

#define SPAN_MAX 3660 /* days in one request */

struct figures {
    struct oss *o;
    const char *province; /* "" for the nation */
    const char *commune;  /* "" for a province or the nation */
    int32_t from, to, today;
    int64_t received, online, settled, on_time, open, overdue;
};

static const char sql_received[] =
    "SELECT count(*), coalesce(sum(CASE WHEN channel = 'online' THEN 1 ELSE 0 END), 0),"
    " coalesce(sum(open), 0),"
    " coalesce(sum(CASE WHEN open = 1 AND due_day < ? THEN 1 ELSE 0 END), 0)"
    " FROM oss_dossiers WHERE competent_province >= ? AND competent_province <= ?"
    " AND (? = '' OR competent_unit = ?) AND received_day >= ? AND received_day <= ?";

static const char sql_settled[] =
    "SELECT count(*), coalesce(sum(CASE WHEN settled_day <= due_day THEN 1 ELSE 0 END), 0)"
    " FROM oss_dossiers WHERE competent_province >= ? AND competent_province <= ?"
    " AND (? = '' OR competent_unit = ?) AND settled_day >= ? AND settled_day <= ?";

static void bind_scope(struct store_stmt *st, int first, const struct figures *f)
{
    /* the nation: every province code sorts between "" and "~" */
    store_bind_text(st, first, f->province);
    store_bind_text(st, first + 1, f->province[0] ? f->province : "~");
    store_bind_text(st, first + 2, f->commune);
    store_bind_text(st, first + 3, f->commune);
    store_bind_int(st, first + 4, f->from);
    store_bind_int(st, first + 5, f->to);
}

static enum lt_code figures_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct figures *f = arg;
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, sql_received, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, f->today);
    bind_scope(st, 2, f);
    if (store_step(st, err) != STORE_ROW) {
        return err->code ? err->code : LT_EIO;
    }
    f->received = store_col_int(st, 0);
    f->online = store_col_int(st, 1);
    f->open = store_col_int(st, 2);
    f->overdue = store_col_int(st, 3);
    rc = store_prepare(c, sql_settled, &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    bind_scope(st, 1, f);
    if (store_step(st, err) != STORE_ROW) {
        return err->code ? err->code : LT_EIO;
    }
    f->settled = store_col_int(st, 0);
    f->on_time = store_col_int(st, 1);
    return LT_OK;
}

enum lt_code oss_indicators(struct oss *o, const struct auth_principal *who, const char *unit,
                            int32_t from, int32_t to, json_t **out, struct lt_error *err)
{
    struct figures f = { .o = o, .from = from, .to = to, .today = oss_today(o) };
    const struct unit *un;
    char d0[DATE_STR_MAX], d1[DATE_STR_MAX], prov[UNIT_CODE_MAX];
    enum lt_code rc;

    *out = NULL;
    rc = oss_require_principal(who, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (unit == NULL || unit[0] == '\0') {
        /* the account's own unit: the guard judged ?unit= only, so VN would leak the nation's */
        unit = who->unit[0] ? who->unit : "VN";
    }
    un = units_find_default(o->u, unit);
    if (un == NULL || un->level == UNIT_DISTRICT) {
        lt_error_set(err, LT_EINVAL, "unit must be a commune, a province or VN");
        lt_error_field(err, "unit");
        return LT_EINVAL;
    }
    if (to < from || to - from > SPAN_MAX) {
        lt_error_set(err, LT_EINVAL, "the period must run forwards, at most %d days", SPAN_MAX);
        lt_error_field(err, "to");
        return LT_EINVAL;
    }
    if (un->level == UNIT_NATION) {
        f.province = f.commune = "";
    } else if (un->level == UNIT_PROVINCE) {
        f.province = un->code;
        f.commune = "";
    } else {
        /* a commune's dossiers are among its province's: the province narrows the index */
        oss_province_of(o, un->code, prov);
        f.province = prov;
        f.commune = un->code;
    }
    rc = store_read(node_store(o->node), figures_fn, &f, err);
    if (rc != LT_OK) {
        return rc;
    }
    date_format(from, d0);
    date_format(to, d1);
    *out = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "unit", un->code, "from",
                     d0, "to", d1, "received", (json_int_t)f.received, "settled",
                     (json_int_t)f.settled, "settled_on_time", (json_int_t)f.on_time,
                     "settled_late", (json_int_t)(f.settled - f.on_time), "open",
                     (json_int_t)f.open, "overdue", (json_int_t)f.overdue, "online_share",
                     f.received > 0 ? (double)f.online / (double)f.received : 0.0);
    return LT_OK;
}
