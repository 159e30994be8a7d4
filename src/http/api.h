/*
 * api.h - the endpoints of the units register and of address conversion.
 *
 *   GET  /healthz
 *   GET  /api/v1/units?q=&date=&limit=
 *   GET  /api/v1/units/{code}?date=
 *   GET  /api/v1/units/{code}/children?date=   (date=any: every period)
 *   GET  /api/v1/units/{code}/parents?date=
 *   GET  /api/v1/units/{code}/successors?date=
 *   GET  /api/v1/units/{code}/predecessors?date=
 *   POST /api/v1/addresses/convert
 *
 * Without ?date= a code means the unit in force today, else the last one
 * that carried it (as on the command line).  Bodies are the shapes of
 * unit_json.h and address.h.
 */
#ifndef LT_HTTP_API_H
#define LT_HTTP_API_H

#include "address/address.h"
#include "http/server.h"
#include "units/units.h"

/* At most this many addresses in one conversion request. */
#define API_ADDRESS_BATCH_MAX 10000

/* The most search results one request may ask for. */
#define API_SEARCH_LIMIT_MAX 200

/* Register /healthz and /api/v1/units...; u is borrowed, read-only. */
void api_units_register(struct http_server *s, const struct units *u);

/* Register /api/v1/addresses/convert over a converter built once and
 * shared read-only by every worker (borrowed; must outlive the server). */
void api_address_register(struct http_server *s, const struct address_converter *conv);

#endif
