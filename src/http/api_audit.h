/*
 * api_audit.h - the audit trail over HTTP.
 *
 *   GET /api/v1/me/access-log?limit=&after=
 *       the caller's own access log: who read records about the caller's
 *       person, when, under which purpose (no client address); reads
 *       sealed for law enforcement appear only from their seal's end.
 *       Needs a principal with a person (401 anonymous, 403 without one).
 *   GET /api/v1/audit?subject_kind=&subject=&person=&actor=&from=&to=&limit=&after=
 *       the auditor's search, every detail, only accesses made by accounts
 *       of the auditor's jurisdiction (anonymous accesses count as the
 *       node's unit).  403 for a principal that is not an auditor.
 *   GET /api/v1/audit/export?from=&to=
 *       the same rows as NDJSON for inspectors (413 past 64 MiB: narrow
 *       the range, or use "lienthong audit export").
 *
 * Pages are {"items": [...], "next": id|null}; pass next as after=.
 * from and to are days (YYYY-MM-DD, Vietnam time), to included.  Without
 * a principal (a node with no accounts) the auditor's routes answer
 * anyone, as the registries do.
 */
#ifndef LT_HTTP_API_AUDIT_H
#define LT_HTTP_API_AUDIT_H

#include "http/server.h"
#include "registry/registry.h"

#define API_AUDIT_EXPORT_MAX ((size_t)64 << 20)

/* Register the audit routes over node n (borrowed). */
void api_audit_register(struct http_server *s, struct node *n);

#endif
