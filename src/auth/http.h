/*
 * http.h - accounts over HTTP, and the guard that runs before every handler.
 *
 *   POST /api/v1/auth/login    {account, password} -> 200 {token, expires_at,
 *                              account, role, unit, person_id?, csrf} and the
 *                              session cookie; 401 wrong account or password,
 *                              429 with Retry-After when rate limited
 *   POST /api/v1/auth/logout   revokes the caller's session, clears the cookie
 *   GET  /api/v1/auth/me       the caller: {account, role, unit, person_id?}
 *   POST /api/v1/accounts      (admin) {account, password, role, unit,
 *                              person_id?} -> 201 the account
 *   GET  /api/v1/accounts      (admin) ?unit= -> {"accounts": [...]}, those
 *                              within the unit (default: the admin's own)
 *   POST /api/v1/accounts/{name}/disable   (admin) -> 200 the account
 *
 * The guard (auth_guard) applies the rule of the route (policy.h).  A
 * caller is known by "Authorization: Bearer <token>" or, for the web UI,
 * by the cookie "lt_session=<token>" (HttpOnly, SameSite=Strict, Path=/,
 * Secure over TLS or behind a proxy that says X-Forwarded-Proto: https).
 * A cookie-authenticated POST, PUT, PATCH or DELETE must carry
 * "X-CSRF-Token: <csrf>" with the csrf value of the login answer, else
 * 403; bearer requests need none, as a browser never adds that header by
 * itself.  Answers: 401 (with WWW-Authenticate: Bearer) when a route needs
 * an account and the request has no live session, 403 when the role may
 * not use the route or the ?unit= (or unit path capture) lies outside the
 * account's jurisdiction.
 */
#ifndef LT_AUTH_HTTP_H
#define LT_AUTH_HTTP_H

#include "auth/auth.h"
#include "http/server.h"

#define AUTH_COOKIE "lt_session"

/*
 * The session token a request carries (Bearer first, else the cookie) into
 * out, and whether it came in the cookie.  false if none.  A token too
 * long to be one is cut, so that it fails to authenticate.
 */
bool auth_request_token(const struct http_request *req, char out[AUTH_TOKEN_CHARS + 2],
                        bool *from_cookie);

/* The guard; ctx is the struct auth. */
enum lt_code auth_guard(struct http_request *req, void *ctx, struct lt_error *err);

/* Add the routes above to s and set auth_guard as its guard (a borrowed,
 * must outlive the server). */
void auth_http_register(struct auth *a, struct http_server *s);

#endif
