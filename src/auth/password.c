/*
 * password.c - password strength and argon2id hashing (see password.h).
 *
 * Hashing is memory-hard on purpose, so the number of hashes running at
 * once is capped by a counting semaphore made of a mutex and a condition:
 * a burst of logins queues instead of taking the machine's memory.
 */
#include "auth/password.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/banned.h"

static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slots_cond = PTHREAD_COND_INITIALIZER;
static int slots_busy;

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[PASSWORD_HASH_MAX];

static void slot_take(void)
{
    pthread_mutex_lock(&slots_mu);
    while (slots_busy >= PASSWORD_CONCURRENT) {
        pthread_cond_wait(&slots_cond, &slots_mu);
    }
    slots_busy++;
    pthread_mutex_unlock(&slots_mu);
}

static void slot_give(void)
{
    pthread_mutex_lock(&slots_mu);
    slots_busy--;
    pthread_cond_signal(&slots_cond);
    pthread_mutex_unlock(&slots_mu);
}

static void make_dummy(void)
{
    char random[24];

    randombytes_buf(random, sizeof(random));
    if (crypto_pwhash_str(dummy_hash, random, sizeof(random), PASSWORD_OPS, PASSWORD_MEM) != 0) {
        dummy_hash[0] = '\0';
    }
}

/* Does haystack contain needle, ASCII case folded? */
static bool contains_folded(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);

    if (n == 0) {
        return false;
    }
    for (const char *p = haystack; *p != '\0'; p++) {
        if (strncasecmp(p, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

static void add_missing(struct buf *b, const char *what)
{
    if (b->len > 0) {
        buf_append_str(b, "; ");
    }
    buf_append_str(b, what);
}

enum lt_code password_check(const char *account, const char *password, struct lt_error *err)
{
    size_t len = strlen(password);
    size_t chars = 0;
    bool letter = false, other = false, varied = false;
    int first = -1;
    char count[64];
    struct buf missing;
    enum lt_code rc = LT_OK;

    if (len > PASSWORD_MAX_BYTES) {
        lt_error_set(err, LT_EINVAL, "the password is longer than %d bytes", PASSWORD_MAX_BYTES);
        lt_error_field(err, "password");
        return LT_EINVAL;
    }
    for (size_t i = 0; i < len;) {
        int cp;
        int n = utf8_decode(password + i, len - i, &cp);

        if (n <= 0) {
            lt_error_set(err, LT_EINVAL, "the password is not valid UTF-8");
            lt_error_field(err, "password");
            return LT_EINVAL;
        }
        if (cp < 0x80 && isalpha(cp)) {
            letter = true;
        } else if (cp >= 0x80) {
            letter = true; /* Vietnamese letters and other scripts */
        } else {
            other = true; /* digits, punctuation, spaces */
        }
        if (first < 0) {
            first = cp;
        } else if (cp != first) {
            varied = true;
        }
        chars++;
        i += (size_t)n;
    }

    buf_init(&missing, 1024);
    if (chars < PASSWORD_MIN_CHARS) {
        snprintf(count, sizeof(count), "at least %d characters (it has %zu)", PASSWORD_MIN_CHARS,
                 chars);
        add_missing(&missing, count);
    }
    if (!letter) {
        add_missing(&missing, "a letter");
    }
    if (!other) {
        add_missing(&missing, "a digit or another sign");
    }
    if (!varied && chars > 0) {
        add_missing(&missing, "more than one distinct character");
    }
    if (account != NULL && strlen(account) >= 3 && contains_folded(password, account)) {
        add_missing(&missing, "no copy of the account name");
    }
    if (missing.len > 0) {
        lt_error_set(err, LT_EINVAL, "the password is too weak");
        lt_error_detail(err, "it needs %s", buf_str(&missing));
        lt_error_hint(err, "a few unrelated words with a digit, e.g. \"song-lua-chieu-7-ngan\", "
                           "are long and easy to remember");
        lt_error_field(err, "password");
        rc = LT_EINVAL;
    }
    buf_release(&missing);
    return rc;
}

enum lt_code password_hash(const char *password, char out[PASSWORD_HASH_MAX], struct lt_error *err)
{
    int r;

    slot_take();
    r = crypto_pwhash_str(out, password, strlen(password), PASSWORD_OPS, PASSWORD_MEM);
    slot_give();
    if (r != 0) {
        return lt_error_set(err, LT_EINTERNAL, "could not hash the password: out of memory");
    }
    return LT_OK;
}

bool password_verify(const char *hash, const char *password)
{
    bool ok;

    /* The dummy's result is computed like a real one, and not used. */
    if (hash == NULL || hash[0] == '\0') {
        pthread_once(&dummy_once, make_dummy);
        slot_take();
        if (crypto_pwhash_str_verify(dummy_hash, password, strlen(password)) == 0) {
            log_debug("auth", "a password matched the dummy hash");
        }
        slot_give();
        return false;
    }
    slot_take();
    ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
    slot_give();
    return ok;
}
