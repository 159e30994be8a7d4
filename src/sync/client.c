/*
 * client.c - signed HTTP requests to another node, over libcurl.
 *
 * Design note.  One easy handle per client, reused so that libcurl keeps
 * the connection to the parent open between pushes.  Signals are off
 * (CURLOPT_NOSIGNAL: we run in threads), "Expect: 100-continue" is
 * suppressed (it would add a round trip to every large batch), and
 * libcurl's codes are mapped to LT_EUNAVAIL at this boundary.
 */
#include "sync/client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/banned.h"

#define URL_MAX          1024
#define REPLY_HEADERS    4
#define REPLY_HEADER_MAX 200
#define KEPT_PREFIX      "X-Lienthong-"

struct reply_header {
    char name[48];
    char value[REPLY_HEADER_MAX];
};

struct sync_client {
    CURL *curl;
    char base[URL_MAX];
    const struct sync_key *key;
    char origin[128];
    const atomic_bool *stop;
    long timeout_ms;
    struct reply_header headers[REPLY_HEADERS]; /* of the last answer */
    size_t nheaders;
};

enum lt_code sync_client_global_init(struct lt_error *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return lt_error_set(err, LT_EINTERNAL, "could not initialise libcurl");
    }
    return LT_OK;
}

struct sync_client *sync_client_new(const char *base_url, const struct sync_key *key,
                                    const char *origin, const atomic_bool *stop, long timeout_ms)
{
    struct sync_client *cl = xcalloc(1, sizeof(*cl));
    size_t len;

    snprintf(cl->base, sizeof(cl->base), "%s", base_url);
    len = strlen(cl->base);
    while (len > 0 && cl->base[len - 1] == '/') {
        cl->base[--len] = '\0';
    }
    snprintf(cl->origin, sizeof(cl->origin), "%s", origin != NULL ? origin : "");
    cl->key = key;
    cl->stop = stop;
    cl->timeout_ms = timeout_ms > 0 ? timeout_ms : 60000;
    cl->curl = curl_easy_init();
    if (cl->curl == NULL) {
        BUG("curl_easy_init failed (out of memory)");
    }
    return cl;
}

void sync_client_free(struct sync_client *cl)
{
    if (cl == NULL) {
        return;
    }
    curl_easy_cleanup(cl->curl);
    free(cl);
}

const char *sync_client_url(const struct sync_client *cl)
{
    return cl->base;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct buf *reply = arg;

    /* Returning less than given makes libcurl fail the transfer: over the cap. */
    return buf_append(reply, p, size * n) == LT_OK ? size * n : 0;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const struct sync_client *cl = arg;

    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    return cl->stop != NULL && atomic_load(cl->stop) ? 1 : 0;
}

/* Keep the X-Lienthong-* headers of an answer; drop the others. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct sync_client *cl = arg;
    size_t len = size * n, plen = strlen(KEPT_PREFIX), name_len, vlen;
    const char *colon = memchr(p, ':', len);
    const char *v;
    struct reply_header *h;

    if (colon == NULL || len < plen || strncasecmp(p, KEPT_PREFIX, plen) != 0 ||
        cl->nheaders == REPLY_HEADERS) {
        return len;
    }
    name_len = (size_t)(colon - p);
    v = colon + 1;
    while (v < p + len && (*v == ' ' || *v == '\t')) {
        v++;
    }
    vlen = (size_t)(p + len - v);
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ')) {
        vlen--;
    }
    if (name_len >= sizeof(h->name) || vlen >= sizeof(h->value)) {
        return len;
    }
    h = &cl->headers[cl->nheaders++];
    memcpy(h->name, p, name_len);
    h->name[name_len] = '\0';
    memcpy(h->value, v, vlen);
    h->value[vlen] = '\0';
    return len;
}

const char *sync_client_reply_header(const struct sync_client *cl, const char *name)
{
    for (size_t i = 0; i < cl->nheaders; i++) {
        if (strcasecmp(cl->headers[i].name, name) == 0) {
            return cl->headers[i].value;
        }
    }
    return NULL;
}

/* The signature headers, when the client has a key. */
static struct curl_slist *sign_headers(struct sync_client *cl, const char *method, const char *path,
                                       const char *body, size_t len)
{
    struct curl_slist *h = NULL;
    char line[512], sig[SYNC_SIG_HEX];
    int64_t now = sync_now_ms();

    h = curl_slist_append(h, "Expect:");
    h = curl_slist_append(h, "Content-Type: application/json");
    if (cl->key == NULL) {
        return h;
    }
    sync_sign_request(cl->key, method, path, cl->origin, now, body, len, sig);
    snprintf(line, sizeof(line), "%s: %s", SYNC_HDR_ORIGIN, cl->origin);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "%s: %lld", SYNC_HDR_TIME, (long long)now);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof(line), "%s: %s", SYNC_HDR_SIG, sig);
    return curl_slist_append(h, line);
}

enum lt_code sync_client_request(struct sync_client *cl, const char *method, const char *path,
                                 const char *body, size_t len, long *status, struct buf *reply,
                                 struct lt_error *err)
{
    char url[URL_MAX + 256];
    struct curl_slist *headers;
    CURLcode cc;
    CURL *c = cl->curl;

    *status = 0;
    cl->nheaders = 0;
    buf_reset(reply);
    snprintf(url, sizeof(url), "%s%s", cl->base, path);
    headers = sign_headers(cl, method, path, body != NULL ? body : "", body != NULL ? len : 0);

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cl->timeout_ms);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, cl);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, cl);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body != NULL ? len : 0));
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }

    cc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    if (cc != CURLE_OK) {
        lt_error_set(err, LT_EUNAVAIL, "could not reach %s: %s", cl->base,
                     cc == CURLE_ABORTED_BY_CALLBACK ? "stopping" : curl_easy_strerror(cc));
        lt_error_detail(err, "%s %s", method, path);
        return LT_EUNAVAIL;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return LT_OK;
}
