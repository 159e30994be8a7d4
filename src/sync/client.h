/*
 * client.h - the node-to-node HTTP client (libcurl), signed requests.
 *
 * A client talks to one base URL ("http://127.0.0.1:8401") from one
 * thread at a time and keeps its connection alive between requests.
 * Every request is signed with the node's key (keys.h) unless no key is
 * given.  A stop flag, checked while a transfer runs, aborts it promptly
 * so that a node can shut down in the middle of a slow push.
 */
#ifndef LT_SYNC_CLIENT_H
#define LT_SYNC_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"
#include "sync/keys.h"

#define SYNC_REPLY_MAX ((size_t)1 << 20)

struct sync_client;

/* Call once in the main thread before any client exists. */
enum lt_code sync_client_global_init(struct lt_error *err);

/*
 * A client for base_url (copied); key (borrowed, may be NULL: unsigned
 * requests) and origin name the sender.  stop (may be NULL) aborts
 * transfers when it becomes true.  timeout_ms bounds a whole request.
 */
struct sync_client *sync_client_new(const char *base_url, const struct sync_key *key,
                                    const char *origin, const atomic_bool *stop, long timeout_ms);
void sync_client_free(struct sync_client *cl); /* NULL ok */

/* The base URL (borrowed). */
const char *sync_client_url(const struct sync_client *cl);

/*
 * Send method ("GET", "POST") to path with a JSON body (may be NULL for
 * none) and wait for the answer: *status is the HTTP status and reply (cap
 * SYNC_REPLY_MAX) its body.  LT_EUNAVAIL if no answer came (connection
 * refused, timed out, aborted), the reason in the message.
 */
enum lt_code sync_client_request(struct sync_client *cl, const char *method, const char *path,
                                 const char *body, size_t len, long *status, struct buf *reply,
                                 struct lt_error *err);

/*
 * After a request: the value of the answer's header name, which must be
 * one of the X-Lienthong-* headers (the only ones kept, at most 4 of 200
 * bytes each), or NULL if the answer had none.  Borrowed until the next
 * request.
 */
const char *sync_client_reply_header(const struct sync_client *cl, const char *name);

#endif
