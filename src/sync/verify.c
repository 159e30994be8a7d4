/*
 * verify.c - the checks of an event from a child (see verify.h).
 *
 * The checks are pure: they read the event, what is known of its origin
 * and the units register, and never the database, so that they can be
 * tested alone and run before anything is written.
 */
#include "sync/verify.h"

#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sync/keys.h"
#include "core/banned.h"

bool sync_event_unit(const struct event *ev, char *out, size_t cap)
{
    json_t *body, *unit;
    bool found = false;

    if (ev->body == NULL) {
        return false;
    }
    body = json_loads(ev->body, 0, NULL);
    unit = json_is_object(body) ? json_object_get(body, "unit") : NULL;
    if (json_is_string(unit)) {
        snprintf(out, cap, "%s", json_string_value(unit));
        found = true;
    }
    json_decref(body);
    return found;
}

static enum lt_code refuse(struct lt_error *err, const struct event *ev, const char *fmt, ...)
    LT_PRINTF(3, 4);

static enum lt_code refuse(struct lt_error *err, const struct event *ev, const char *fmt, ...)
{
    char msg[LT_ERROR_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lt_error_set(err, LT_EINVAL, "%s", msg);
    lt_error_detail(err, "event (%s, %lld) \"%s\" of %s", ev->origin, (long long)ev->seq, ev->type,
                    ev->entity);
    return LT_EINVAL;
}

enum lt_code sync_verify_event(const struct units *u, const struct event *ev,
                               const struct sync_known *origin, bool found, const char *child_unit,
                               struct lt_error *err)
{
    uint8_t hash[EVLOG_HASH_BYTES];
    char unit[UNIT_CODE_MAX + 8];

    event_hash(ev, hash);
    if (sodium_memcmp(hash, ev->hash, EVLOG_HASH_BYTES) != 0) {
        return refuse(err, ev, "event does not match its hash");
    }
    if (!found) {
        return refuse(err, ev, "origin \"%s\" is not known here: no enrolment taught its key",
                      ev->origin);
    }
    if (!units_code_within(u, origin->unit, child_unit)) {
        return refuse(err, ev, "origin of unit %s is outside the sending child's unit %s",
                      origin->unit, child_unit);
    }
    if (!ev->has_sig) {
        return refuse(err, ev, "event of \"%s\" is not signed", ev->origin);
    }
    if (!sync_event_sig_ok(origin->pk, ev->hash, ev->sig)) {
        return refuse(err, ev, "bad signature: \"%s\" did not sign this event", ev->origin);
    }
    if (sync_event_unit(ev, unit, sizeof(unit)) && !units_code_within(u, unit, origin->unit)) {
        return refuse(err, ev, "event about unit %s is outside its origin's unit %s", unit,
                      origin->unit);
    }
    return LT_OK;
}
