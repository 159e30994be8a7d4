/*
 * password.h - password strength, and argon2id hashing with libsodium.
 *
 * Design note.  Hashes are crypto_pwhash_str strings ("$argon2id$v=19$m=
 * 32768,t=3,p=1$salt$hash"), which carry their own salt and cost, so the
 * cost can be raised later without touching stored accounts.  The cost,
 * 3 passes over 32 MiB, takes about 50 ms on one core of a 2020s server:
 * slow enough that a stolen database yields a few guesses per second per
 * core, fast enough that a login is not felt, and small enough in memory
 * that PASSWORD_CONCURRENT logins at once (the most we let run; the others
 * wait their turn) take 128 MiB on a commune's machine.  Libsodium's
 * "interactive" preset (2 passes over 64 MiB) costs twice the memory for
 * about the same time.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef LT_AUTH_PASSWORD_H
#define LT_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define PASSWORD_MIN_CHARS  12
#define PASSWORD_MAX_BYTES  1024
#define PASSWORD_HASH_MAX   128 /* crypto_pwhash_STRBYTES */
#define PASSWORD_OPS        3
#define PASSWORD_MEM        ((size_t)32 << 20)
#define PASSWORD_CONCURRENT 4

/*
 * Check that password is strong enough for account: at least
 * PASSWORD_MIN_CHARS characters, letters and at least one digit or other
 * sign, not the account name inside it, not one character repeated, valid
 * UTF-8 of at most PASSWORD_MAX_BYTES.  LT_EINVAL (field "password") with a
 * message naming everything that is missing.
 */
enum lt_code password_check(const char *account, const char *password, struct lt_error *err);

/* Hash password into out (NUL-terminated).  LT_EINTERNAL if libsodium
 * fails (out of memory). */
enum lt_code password_hash(const char *password, char out[PASSWORD_HASH_MAX], struct lt_error *err);

/* True if password matches the stored hash.  With hash NULL it spends the
 * same time against a dummy hash and returns false, so that an unknown
 * account cannot be told from a wrong password by timing. */
bool password_verify(const char *hash, const char *password);

#endif
