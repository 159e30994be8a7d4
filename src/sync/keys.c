/*
 * keys.c - the node key file, and event and request signatures.
 *
 * Design note.  The key file holds the seed, not the 64-byte secret key
 * libsodium expands it to: the seed is all there is to keep, and deriving
 * the pair on load lets a mismatch with the public key on record be found.
 * Secrets in memory are wiped when dropped (sync_key_wipe); a key file is
 * written with O_EXCL so that an existing key is never replaced.
 */
#include "sync/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/banned.h"

#define SEED_BYTES   32
#define KEY_FILE_MAX 256

static const char event_tag[] = "lienthong.event.sig.v1";
static const char request_tag[] = "lienthong.request.v1";

int64_t sync_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sync_hex(const uint8_t *p, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, p, n);
}

bool sync_unhex(const char *s, uint8_t *out, size_t n)
{
    size_t got = 0;
    const char *end = NULL;

    if (s == NULL || strlen(s) != 2 * n) {
        return false;
    }
    if (sodium_hex2bin(out, n, s, 2 * n, NULL, &got, &end) != 0) {
        return false;
    }
    return got == n && end == s + 2 * n;
}

static void key_path(const char *dir, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", dir, SYNC_KEY_FILE);
}

enum lt_code sync_key_create(const char *dir, struct sync_key *out, struct lt_error *err)
{
    uint8_t seed[SEED_BYTES];
    char path[4096], hex[2 * SEED_BYTES + 2];
    size_t len;
    int fd;
    enum lt_code rc = LT_OK;

    if (sodium_init() < 0) {
        return lt_error_set(err, LT_EINTERNAL, "could not initialise libsodium");
    }
    key_path(dir, path, sizeof(path));
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        lt_error_set(err, errno == EEXIST ? LT_ECONFLICT : LT_EIO,
                     "could not create the node key \"%s\": %s", path, strerror(errno));
        if (errno == EEXIST) {
            lt_error_hint(err, "a node keeps its key for life; it was left as it was");
        }
        return errno == EEXIST ? LT_ECONFLICT : LT_EIO;
    }
    randombytes_buf(seed, sizeof(seed));
    crypto_sign_seed_keypair(out->pk, out->sk, seed);
    sodium_bin2hex(hex, sizeof(hex), seed, sizeof(seed));
    len = strlen(hex);
    hex[len++] = '\n';
    if (write(fd, hex, len) != (ssize_t)len || fsync(fd) != 0) {
        rc = lt_error_set(err, LT_EIO, "could not write the node key \"%s\": %s", path,
                          strerror(errno));
        unlink(path);
    }
    close(fd);
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(hex, sizeof(hex));
    if (rc != LT_OK) {
        sync_key_wipe(out);
    }
    return rc;
}

enum lt_code sync_key_load(const char *dir, struct sync_key *out, struct lt_error *err)
{
    uint8_t seed[SEED_BYTES];
    char path[4096], text[KEY_FILE_MAX];
    struct stat st;
    ssize_t n;
    int fd;
    enum lt_code rc = LT_OK;

    if (sodium_init() < 0) {
        return lt_error_set(err, LT_EINTERNAL, "could not initialise libsodium");
    }
    key_path(dir, path, sizeof(path));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        lt_error_set(err, errno == ENOENT ? LT_ENOTFOUND : LT_EIO,
                     "could not open the node key \"%s\": %s", path, strerror(errno));
        if (errno == ENOENT) {
            lt_error_hint(err, "nodes made by \"lienthong init\" have one; this node has no key");
        }
        return errno == ENOENT ? LT_ENOTFOUND : LT_EIO;
    }
    if (fstat(fd, &st) != 0) {
        rc = lt_error_set(err, LT_EIO, "could not look at \"%s\": %s", path, strerror(errno));
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        rc = lt_error_set(err, LT_EINVAL, "the node key \"%s\" is readable by other users", path);
        lt_error_detail(err, "its mode is %03o; a secret key must be 0600", st.st_mode & 0777);
        lt_error_hint(err, "chmod 600 %s, and consider the key leaked if others read it", path);
        goto out;
    }
    n = read(fd, text, sizeof(text) - 1);
    if (n < 0) {
        rc = lt_error_set(err, LT_EIO, "could not read \"%s\": %s", path, strerror(errno));
        goto out;
    }
    text[n] = '\0';
    text[strcspn(text, "\r\n")] = '\0';
    if (!sync_unhex(text, seed, sizeof(seed))) {
        rc = lt_error_set(err, LT_EINVAL, "the node key \"%s\" is not a key", path);
        lt_error_detail(err, "it must hold 64 hex digits on one line");
        goto out;
    }
    crypto_sign_seed_keypair(out->pk, out->sk, seed);

out:
    close(fd);
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(text, sizeof(text));
    return rc;
}

void sync_key_wipe(struct sync_key *k)
{
    if (k != NULL) {
        sodium_memzero(k, sizeof(*k));
    }
}

static void event_message(const uint8_t hash[EVLOG_HASH_BYTES],
                          uint8_t msg[sizeof(event_tag) - 1 + EVLOG_HASH_BYTES])
{
    memcpy(msg, event_tag, sizeof(event_tag) - 1);
    memcpy(msg + sizeof(event_tag) - 1, hash, EVLOG_HASH_BYTES);
}

void sync_sign_event(const struct sync_key *k, struct event *ev)
{
    uint8_t msg[sizeof(event_tag) - 1 + EVLOG_HASH_BYTES];

    event_message(ev->hash, msg);
    crypto_sign_detached(ev->sig, NULL, msg, sizeof(msg), k->sk);
    ev->has_sig = true;
}

bool sync_event_sig_ok(const uint8_t pk[SYNC_PK_BYTES], const uint8_t hash[EVLOG_HASH_BYTES],
                       const uint8_t sig[EVLOG_SIG_BYTES])
{
    uint8_t msg[sizeof(event_tag) - 1 + EVLOG_HASH_BYTES];

    event_message(hash, msg);
    return crypto_sign_verify_detached(sig, msg, sizeof(msg), pk) == 0;
}

/* The bytes a request signature covers, into out. */
static enum lt_code request_message(const char *method, const char *path, const char *origin,
                                    int64_t time_ms, const char *body, size_t len, char *out,
                                    size_t cap)
{
    uint8_t h[32];
    char hex[65];
    int w;

    crypto_generichash(h, sizeof(h), (const unsigned char *)body, len, NULL, 0);
    sync_hex(h, sizeof(h), hex);
    w = snprintf(out, cap, "%s\n%s\n%s\n%s\n%lld\n%s", request_tag, method, path, origin,
                 (long long)time_ms, hex);
    return w < 0 || (size_t)w >= cap ? LT_ETOOBIG : LT_OK;
}

void sync_sign_request(const struct sync_key *k, const char *method, const char *path,
                       const char *origin, int64_t time_ms, const char *body, size_t len,
                       char out[SYNC_SIG_HEX])
{
    uint8_t sig[EVLOG_SIG_BYTES];
    char msg[2048];

    if (request_message(method, path, origin, time_ms, body, len, msg, sizeof(msg)) != LT_OK) {
        BUG("request path \"%.60s\" too long to sign", path);
    }
    crypto_sign_detached(sig, NULL, (const unsigned char *)msg, strlen(msg), k->sk);
    sync_hex(sig, sizeof(sig), out);
}

enum lt_code sync_check_request(const uint8_t pk[SYNC_PK_BYTES], const char *method,
                                const char *path, const char *origin, const char *time_hdr,
                                const char *sig_hdr, const char *body, size_t len, int64_t now_ms,
                                struct lt_error *err)
{
    uint8_t sig[EVLOG_SIG_BYTES];
    char msg[2048], *end;
    long long t;

    if (time_hdr == NULL || sig_hdr == NULL || origin == NULL) {
        lt_error_set(err, LT_EINVAL, "the request is not signed");
        lt_error_detail(err, "it needs the headers %s, %s and %s", SYNC_HDR_ORIGIN, SYNC_HDR_TIME,
                        SYNC_HDR_SIG);
        return LT_EINVAL;
    }
    errno = 0;
    t = strtoll(time_hdr, &end, 10);
    if (errno != 0 || end == time_hdr || *end != '\0' || t < 0) {
        return lt_error_set(err, LT_EINVAL, "header %s is not a time in milliseconds",
                            SYNC_HDR_TIME);
    }
    if (t > now_ms + SYNC_CLOCK_SKEW_MS || t < now_ms - SYNC_CLOCK_SKEW_MS) {
        lt_error_set(err, LT_EINVAL, "the request was signed at a time too far from ours");
        lt_error_detail(err, "it says %lld ms, our clock says %lld ms; at most %d s apart", t,
                        (long long)now_ms, SYNC_CLOCK_SKEW_MS / 1000);
        lt_error_hint(err, "set the clocks of both nodes right (NTP)");
        return LT_EINVAL;
    }
    if (!sync_unhex(sig_hdr, sig, sizeof(sig))) {
        return lt_error_set(err, LT_EINVAL, "header %s is not a signature", SYNC_HDR_SIG);
    }
    if (request_message(method, path, origin, t, body, len, msg, sizeof(msg)) != LT_OK ||
        crypto_sign_verify_detached(sig, (const unsigned char *)msg, strlen(msg), pk) != 0) {
        lt_error_set(err, LT_EINVAL, "the request's signature does not match node \"%s\"", origin);
        lt_error_detail(err, "its body, path or time was changed, or another key signed it");
        return LT_EINVAL;
    }
    return LT_OK;
}
