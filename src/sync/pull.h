/*
 * pull.h - pull down: a child long-polls its parent for what it must hold.
 *
 * Design note.  Push sends a child's subtree up; pull brings down the rest
 * of what the child's jurisdiction needs: records about its units written
 * elsewhere (at the province, or at another commune and relayed up, such
 * as a person moving in, with their history) and reference data published
 * at the centre.  docs/SYNC.md ("Pull down") has the protocol; in short:
 *
 *   POST /sync/v1/pull   {"v":1,"after":CURSOR,"wait":SECONDS,"nonce":HEX}
 *
 * signed like a push by the child's key.  The parent answers with the
 * events after the cursor that the child must hold (pull_select.h), in its
 * log order, with the keys to check them (pull_batch.h), and signs the
 * answer with its own key over the child's nonce and the body's hash.  If
 * there is nothing yet it holds the request up to "wait" seconds and
 * answers as soon as something the child needs commits.  The parent keeps
 * no state for it: the cursor is the child's, stored with the events it
 * applies (pull_apply.h), so an answer lost on the way is asked again and
 * a child that was offline catches up from where it stopped.
 *
 * Events pulled down are marked (evlog_apply_pulled): the pusher skips
 * them, so nothing comes back up and nothing loops.
 *
 * Threads.  On a child, one thread long-polls the parent (one request in
 * flight).  On a parent, a waiting pull holds a thread of the server's
 * blocking pool; at most SYNC_PULL_WAITERS wait at once, the others are
 * answered at once and told to come back after a second.  One watcher
 * thread wakes the waiting pulls when the store's commit counter moves.
 * XXX: interim: the watcher polls the counter every 2 ms until the store
 * has a commit notification (docs/SYNC.md, "Hooks needed"), and waiting
 * pulls hold pool threads until the server can park a request without one.
 */
#ifndef LT_SYNC_PULL_H
#define LT_SYNC_PULL_H

#include <jansson.h>

#include "core/error.h"
#include "http/server.h"
#include "sync/pull_apply.h"

#define SYNC_PULL_PATH      "/sync/v1/pull"
#define SYNC_PULL_WAIT_MAX  60   /* seconds a parent holds a pull at most */
#define SYNC_PULL_WAIT      20   /* seconds a caught-up child asks it to wait */
#define SYNC_PULL_WAITERS   32   /* pulls held at once on a parent */
#define SYNC_PULL_RETRY_MS  1000 /* when a parent could not hold a pull */
#define SYNC_PULL_NONCE_HEX 33

struct sync;
struct sync_pull;

/* The pull state of s (made by sync_new, freed by sync_free). */
struct sync_pull *sync_pull_new(struct sync *s);
void sync_pull_free(struct sync_pull *p); /* NULL ok */

/* Start the child's puller and the parent's watcher; stop them (safe if not started). */
enum lt_code sync_pull_start(struct sync *s, struct lt_error *err);
void sync_pull_stop(struct sync *s);

/* Add POST /sync/v1/pull to srv. */
void sync_pull_routes_register(struct sync *s, struct http_server *srv);

/*
 * The pull part of GET /sync/v1/status (new reference): "upstream" (this
 * node's cursor in its parent's log, how far behind, last answer, last
 * error) and "children" (each child's cursor at its last pull).
 */
json_t *sync_pull_status(struct sync *s);

/*
 * Call fn(arg) on the puller's thread after pulled reference data
 * (reference.published events) committed, so that the one-stop shop can
 * load it.  Set before sync_start.
 */
void sync_on_reference(struct sync *s, void (*fn)(void *arg), void *arg);

/*
 * The signature of a pull answer: Ed25519 over "lienthong.pull.answer.v1\n"
 * ORIGIN "\n" NONCE "\n" hex(BLAKE2b-256(body)), as hex into out.
 */
void sync_pull_sign_answer(const struct sync_key *k, const char *origin, const char *nonce,
                           const char *body, size_t len, char out[SYNC_SIG_HEX]);

/* Check an answer's signature (sig_hex may be NULL: false). */
bool sync_pull_answer_ok(const uint8_t pk[SYNC_PK_BYTES], const char *origin, const char *nonce,
                         const char *body, size_t len, const char *sig_hex);

#endif
