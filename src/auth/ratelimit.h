/*
 * ratelimit.h - counting failed attempts per key in a sliding window.
 *
 * Design note.  Failed logins are counted per account ("account:NAME")
 * and per client address ("client:ADDR"): after max failures inside the
 * window, the key is refused until the oldest of those failures leaves
 * the window.  The table is fixed in size and lives in memory: a restart
 * forgets it, and when it is full the slot whose last failure is oldest
 * is reused, so a flood of addresses can at worst make the limiter forget
 * old keys, never grow without bound.
 *
 * Thread safety: one mutex around the table; every call is short.
 */
#ifndef LT_AUTH_RATELIMIT_H
#define LT_AUTH_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_MAX_FAILURES 16 /* the largest max a limiter may take */

struct ratelimit;

/* A limiter of max failures (1..RATELIMIT_MAX_FAILURES) per window_ms. */
struct ratelimit *ratelimit_new(unsigned max, int64_t window_ms);
void ratelimit_free(struct ratelimit *rl); /* NULL ok */

/* Milliseconds until key may try again at now_ms; 0 if it may now. */
int64_t ratelimit_wait(struct ratelimit *rl, const char *key, int64_t now_ms);

/* Record a failure of key at now_ms. */
void ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now_ms);

/* Forget key's failures (after a success). */
void ratelimit_clear(struct ratelimit *rl, const char *key);

#endif
