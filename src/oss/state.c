/*
 * state.c - the transition table of a dossier (see state.h).
 */
#include "oss/state.h"

#include <stdio.h>
#include <string.h>

#include "core/banned.h"

static const char *const status_names[OSS_STATUS_COUNT] = {
    "received", "in_review", "waiting_applicant", "approved", "rejected", "result_returned",
};

static const char *const action_names[OSS_ACTION_COUNT] = {
    "review", "request_info", "resume", "approve", "reject", "return_result",
};

#define NONE OSS_STATUS_COUNT

/* next[status][action]: the status reached, or NONE */
static const enum oss_status next_of[OSS_STATUS_COUNT][OSS_ACTION_COUNT] = {
    [OSS_RECEIVED] = { [OSS_REVIEW] = OSS_IN_REVIEW,
                       [OSS_REQUEST_INFO] = NONE,
                       [OSS_RESUME] = NONE,
                       [OSS_APPROVE] = NONE,
                       [OSS_REJECT] = NONE,
                       [OSS_RETURN_RESULT] = NONE },
    [OSS_IN_REVIEW] = { [OSS_REVIEW] = NONE,
                        [OSS_REQUEST_INFO] = OSS_WAITING_APPLICANT,
                        [OSS_RESUME] = NONE,
                        [OSS_APPROVE] = OSS_APPROVED,
                        [OSS_REJECT] = OSS_REJECTED,
                        [OSS_RETURN_RESULT] = NONE },
    [OSS_WAITING_APPLICANT] = { [OSS_REVIEW] = NONE,
                                [OSS_REQUEST_INFO] = NONE,
                                [OSS_RESUME] = OSS_IN_REVIEW,
                                [OSS_APPROVE] = NONE,
                                [OSS_REJECT] = NONE,
                                [OSS_RETURN_RESULT] = NONE },
    [OSS_APPROVED] = { [OSS_REVIEW] = NONE,
                       [OSS_REQUEST_INFO] = NONE,
                       [OSS_RESUME] = NONE,
                       [OSS_APPROVE] = NONE,
                       [OSS_REJECT] = NONE,
                       [OSS_RETURN_RESULT] = OSS_RESULT_RETURNED },
    [OSS_REJECTED] = { [OSS_REVIEW] = NONE,
                       [OSS_REQUEST_INFO] = NONE,
                       [OSS_RESUME] = NONE,
                       [OSS_APPROVE] = NONE,
                       [OSS_REJECT] = NONE,
                       [OSS_RETURN_RESULT] = OSS_RESULT_RETURNED },
    [OSS_RESULT_RETURNED] = { [OSS_REVIEW] = NONE,
                              [OSS_REQUEST_INFO] = NONE,
                              [OSS_RESUME] = NONE,
                              [OSS_APPROVE] = NONE,
                              [OSS_REJECT] = NONE,
                              [OSS_RETURN_RESULT] = NONE },
};

const char *oss_status_name(enum oss_status s)
{
    return (unsigned)s < OSS_STATUS_COUNT ? status_names[s] : "?";
}

const char *oss_action_name(enum oss_action a)
{
    return (unsigned)a < OSS_ACTION_COUNT ? action_names[a] : "?";
}

bool oss_status_parse(const char *s, enum oss_status *out)
{
    for (int i = 0; s != NULL && i < OSS_STATUS_COUNT; i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum oss_status)i;
            return true;
        }
    }
    return false;
}

bool oss_action_parse(const char *s, enum oss_action *out)
{
    for (int i = 0; s != NULL && i < OSS_ACTION_COUNT; i++) {
        if (strcmp(s, action_names[i]) == 0) {
            *out = (enum oss_action)i;
            return true;
        }
    }
    return false;
}

bool oss_status_open(enum oss_status s)
{
    return s == OSS_RECEIVED || s == OSS_IN_REVIEW || s == OSS_WAITING_APPLICANT;
}

void oss_allowed_actions(enum oss_status s, char *out, size_t cap)
{
    size_t len = 0;

    out[0] = '\0';
    for (int a = 0; a < OSS_ACTION_COUNT; a++) {
        if (next_of[s][a] != NONE) {
            int n = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", action_names[a]);

            if (n < 0 || (size_t)n >= cap - len) {
                break;
            }
            len += (size_t)n;
        }
    }
    if (len == 0) {
        snprintf(out, cap, "none");
    }
}

enum lt_code oss_transition(enum oss_status s, enum oss_action a, enum oss_status *next,
                            struct lt_error *err)
{
    char allowed[128];

    if ((unsigned)s >= OSS_STATUS_COUNT || (unsigned)a >= OSS_ACTION_COUNT) {
        return lt_error_set(err, LT_EINVAL, "unknown status or action");
    }
    if (next_of[s][a] == NONE) {
        oss_allowed_actions(s, allowed, sizeof(allowed));
        lt_error_set(err, LT_ECONFLICT, "cannot %s a dossier that is %s", action_names[a],
                     status_names[s]);
        lt_error_detail(err, "the actions allowed now: %s", allowed);
        lt_error_field(err, "action");
        return LT_ECONFLICT;
    }
    *next = next_of[s][a];
    return LT_OK;
}
