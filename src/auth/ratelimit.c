/*
 * ratelimit.c - failures per key in a sliding window (see ratelimit.h).
 *
 * Open addressing over RL_SLOTS slots with a short probe; each slot keeps
 * the times of the key's last max failures in a ring, so "max failures in
 * the window" is one comparison of the oldest with now.
 */
#include "auth/ratelimit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/banned.h"

/* XXX: counts live in this process only: a restart forgets them. */
#define RL_SLOTS   4096
#define RL_PROBE   8
#define RL_KEY_MAX 96

struct slot {
    char key[RL_KEY_MAX];
    unsigned n;    /* failures recorded, at most max */
    unsigned head; /* index of the oldest in times when n == max */
    int64_t times[RATELIMIT_MAX_FAILURES];
    int64_t last;
};

struct ratelimit {
    pthread_mutex_t mu;
    unsigned max;
    int64_t window_ms;
    struct slot *slots;
};

static uint32_t hash_key(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

/* The slot of key, or NULL; with create, a free or the stalest slot. */
static struct slot *find(struct ratelimit *rl, const char *key, bool create)
{
    uint32_t h = hash_key(key);
    struct slot *empty = NULL, *stalest = NULL, *victim;

    for (unsigned i = 0; i < RL_PROBE; i++) {
        struct slot *s = &rl->slots[(h + i) % RL_SLOTS];

        if (s->key[0] == '\0') {
            if (empty == NULL) {
                empty = s;
            }
        } else if (strncmp(s->key, key, RL_KEY_MAX - 1) == 0) {
            return s;
        } else if (stalest == NULL || s->last < stalest->last) {
            stalest = s;
        }
    }
    if (!create) {
        return NULL;
    }
    victim = empty != NULL ? empty : stalest;
    memset(victim, 0, sizeof(*victim));
    snprintf(victim->key, sizeof(victim->key), "%s", key);
    return victim;
}

/* The oldest failure still counted. */
static int64_t oldest(const struct ratelimit *rl, const struct slot *s)
{
    return s->n < rl->max ? s->times[0] : s->times[s->head];
}

struct ratelimit *ratelimit_new(unsigned max, int64_t window_ms)
{
    struct ratelimit *rl = xcalloc(1, sizeof(*rl));

    if (max == 0 || max > RATELIMIT_MAX_FAILURES) {
        BUG("rate limit of %u failures", max);
    }
    pthread_mutex_init(&rl->mu, NULL);
    rl->max = max;
    rl->window_ms = window_ms;
    rl->slots = xcalloc(RL_SLOTS, sizeof(*rl->slots));
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (rl == NULL) {
        return;
    }
    pthread_mutex_destroy(&rl->mu);
    free(rl->slots);
    free(rl);
}

int64_t ratelimit_wait(struct ratelimit *rl, const char *key, int64_t now_ms)
{
    struct slot *s;
    int64_t wait = 0;

    pthread_mutex_lock(&rl->mu);
    s = find(rl, key, false);
    if (s != NULL && s->n >= rl->max) {
        int64_t until = oldest(rl, s) + rl->window_ms;

        wait = until > now_ms ? until - now_ms : 0;
    }
    pthread_mutex_unlock(&rl->mu);
    return wait;
}

void ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now_ms)
{
    struct slot *s;

    pthread_mutex_lock(&rl->mu);
    s = find(rl, key, true);
    if (s->n < rl->max) {
        s->times[s->n++] = now_ms;
    } else {
        s->times[s->head] = now_ms;
        s->head = (s->head + 1) % rl->max;
    }
    s->last = now_ms;
    pthread_mutex_unlock(&rl->mu);
}

void ratelimit_clear(struct ratelimit *rl, const char *key)
{
    struct slot *s;

    pthread_mutex_lock(&rl->mu);
    s = find(rl, key, false);
    if (s != NULL) {
        memset(s, 0, sizeof(*s));
    }
    pthread_mutex_unlock(&rl->mu);
}
