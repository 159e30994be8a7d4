/*
 * state.h - the life of a dossier: its statuses and the actions that move
 * it from one to the next.
 *
 *   received --review--> in_review --approve--> approved --return_result--> result_returned
 *                          |  ^   \--reject---> rejected --return_result--/
 *              request_info|  |resume
 *                          v  |
 *                    waiting_applicant   (the clock pauses)
 *
 * Any other action is refused, naming the current status and the actions
 * it allows.  For a composite, "approve" approves one step; the dossier
 * stays in review until its last step is approved.  The graph is pure
 * data: permissions and effects are the dossier module's.
 */
#ifndef LT_OSS_STATE_H
#define LT_OSS_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

enum oss_status {
    OSS_RECEIVED,
    OSS_IN_REVIEW,
    OSS_WAITING_APPLICANT,
    OSS_APPROVED,
    OSS_REJECTED,
    OSS_RESULT_RETURNED,
    OSS_STATUS_COUNT,
};

enum oss_action {
    OSS_REVIEW,
    OSS_REQUEST_INFO,
    OSS_RESUME,
    OSS_APPROVE,
    OSS_REJECT,
    OSS_RETURN_RESULT,
    OSS_ACTION_COUNT,
};

const char *oss_status_name(enum oss_status s);
bool oss_status_parse(const char *s, enum oss_status *out);
const char *oss_action_name(enum oss_action a);
bool oss_action_parse(const char *s, enum oss_action *out);

/* Not settled yet: received, in review or waiting for the applicant. */
bool oss_status_open(enum oss_status s);

/*
 * The status after action a from s (for approve: the dossier's, when its
 * last step is approved).  LT_ECONFLICT when s does not allow a: the
 * message names s, the detail lists the actions s allows.
 */
enum lt_code oss_transition(enum oss_status s, enum oss_action a, enum oss_status *next,
                            struct lt_error *err);

/* The actions s allows, as "review, reject" into out[0..cap); "none" if none. */
void oss_allowed_actions(enum oss_status s, char *out, size_t cap);

#endif
