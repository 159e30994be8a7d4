#!/usr/bin/env bash
# test_web.sh - the web UI's files as a node serves them (src/web): every
# page and every file of web/ byte for byte, with its content type and the
# security headers; no inline script, style or event handler in any page;
# 404 for unknown names and for every path traversal we could think of,
# with nothing from outside the embedded set in the answer; HEAD; 405 for
# other methods; ETag and 304.

. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WEB=$ROOT/web
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
DATA="$TMP/node"
PAGES="/ /login /receive /queue /dossier /receipt /indicators /nodes /lookup"
CSP="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

# req METHOD PATH [curl args...]: sets $status; body in $TMP/body, headers in $TMP/headers.
req() {
    local method=$1 path=$2
    shift 2
    rm -f "$TMP/body"
    status=$(curl -s --path-as-is -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' \
        -X "$method" "$@" "$BASE$path")
}

header() { # header NAME: a response header of the last request
    grep -i "^$1:" "$TMP/headers" | head -n 1 | cut -d' ' -f2- | tr -d '\r'
}

type_of() { # the content type a file of web/ must be served with
    case "$1" in
    *.html) echo "text/html; charset=utf-8" ;;
    *.css) echo "text/css; charset=utf-8" ;;
    *.js) echo "text/javascript; charset=utf-8" ;;
    *.svg) echo "image/svg+xml" ;;
    *) echo "unknown" ;;
    esac
}

# leaked: does the last body hold anything from outside the embedded set?
leaked() {
    grep -qE 'root:.*:0:0|project\(.lienthong|#include|BEGIN .*PRIVATE KEY|SQLite format' "$TMP/body"
}

check "init a node for Hà Nội (01)" "$LT" init --data "$DATA" --unit 01
start_server "$PORT" --data "$DATA" || {
    done_testing
    exit 1
}

# --- pages --------------------------------------------------------------------
for page in $PAGES; do
    req GET "$page"
    check_eq "GET $page: 200 HTML" "200 text/html; charset=utf-8" "$status $(header Content-Type)"
    check_eq "GET $page: the CSP, without 'unsafe-inline'" "$CSP" "$(header Content-Security-Policy)"
    check_eq "GET $page: nosniff, no referrer, no frames" "nosniff no-referrer DENY" \
        "$(header X-Content-Type-Options) $(header Referrer-Policy) $(header X-Frame-Options)"
    inline=$(grep -noE '<script( [^>]*)?>[^<[:space:]]|<script>|<style|[[:space:]]style=|[[:space:]]on[a-z]+=|javascript:' \
        "$TMP/body" | grep -v 'src=' | head -n 3)
    check_eq "GET $page: no inline script, style or event handler" "" "$inline"
    for ref in $(grep -oE '(src|href)="/static/[^"]+"' "$TMP/body" | sed 's/.*="\(.*\)"/\1/' | sort -u); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE$ref")
        check_eq "$page refers to $ref, which is served" 200 "$code"
    done
done
check_contains "the home page loads its module script" \
    '<script type="module" src="/static/home.js"></script>' "$(curl -s "$BASE/")"

# --- every file of web/, byte for byte ---------------------------------------------
for f in "$WEB"/*; do
    name=$(basename "$f")
    req GET "/static/$name"
    check_eq "/static/$name: 200 $(type_of "$name")" "200 $(type_of "$name")" \
        "$status $(header Content-Type)"
    check "/static/$name: the bytes of web/$name" cmp -s "$f" "$TMP/body"
done
req GET "/static/app.css"
check_eq "files: the security headers too" "nosniff no-referrer $CSP" \
    "$(header X-Content-Type-Options) $(header Referrer-Policy) $(header Content-Security-Policy)"
check_eq "files: revalidated, with an ETag" "no-cache 1" \
    "$(header Cache-Control) $(header ETag | grep -cE '^"[0-9a-f]{16}"$')"
ETAG=$(header ETag)
req GET "/static/app.css" -H "If-None-Match: $ETAG"
check_eq "files: If-None-Match with the ETag gives 304, no body" "304 0" \
    "$status $(cat "$TMP/body" 2>/dev/null | wc -c)"
req GET "/static/app.css" -H 'If-None-Match: "0000000000000000"'
check_eq "files: another ETag gives the file" 200 "$status"
req GET "/static/app.css?v=2"
check_eq "files: a query string is ignored" 200 "$status"
check "files: no script writes markup or styles (innerHTML, eval, style)" \
    sh -c "! grep -nE 'innerHTML|outerHTML|insertAdjacentHTML|document\\.write|eval\\(|new Function|\\.style\\b|setAttribute\\(.style' '$WEB'/*.js"

# --- HEAD and other methods ----------------------------------------------------
# raw METHOD TARGET: one request as written, the whole answer in $TMP/body.
raw() {
    python3 - "$PORT" "$1" "$2" >"$TMP/body" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % (sys.argv[2], sys.argv[3])).encode("latin-1"))
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode("latin-1"))
PY
}
status_line() {
    head -n 1 "$TMP/body" | tr -d '\r'
}
body_after_headers() { # the bytes after the blank line that ends the headers
    python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(len(d.split(b"\r\n\r\n", 1)[1]) if b"\r\n\r\n" in d else -1)' "$TMP/body"
}

req GET "/static/common.js"
LEN=$(wc -c <"$TMP/body")
raw HEAD /static/common.js
check_eq "HEAD: 200, the length of the file, no body" "HTTP/1.1 200 OK $LEN 0" \
    "$(status_line) $(grep -i '^Content-Length:' "$TMP/body" | tr -d '\r' | cut -d' ' -f2) $(body_after_headers)"
check_contains "HEAD: the content type" "Content-Type: text/javascript; charset=utf-8" "$(cat "$TMP/body")"
raw HEAD /receive
check_eq "HEAD of a page: 200, no body" "HTTP/1.1 200 OK 0" "$(status_line) $(body_after_headers)"
for m in POST PUT DELETE PATCH; do
    req $m "/static/app.css" -H 'Content-Type: application/json' --data-binary '{}'
    check_eq "$m on a file: 405, Allow: GET, HEAD" "405 GET, HEAD" "$status $(header Allow)"
done
req POST "/receive" --data-binary 'x=1'
check_eq "POST on a page: 405" 405 "$status"

# --- unknown names and traversal -------------------------------------------------
cp "$ROOT/meson.build" "$TMP/body"
check "the leak check knows a file of the repository when it sees one" leaked
for p in /static/nope.js /static/ /static /static/app.css/ /static/app.css/x /static/APP.CSS \
    /static/.app.css /static/app.css.map /web/app.css /app.css /index.html /static/index; do
    req GET "$p"
    check_eq "GET $p: 404" 404 "$status"
done
for p in '/static/../meson.build' '/static/../../../../etc/passwd' '/static/%2e%2e/meson.build' \
    '/static/%2e%2e%2fmeson.build' '/static/..%2f..%2f..%2fetc%2fpasswd' '/static/%2fetc%2fpasswd' \
    '/static//etc/passwd' '/static/..\..\meson.build' '/static/..%5c..%5cmeson.build' \
    '/static/%5cetc%5cpasswd' '/static/app.css%00' '/static/%00' '/static/app.css%00.html' \
    '/static/%252e%252e%252fmeson.build' '/static/.%2e/.%2e/meson.build' '/static/./app.css' \
    '/../../etc/passwd' '//etc/passwd' '/static/%c0%ae%c0%ae/meson.build' \
    '/static/file:%2f%2f%2fetc%2fpasswd' '/static/C:%5cWindows%5cwin.ini'; do
    req GET "$p"
    case "$status" in
    400 | 404) ok=0 ;;
    *) ok=1 ;;
    esac
    leaked && ok=1
    check_eq "GET $p: 404 or 400, nothing leaked" "0 ($status)" "$ok ($status)"
done

# Raw request lines that curl would tidy: no leading slash, absolute form, dot segments.
for target in '../../etc/passwd' 'static/app.css' '/static/../../etc/passwd' \
    "http://127.0.0.1:$PORT/static/../../meson.build" '/static/..%2F..%2Fmeson.build' '*'; do
    raw GET "$target"
    line=$(status_line)
    case "$line" in
    "HTTP/1.1 400"* | "HTTP/1.1 404"* | "") ok=0 ;;
    *) ok=1 ;;
    esac
    leaked && ok=1
    check_eq "raw GET ${target/$PORT/PORT}: refused (${line:-closed}), nothing leaked" 0 "$ok"
done

# --- without a data directory the pages are still served -------------------------
PORT2=$(free_port)
start_server "$PORT2" || {
    done_testing
    exit 1
}
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT2/static/common.js")
check_eq "a node without --data serves the files too" 200 "$code"

done_testing
