/*
 * web.h - the counter's web UI: the files of web/, compiled into the binary
 * (tools/embed.c --index) and served by the node, so that a node needs no
 * file at run time.
 *
 *   GET /                the home page: the tasks of the signed-in account
 *   GET /login           sign in (the session cookie of POST /api/v1/auth/login)
 *   GET /receive         receive a dossier at the counter
 *   GET /queue           the officer's queue, by due date
 *   GET /dossier?code=   a dossier: timeline and the actions its status allows
 *   GET /receipt?code=   the printable receipt
 *   GET /indicators      on-time figures per unit and period
 *   GET /nodes           the sync dashboard: each child's backlog and last contact
 *   GET /static/{name}   any file of web/ by its base name (app.css, common.js, ...)
 *
 * (the public look-up page, /lookup, is the one-stop shop's: it works without
 * JavaScript.)  Pages are public: they hold no data, and fetch everything
 * from the API, whose own rules apply (src/auth/policy.c).  GET and HEAD only
 * (the router answers 405 otherwise).  A name not in the index is 404: the
 * look-up is an exact match in a table built at build time, so no request
 * can reach a file outside it.  Answers carry the server's security headers
 * (src/http/server.c: the CSP without 'unsafe-inline', nosniff, no
 * referrer), a content type by extension, "Cache-Control: no-cache" and an
 * ETag; a matching If-None-Match gets 304.
 */
#ifndef LT_WEB_H
#define LT_WEB_H

#include "core/embedded.h"
#include "http/server.h"

/* Add the routes above to s.  A page whose file is missing from the index
 * is a defect of the build (BUG). */
void web_register(struct http_server *s);

/* The embedded file called name ("app.css"), or NULL (borrowed, static). */
const struct embedded_file *web_file_find(const char *name);

/* Every embedded file, ended by an entry whose name is NULL (static). */
const struct embedded_file *web_files(void);

/* The Content-Type for a file name, by its extension; NULL for an extension
 * we do not serve. */
const char *web_content_type(const char *name);

#endif
