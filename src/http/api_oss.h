/*
 * api_oss.h - the one-stop shop over HTTP (src/oss does the work).
 *
 *   GET  /api/v1/procedures?date=YYYY-MM-DD        the procedures in force   (anyone)
 *   GET  /api/v1/procedures/{code}?date=           one, with fields, documents, effects,
 *                                                  legal basis and steps      (anyone)
 *   POST /api/v1/dossiers                          receive a dossier (201)
 *   GET  /api/v1/dossiers?unit=&status=&due=overdue|today&side=received&limit=&after=
 *                                                  the queue, by due date, {"dossiers", "next"}
 *   GET  /api/v1/dossiers/{code}                   a dossier with its steps and timeline
 *   POST /api/v1/dossiers/{code}/actions           {action, step?, reason?, note?, version?}
 *   GET  /api/v1/public/dossiers/{code}            status and due date only  (anyone)
 *   GET  /lookup?code=                             the same as a plain HTML page, no
 *                                                  JavaScript needed         (anyone)
 *   GET  /api/v1/indicators?unit=&from=&to=        on-time figures of a unit and period
 *
 * The caller is the request's principal (http_request_principal, set by
 * the server's guard); without one every endpoint but those marked
 * "anyone" answers 401.  What a role may do is the oss module's (oss.h).
 * Writes wait for their commit on the blocking pool (http_request_defer).
 * The shapes are those of README "The one-stop shop API".
 */
#ifndef LT_HTTP_API_OSS_H
#define LT_HTTP_API_OSS_H

#include "http/server.h"
#include "oss/oss.h"

/* Register the routes over o (borrowed; must outlive the server). */
void api_oss_register(struct http_server *s, struct oss *o);

#endif
