#!/usr/bin/env python3
"""Write N old addresses, one per line, in the mixed spellings people use.

For bench/address.sh: each line names a random old commune of the register
(data/units), written in full, without diacritics, or abbreviated (P., Q1,
TP.HCM...), and about half of the lines start with a street part.  The
spellings come from tools/gen_address_corpus.py; the seed is fixed, so the
same N gives the same file.

Usage: gen_addresses.py N > FILE
"""
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.dont_write_bytecode = True  # leave no __pycache__ in tools/

import gen_address_corpus as g  # noqa: E402

SEED = 1000003


def line(rnd, reg, r, twins):
    kind = rnd.random()
    if kind < 0.5:
        text, _ = g.abbrev_line(rnd, reg, r, twins)
        return text
    d = reg.old_districts[r["district_code"]]
    p = reg.old_provinces[r["province_code"]]
    text = "%s, %s, %s" % (r["name"], d["name"], p["name"])
    if rnd.random() < 0.5:
        text = rnd.choice(g.STREETS) + ", " + text
    if kind < 0.75:
        text = g.strip_marks(text)
    return text


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    reg = g.Register(os.path.join(HERE, "..", "data", "units"))
    twins = reg.stripped_twins()
    rnd = random.Random(SEED)
    out = sys.stdout
    communes = reg.old_communes
    for _ in range(n):
        out.write(line(rnd, reg, rnd.choice(communes), twins))
        out.write("\n")


if __name__ == "__main__":
    main()
