#!/usr/bin/env python3
"""ndjson_to_csv.py - records of "lienthong gen" (NDJSON) as the CSV that
"lienthong export" writes: the header line given (the kind's columns, as
"lienthong export" prints them), RFC 4180 quoting, arrays as compact JSON.

    bench/ndjson_to_csv.py "id,full_name,..." < people.ndjson > people.csv
"""
import json
import sys


def canonical(v):
    """Whole numbers as integers, as the registries store them (1.0 -> 1)."""
    if isinstance(v, float) and v == int(v):
        return int(v)
    if isinstance(v, list):
        return [canonical(x) for x in v]
    if isinstance(v, dict):
        return {k: canonical(x) for k, x in v.items()}
    return v


def cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        raise SystemExit("ndjson_to_csv: a boolean has no CSV form here")
    if isinstance(v, str):
        s = v
    elif isinstance(v, int):
        s = str(v)
    elif isinstance(v, float):
        s = repr(v) if v != int(v) else str(int(v))
    else:
        s = json.dumps(canonical(v), separators=(",", ":"), ensure_ascii=False)
    if any(ch in s for ch in ',"\r\n'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def main():
    cols = sys.argv[1].split(",")
    out = sys.stdout
    out.write(",".join(cols) + "\n")
    for line in sys.stdin:
        rec = json.loads(line)
        out.write(",".join(cell(rec.get(c)) for c in cols) + "\n")


if __name__ == "__main__":
    main()
