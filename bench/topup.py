#!/usr/bin/env python3
"""topup.py - finish loading people into a serving node and list its IDs.

    topup.py URL DB PEOPLE.ndjson IDS_OUT

wrk can drop a request when a connection is re-opened, so after the bulk
load (bench/load.lua) the people of the file that the node does not hold
are POSTed again here, one by one.  The node's database is only read (a
second reader beside the serving process, as WAL allows).  Writes the IDs
the node holds to IDS_OUT, one a line, and prints how many were topped up.
"""
import http.client
import os
import json
import re
import sqlite3
import sys
import urllib.parse


def main():
    url, db, people, ids_out = sys.argv[1:5]
    ro = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    have = set(r[0] for r in ro.execute("SELECT key FROM reg_people"))
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    added = refused = 0
    for line in open(people, encoding="utf-8"):
        rec = json.loads(line)
        if rec["id"] in have:
            continue
        rec.pop("father_id", None)
        rec.pop("mother_id", None)
        conn.request("POST", "/api/v1/people?cause=bench-load",
                     json.dumps(rec, ensure_ascii=False).encode(),
                     {"Content-Type": "application/json",
                      "Authorization": "Bearer " + os.environ.get("LT_TOKEN", "")})
        r = conn.getresponse()
        body = r.read()
        if r.status == 201:
            added += 1
            have.add(rec["id"])
        else:
            refused += 1
            print("refused %s: %d %s" % (rec["id"], r.status, body[:200]), file=sys.stderr)
    with open(ids_out, "w") as f:
        f.write("\n".join(sorted(have)) + "\n")
    print("topped up %d people (%d refused); the node holds %d" % (added, refused, len(have)))
    return 0 if refused == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
