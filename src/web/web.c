/*
 * web.c - serving the web UI's embedded files (see web.h).
 *
 * The files live in lt_web_files, the index that tools/embed.c writes at
 * build time from the list in meson.build; nothing here touches the file
 * system.  Each page route gets its file as the route's context when it is
 * added, so a request for a page costs one copy of the bytes.
 */
#include "web/web.h"

#include <string.h>

#include "core/banned.h"

/* Written at build time by tools/embed.c --index lt_web_files. */
extern const struct embedded_file lt_web_files[];

/* The pages, each at its own path. */
static const struct {
    const char *path;
    const char *file;
} pages[] = {
    { "/", "index.html" },
    { "/login", "login.html" },
    { "/receive", "receive.html" },
    { "/queue", "queue.html" },
    { "/dossier", "dossier.html" },
    { "/receipt", "receipt.html" },
    { "/indicators", "indicators.html" },
    { "/nodes", "nodes.html" },
};

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".json", "application/json; charset=utf-8" },
    { ".txt", "text/plain; charset=utf-8" },
};

/* If-None-Match: "*" or a list of tags, weak ones ("W/...") included. */
static bool etag_matches(const char *header, const char *etag)
{
    while (*header == ' ') {
        header++;
    }
    return strcmp(header, "*") == 0 || strstr(header, etag) != NULL;
}

static enum lt_code not_found(const char *path, struct lt_error *err)
{
    lt_error_set(err, LT_ENOTFOUND, "nothing is served at \"%.200s\"", path);
    lt_error_hint(err, "the web UI's files are /static/NAME, with NAME a file of web/");
    return LT_ENOTFOUND;
}

static enum lt_code send_file(struct http_request *req, const struct embedded_file *f,
                              struct lt_error *err)
{
    const char *type = web_content_type(f->name);
    const char *inm = http_request_header(req, "If-None-Match");

    if (type == NULL) {
        return not_found(http_request_path(req), err);
    }
    /* Revalidated every time, so that a node upgraded serves its new files at once. */
    http_reply_header(req, "Cache-Control", "no-cache");
    http_reply_header(req, "ETag", f->etag);
    if (inm != NULL && etag_matches(inm, f->etag)) {
        return http_reply_text(req, 304, type, "", 0);
    }
    return http_reply_text(req, 200, type, f->data, f->len);
}

static enum lt_code get_page(struct http_request *req, void *ctx, struct lt_error *err)
{
    return send_file(req, ctx, err);
}

static enum lt_code get_static(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct embedded_file *f = web_file_find(http_request_param(req, "name"));

    (void)ctx;
    if (f == NULL) {
        return not_found(http_request_path(req), err);
    }
    return send_file(req, f, err);
}

const struct embedded_file *web_files(void)
{
    return lt_web_files;
}

const struct embedded_file *web_file_find(const char *name)
{
    for (const struct embedded_file *f = lt_web_files; f->name != NULL; f++) {
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }
    return NULL;
}

const char *web_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');

    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(dot, types[i].ext) == 0) {
            return types[i].type;
        }
    }
    return NULL;
}

void web_register(struct http_server *s)
{
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        const struct embedded_file *f = web_file_find(pages[i].file);

        if (f == NULL) {
            BUG("page %s: \"%s\" is not among the embedded files", pages[i].path, pages[i].file);
        }
        /* The context is only read: the table is constant. */
        http_server_route(s, "GET", pages[i].path, get_page, (void *)f);
    }
    http_server_route(s, "GET", "/static/{name}", get_static, NULL);
}
