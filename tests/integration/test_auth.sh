#!/usr/bin/env bash
# test_auth.sh - accounts over real sockets: "lienthong user", login by
# bearer token and by cookie (its flags, CSRF on changes), logout, admins
# within their jurisdiction, the failed-login limit (429 and Retry-After),
# the security headers, "serve --no-auth" warning loudly, HTTPS with a
# certificate made here, and clients that drip their headers being cut
# off while the node keeps answering others.

. "$(dirname "$0")/lib.sh"

PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
DATA="$TMP/node"
PW='song-lua-chieu-7-ngan'

# req METHOD PATH [curl args...]: sets $status; body in $TMP/body, headers in $TMP/headers.
req() {
    local method=$1 path=$2
    shift 2
    status=$(curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$method" "$@" \
        "$BASE$path")
}
jv() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$TMP/body" "$1" 2>/dev/null
}
header() { grep -i "^$1:" "$TMP/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }

"$LT" init --data "$DATA" --unit 01 >/dev/null 2>&1
printf '%s\n' "$PW" >"$TMP/pw"

# --- the command line ----------------------------------------------------------
echo weak | "$LT" user add --data "$DATA" --account admin01 --role admin --unit 01 \
    >"$TMP/out" 2>"$TMP/err"
check_eq "a weak password is refused" 1 "$?"
check_contains "saying what is missing" "at least 12 characters (it has 4)" "$(cat "$TMP/err")"
check "the first admin is added with a password on stdin" \
    sh -c "echo '$PW' | '$LT' user add --data '$DATA' --account admin01 --role admin --unit 01"
check "an officer with --password-file" "$LT" user add --data "$DATA" --account officer.bd \
    --role officer --unit 00004 --password-file "$TMP/pw"
check_fails "a citizen without a personal ID is refused" "$LT" user add --data "$DATA" \
    --account citizen.an --role citizen --unit 00004 --password-file "$TMP/pw"
check "a citizen with one" "$LT" user add --data "$DATA" --account citizen.an --role citizen \
    --unit 00004 --person 001090000001 --password-file "$TMP/pw"
check_fails "an unknown role is refused" "$LT" user add --data "$DATA" --account x.y \
    --role king --unit 01 --password-file "$TMP/pw"
"$LT" user add --data "$DATA" --account clerk.old --role clerk --unit 00022 \
    --password-file "$TMP/pw" >"$TMP/out" 2>"$TMP/err"
check_eq "an account of a ward merged away (00022) is refused" 1 "$?"
check_contains "naming the ward that took it over" "taken over by" "$(cat "$TMP/err")"
"$LT" user list --data "$DATA" >"$TMP/list"
check_eq "user list shows the three accounts" 3 "$(grep -c ' active' "$TMP/list")"
check_contains "with the citizen's ID" "001090000001" "$(cat "$TMP/list")"

start_server "$PORT" --data "$DATA" || { done_testing; exit 1; }
check_contains "serve says accounts are on" "accounts on" "$(cat "$TMP/server.log")"

# --- login, bearer, cookie, CSRF -------------------------------------------
req POST /api/v1/auth/login --data-binary "{\"account\":\"officer.bd\",\"password\":\"$PW\"}"
check_eq "login: 200" 200 "$status"
TOKEN=$(jv 'd["token"]')
CSRF=$(jv 'd["csrf"]')
check_eq "login: the token is 43 URL-safe characters" 43 "$(printf '%s' "$TOKEN" | tr -cd 'A-Za-z0-9_-' | wc -c)"
check_eq "login: who, and the expiry" "officer 00004 yes" \
    "$(jv 'd["role"]') $(jv 'd["unit"]') $(jv '"yes" if d["expires_at"].endswith("Z") else "no"')"
cookie=$(header Set-Cookie)
check_contains "the cookie is HttpOnly, SameSite=Strict, Path=/" \
    "lt_session=$TOKEN; HttpOnly; SameSite=Strict; Path=/" "$cookie"
case "$cookie" in *Secure*) s=yes ;; *) s=no ;; esac
check_eq "and not Secure over plain HTTP" no "$s"
req POST /api/v1/auth/login -H 'X-Forwarded-Proto: https' \
    --data-binary "{\"account\":\"officer.bd\",\"password\":\"$PW\"}"
check_contains "Secure behind a TLS proxy" "; Secure" "$(header Set-Cookie)"

req GET /api/v1/auth/me -H "Authorization: Bearer $TOKEN"
check_eq "me with the bearer token" "200 officer.bd" "$status $(jv 'd["account"]')"
req GET /api/v1/auth/me -b "lt_session=$TOKEN"
check_eq "me with the cookie" "200 officer.bd" "$status $(jv 'd["account"]')"
req GET /api/v1/auth/me
check_eq "me without either: 401" 401 "$status"
check_contains "with WWW-Authenticate" "Bearer" "$(header WWW-Authenticate)"
req GET /api/v1/auth/me -H "Authorization: Bearer ${TOKEN%?}x"
check_eq "a wrong token: 401" 401 "$status"

PERSON='{"id":"001090000002","full_name":"Lê Văn Hòa","birth_date":"1990-01-01","sex":"male","ethnicity":"01","nationality":"VN","status":"alive"}'
req POST /api/v1/people -b "lt_session=$TOKEN" -H 'Content-Type: application/json' --data-binary "$PERSON"
check_eq "a cookie POST without X-CSRF-Token: 403" "403 X-CSRF-Token" "$status $(jv 'd["error"]["field"]')"
req POST /api/v1/people -b "lt_session=$TOKEN" -H "X-CSRF-Token: $TOKEN" --data-binary "$PERSON"
check_eq "with a wrong one: 403" 403 "$status"
req GET "/api/v1/people?unit=00004" -b "lt_session=$TOKEN" -H "X-Purpose: kiểm tra"
check_eq "a cookie GET needs none" 200 "$status"
req POST /api/v1/people -b "lt_session=$TOKEN" -H "X-CSRF-Token: $CSRF" --data-binary "$PERSON"
check_eq "with the session's csrf value: 201" 201 "$status"
req POST /api/v1/people -H "Authorization: Bearer $TOKEN" \
    --data-binary "${PERSON/001090000002/001090000003}"
check_eq "a bearer POST needs none: 201" 201 "$status"
req GET "/api/v1/people?unit=79" -H "Authorization: Bearer $TOKEN"
check_eq "a list outside the officer's commune: 403" "403 unit" "$status $(jv 'd["error"]["field"]')"

# --- security headers on every answer ---------------------------------------
for path in /healthz /api/v1/auth/me /nothing-here; do
    req GET "$path"
    check_eq "CSP on $path" \
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" \
        "$(header Content-Security-Policy)"
    check_eq "nosniff, no referrer, no frames on $path" "nosniff no-referrer DENY" \
        "$(header X-Content-Type-Options) $(header Referrer-Policy) $(header X-Frame-Options)"
done

# --- admins ------------------------------------------------------------------
req POST /api/v1/auth/login --data-binary "{\"account\":\"admin01\",\"password\":\"$PW\"}"
ADMIN=$(jv 'd["token"]')
req POST /api/v1/accounts -H "Authorization: Bearer $ADMIN" \
    --data-binary "{\"account\":\"clerk.hcm\",\"password\":\"$PW\",\"role\":\"clerk\",\"unit\":\"26740\"}"
check_eq "an admin of 01 cannot add an account in 79: 403" 403 "$status"
req POST /api/v1/accounts -H "Authorization: Bearer $ADMIN" \
    --data-binary "{\"account\":\"clerk.bd\",\"password\":\"short\",\"role\":\"clerk\",\"unit\":\"00004\"}"
check_eq "a weak password over HTTP: 400 naming it" "400 password" "$status $(jv 'd["error"]["field"]')"
req POST /api/v1/accounts -H "Authorization: Bearer $ADMIN" \
    --data-binary "{\"account\":\"clerk.bd\",\"password\":\"$PW\",\"role\":\"clerk0123456789\",\"unit\":\"00004\"}"
check_eq "an unknown role over HTTP: 400 naming it, quoted as sent" \
    '400 role unknown role "clerk0123456789"' \
    "$status $(jv 'd["error"]["field"]') $(jv 'd["error"]["message"]')"
req POST /api/v1/accounts -H "Authorization: Bearer $ADMIN" \
    --data-binary "{\"account\":\"clerk.bd\",\"password\":\"$PW\",\"role\":\"clerk\",\"unit\":\"00022\"}"
check_eq "a ward merged away over HTTP: 400 naming unit" "400 unit" \
    "$status $(jv 'd["error"]["field"]')"
req POST /api/v1/accounts -H "Authorization: Bearer $ADMIN" \
    --data-binary "{\"account\":\"clerk.bd\",\"password\":\"$PW\",\"role\":\"clerk\",\"unit\":\"00004\"}"
check_eq "inside: 201" "201 clerk.bd" "$status $(jv 'd["account"]')"
req GET /api/v1/accounts -H "Authorization: Bearer $ADMIN"
check_eq "the admin lists the accounts of 01" 4 "$(jv 'len(d["accounts"])')"
req GET /api/v1/accounts -H "Authorization: Bearer $TOKEN"
check_eq "an officer may not list accounts" 403 "$status"
req POST /api/v1/accounts/officer.bd/disable -H "Authorization: Bearer $ADMIN"
check_eq "the admin disables the officer" 200 "$status"
req GET /api/v1/auth/me -H "Authorization: Bearer $TOKEN"
check_eq "whose session ends at once" 401 "$status"

req POST /api/v1/auth/logout -H "Authorization: Bearer $ADMIN"
check_eq "logout" 200 "$status"
check_contains "clears the cookie" "lt_session=; " "$(header Set-Cookie)"
req GET /api/v1/auth/me -H "Authorization: Bearer $ADMIN"
check_eq "the token is dead after logout" 401 "$status"

# --- failed logins -------------------------------------------------------------
for i in 1 2 3 4 5; do
    req POST /api/v1/auth/login --data-binary '{"account":"citizen.an","password":"guess-123456"}'
done
check_eq "the fifth failure is still 401" 401 "$status"
req POST /api/v1/auth/login --data-binary "{\"account\":\"citizen.an\",\"password\":\"$PW\"}"
check_eq "then even the right password: 429" 429 "$status"
retry=$(header Retry-After)
check_eq "with Retry-After in seconds, at most 15 minutes" yes \
    "$([ "${retry:-0}" -gt 0 ] && [ "$retry" -le 900 ] && echo yes)"
"$LT" user disable --data "$DATA" --account citizen.an >/dev/null
"$LT" user list --data "$DATA" >"$TMP/list"
check_contains "user disable shows in the list" "disabled" "$(grep citizen.an "$TMP/list")"

# --- slow clients --------------------------------------------------------------
SLOW_PORT=$(free_port)
"$LT" serve --data "$DATA" --listen "127.0.0.1:$SLOW_PORT" --threads 1 --header-timeout 2 \
    >"$TMP/slow.log" 2>&1 &
slow=$!
_pids="$_pids $slow"
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$SLOW_PORT/healthz" >/dev/null && break; sleep 0.1; done
python3 - "$SLOW_PORT" >"$TMP/drip.out" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for _ in range(40):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\n")
    socks.append(s)
start = time.time()
closed = 0
# Drip a header byte every 0.3 s on each; count those the server cuts.
while time.time() - start < 8 and socks:
    for s in list(socks):
        try:
            s.sendall(b"X")
            s.settimeout(0.001)
            if s.recv(1) == b"":
                raise OSError
        except socket.timeout:
            pass
        except OSError:
            socks.remove(s)
            closed += 1
    time.sleep(0.3)
print(closed, round(time.time() - start, 1))
PY
drip=$!
sleep 0.5
t0=$(date +%s%N)
status=$(curl -s -o /dev/null -w '%{http_code}' -m 3 "http://127.0.0.1:$SLOW_PORT/healthz")
t1=$(date +%s%N)
check_eq "while 40 clients drip headers, another is served" 200 "$status"
check_eq "within a second" yes "$([ $(((t1 - t0) / 1000000)) -lt 1000 ] && echo yes)"
wait "$drip"
read -r closed secs <"$TMP/drip.out"
check_eq "every dripping connection is closed" 40 "$closed"
check_eq "soon after the 2 s header deadline" yes \
    "$(python3 -c "print('yes' if 1.5 <= $secs <= 5 else 'no')")"

# --- --no-auth -----------------------------------------------------------------
NA_PORT=$(free_port)
"$LT" serve --data "$DATA" --listen "127.0.0.1:$NA_PORT" --no-auth >"$TMP/noauth.log" 2>&1 &
na=$!
_pids="$_pids $na"
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$NA_PORT/healthz" >/dev/null && break; sleep 0.1; done
check_contains "--no-auth warns loudly" "WARNING: --no-auth: accounts are off" "$(cat "$TMP/noauth.log")"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NA_PORT/api/v1/people?unit=00004")
check_eq "and serves without an account" 200 "$status"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NA_PORT/api/v1/accounts")
check_eq "but the account routes still refuse" 401 "$status"
kill "$na"

# --- behind a reverse proxy ----------------------------------------------------
PX_PORT=$(free_port)
"$LT" serve --data "$DATA" --listen "127.0.0.1:$PX_PORT" --trust-proxy 127.0.0.1 \
    >"$TMP/proxy.log" 2>&1 &
px=$!
_pids="$_pids $px"
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PX_PORT/healthz" >/dev/null && break; sleep 0.1; done
login_via() { # login_via ADDRESS ACCOUNT PASSWORD: the status, as the proxy forwards it
    curl -s -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 198.51.100.9, $1" \
        --data-binary "{\"account\":\"$2\",\"password\":\"$3\"}" \
        "http://127.0.0.1:$PX_PORT/api/v1/auth/login"
}
for i in 1 2 3 4 5; do login_via 203.0.113.7 "nobody$i" guess-123456 >/dev/null; done
check_eq "behind a trusted proxy, one client's failures lock that client out" 429 \
    "$(login_via 203.0.113.7 admin01 "$PW")"
check_eq "not another client of the same proxy" 200 "$(login_via 203.0.113.8 admin01 "$PW")"
check_eq "nor one that claims the locked address first in the header" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Forwarded-For: 203.0.113.7, 203.0.113.9' \
        --data-binary "{\"account\":\"admin01\",\"password\":\"$PW\"}" \
        "http://127.0.0.1:$PX_PORT/api/v1/auth/login")"
"$LT" serve --data "$DATA" --listen "127.0.0.1:$(free_port)" --trust-proxy proxy.local \
    >"$TMP/out" 2>"$TMP/err"
check_eq "a trusted proxy that is not an address: refused" 2 "$?"
kill "$px"

# --- HTTPS ---------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
    -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
TLS_PORT=$(free_port)
"$LT" serve --data "$DATA" --listen "127.0.0.1:$TLS_PORT" --tls-cert "$TMP/cert.pem" \
    --tls-key "$TMP/key.pem" >"$TMP/tls.log" 2>&1 &
tls=$!
_pids="$_pids $tls"
for _ in $(seq 1 100); do
    curl -fs --cacert "$TMP/cert.pem" "https://127.0.0.1:$TLS_PORT/healthz" >/dev/null && break
    sleep 0.1
done
check_contains "serve over TLS prints an https URL" "listening on https://127.0.0.1:$TLS_PORT" \
    "$(cat "$TMP/tls.log")"
status=$(curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' --cacert "$TMP/cert.pem" \
    -X POST "https://127.0.0.1:$TLS_PORT/api/v1/auth/login" \
    --data-binary "{\"account\":\"clerk.bd\",\"password\":\"$PW\"}")
check_eq "login over TLS, the certificate checked" 200 "$status"
check_contains "the cookie is Secure on TLS" "HttpOnly; SameSite=Strict; Path=/; Max-Age=28800; Secure" \
    "$(header Set-Cookie)"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TLS_PORT/healthz")
check_eq "plain HTTP to the TLS port gets no answer" 000 "$status"
check_fails "a key that is not PEM is refused" timeout 10 "$LT" serve --data "$DATA" \
    --listen "127.0.0.1:$(free_port)" --tls-cert "$TMP/cert.pem" --tls-key "$TMP/pw"
check_fails "--tls-cert alone is refused" timeout 10 "$LT" serve --tls-cert "$TMP/cert.pem"
kill "$tls"

check_eq "no sanitizer reports" 0 \
    "$(cat "$TMP"/*.log | grep -c -E 'AddressSanitizer|LeakSanitizer|runtime error')"
done_testing
