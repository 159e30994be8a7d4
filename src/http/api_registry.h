/*
 * api_registry.h - the registries over HTTP.
 *
 * For each kind, with its plural in the path (people, residences,
 * households, parcels, benefits, businesses):
 *
 *   POST /api/v1/{kinds}                 register a new record (201)
 *   GET  /api/v1/{kinds}/{key}           the record; ?as_of=YYYY-MM-DD for a past day
 *   PUT  /api/v1/{kinds}/{key}           change it: If-Match: "<version>" (or
 *                                        ?base_version=N) is required; 409 when stale
 *   GET  /api/v1/{kinds}/{key}/history   every change, with actor and cause
 *   GET  /api/v1/{kinds}?unit=CODE&after=KEY&limit=N   records of a unit, paged
 *   GET  /api/v1/people/search?name=&birth_year=&unit=&limit=
 *
 * Residences and benefits have two-part keys: /api/v1/residences/{person}/{kind}
 * and /api/v1/benefits/{person}/{scheme}.
 *
 * Reads carry an ETag (the version) and answer 304 to a matching
 * If-None-Match.  Writes take the legal cause and the effective day from
 * ?cause= and ?effective= and answer {"version": N, "record": {...}}.
 */
#ifndef LT_HTTP_API_REGISTRY_H
#define LT_HTTP_API_REGISTRY_H

#include "http/server.h"
#include "registry/registry.h"

/* Register the routes of every registry kind over node n (borrowed). */
void api_registry_register(struct http_server *s, struct node *n);

#endif
