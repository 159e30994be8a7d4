/*
 * keys.h - a node's Ed25519 key pair, and what it signs.
 *
 * Design note.  Each node has one key pair, made by "lienthong init".  The
 * secret half is the 32-byte seed, kept as hex in the file node.key of the
 * data directory with mode 0600 (a file any other user can read is refused,
 * as ssh does); the public half is in the sync_self table, and a key file
 * that does not derive it is refused too.  The key signs two things, each
 * under its own domain tag so that a signature of one kind can never pass
 * for the other:
 *
 *   an event:    Ed25519("lienthong.event.sig.v1" || event hash)
 *   a request:   Ed25519("lienthong.request.v1\n" METHOD "\n" PATH "\n"
 *                        ORIGIN "\n" TIME_MS "\n" hex(BLAKE2b-256(body)))
 *
 * An event's signature travels with it up the tree and is kept in every
 * log, so any ancestor can check who made it.  A request's signature is
 * sent in headers (X-Lienthong-Origin, X-Lienthong-Time,
 * X-Lienthong-Signature) and binds the body to the sending node and to a
 * time within SYNC_CLOCK_SKEW_MS of the receiver's clock.
 */
#ifndef LT_SYNC_KEYS_H
#define LT_SYNC_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "evlog/evlog.h"

#define SYNC_PK_BYTES      32
#define SYNC_SK_BYTES      64
#define SYNC_KEY_FILE      "node.key"
#define SYNC_PK_HEX        (2 * SYNC_PK_BYTES + 1)
#define SYNC_SIG_HEX       (2 * EVLOG_SIG_BYTES + 1)
#define SYNC_CLOCK_SKEW_MS (5 * 60 * 1000)

#define SYNC_HDR_ORIGIN "X-Lienthong-Origin"
#define SYNC_HDR_TIME   "X-Lienthong-Time"
#define SYNC_HDR_SIG    "X-Lienthong-Signature"

struct sync_key {
    uint8_t pk[SYNC_PK_BYTES];
    uint8_t sk[SYNC_SK_BYTES];
};

/*
 * Make a new key pair and write its seed to dir/node.key (created, never
 * replaced, mode 0600, synced).  LT_ECONFLICT if the file exists, LT_EIO
 * if it cannot be written.
 */
enum lt_code sync_key_create(const char *dir, struct sync_key *out, struct lt_error *err);

/*
 * Read dir/node.key.  LT_ENOTFOUND if there is none, LT_EINVAL if it is
 * readable by others than its owner or is not a key, LT_EIO else.
 */
enum lt_code sync_key_load(const char *dir, struct sync_key *out, struct lt_error *err);

/* Forget a key held in memory. */
void sync_key_wipe(struct sync_key *k);

/* Sign an event's hash (ev->hash must be set); sets sig and has_sig. */
void sync_sign_event(const struct sync_key *k, struct event *ev);

/* True if sig is pk's signature of the event hash. */
bool sync_event_sig_ok(const uint8_t pk[SYNC_PK_BYTES], const uint8_t hash[EVLOG_HASH_BYTES],
                       const uint8_t sig[EVLOG_SIG_BYTES]);

/* The signature header of a request, as hex into out. */
void sync_sign_request(const struct sync_key *k, const char *method, const char *path,
                       const char *origin, int64_t time_ms, const char *body, size_t len,
                       char out[SYNC_SIG_HEX]);

/*
 * Check a request's signature headers (time_hdr and sig_hdr as received,
 * may be NULL) against pk.  LT_EINVAL for missing or malformed headers, a
 * time further than SYNC_CLOCK_SKEW_MS from now_ms, or a bad signature.
 */
enum lt_code sync_check_request(const uint8_t pk[SYNC_PK_BYTES], const char *method,
                                const char *path, const char *origin, const char *time_hdr,
                                const char *sig_hdr, const char *body, size_t len, int64_t now_ms,
                                struct lt_error *err);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void sync_hex(const uint8_t *p, size_t n, char *out);

/* Exactly n bytes from 2n hex digits; false for anything else. */
bool sync_unhex(const char *s, uint8_t *out, size_t n);

/* Milliseconds since the epoch, from the wall clock. */
int64_t sync_now_ms(void);

#endif
