#!/usr/bin/env python3
"""Write the address corpora that test the converter (lienthong address convert).

Every line names one unit of the register, so its right answer comes from the
data: an old commune must convert to its successors in mapping-2025.csv, a
commune of today must come back unchanged.  Corpora (CSV, columns
address,expect,honest):

  old-full      "<commune>, <district>, <province>", names as in the register
  old-stripped  the same without diacritics
  old-abbrev    abbreviated the way people write (P./X./TT./Q./H./TX./TP./T.,
                Q1, P.12, HCM, TPHCM, BRVT, Huế...), mixed case, some without
                diacritics, some with a street part in front
  new-full      "<commune>, <province>" for today's communes

expect is "converted CODE" (one successor, kind full), "ambiguous CODE CODE..."
(the old commune was split) or "unchanged CODE".  honest is the answer the
text can support: with diacritics stripped, two communes of one district may
read the same ("Hoằng Phú", "Hoằng Phụ"), and then the honest answer is
"ambiguous" with the successors of both; otherwise honest equals expect.

The random choices use a fixed seed, so the output is the same on every run.

Usage: gen_address_corpus.py [--data DIR] [--out DIR] [--only NAME ...]
"""
import argparse
import csv
import os
import random
import sys
import unicodedata

SEED = 20250701


def strip_marks(s):
    """Vietnamese without diacritics, case kept: "Đội Cấn" -> "Doi Can"."""
    s = s.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def fold(s):
    return " ".join(strip_marks(s).lower().replace("-", " ").replace("'", " ").split())


def read_csv(data, name):
    with open(os.path.join(data, name), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


class Register:
    def __init__(self, data):
        self.old_provinces = {r["code"]: r for r in read_csv(data, "old-provinces.csv")}
        self.old_districts = {r["code"]: r for r in read_csv(data, "old-districts.csv")}
        self.old_communes = read_csv(data, "old-communes.csv")
        self.new_provinces = {r["code"]: r for r in read_csv(data, "provinces-2025.csv")}
        self.new_communes = read_csv(data, "communes-2025.csv")
        self.succ = {}
        for r in read_csv(data, "mapping-2025.csv"):
            if r["old_level"] == "commune":
                self.succ.setdefault(r["old_code"], []).append((r["new_code"], r["kind"]))

    def expect(self, code):
        succ = self.succ[code]
        if len(succ) == 1 and succ[0][1] == "full":
            return "converted " + succ[0][0]
        return "ambiguous " + " ".join(sorted(c for c, _ in succ))

    def stripped_twins(self):
        """Old communes that read the same as another of their district once
        the diacritics are gone (same type, same folded name)."""
        groups = {}
        for r in self.old_communes:
            groups.setdefault((r["district_code"], r["type"], fold(r["short_name"])), []).append(r)
        twins = {}
        for rows in groups.values():
            if len(rows) < 2:
                continue
            codes = sorted({c for r in rows for c, _ in self.succ[r["code"]]})
            for r in rows:
                twins[r["code"]] = codes
        return twins


def honest(reg, code, twins):
    if code not in twins:
        return reg.expect(code)
    codes = twins[code]
    if len(codes) == 1:
        return "converted " + codes[0]
    return "ambiguous " + " ".join(codes)


# ---- abbreviations ----------------------------------------------------------

COMMUNE_PREFIX = {
    "ward": ["Phường ", "P. ", "P.", "P ", "Ph. ", "phường "],
    "commune": ["Xã ", "X. ", "X.", "xã ", "X "],
    "township": ["Thị trấn ", "TT. ", "TT.", "TT ", "Tt. "],
}
DISTRICT_PREFIX = {
    "urban_district": ["Quận ", "Q. ", "Q.", "Q ", "quận "],
    "rural_district": ["Huyện ", "H. ", "H.", "huyện "],
    "town": ["Thị xã ", "TX. ", "TX.", "TX ", "Tx. "],
    "provincial_city": ["Thành phố ", "TP. ", "TP.", "Tp. ", "TP "],
}
PROVINCE_SHORT = {
    "79": ["TP.HCM", "TPHCM", "HCM", "TP. Hồ Chí Minh", "Sài Gòn", "Tp.HCM", "TP HCM"],
    "01": ["HN", "Hà Nội", "TP. Hà Nội", "TP Hà Nội", "Ha Noi"],
    "48": ["ĐN", "Đà Nẵng", "TP. Đà Nẵng", "Da Nang"],
    "77": ["BRVT", "Bà Rịa-Vũng Tàu", "Bà Rịa - Vũng Tàu", "T. Bà Rịa Vũng Tàu"],
    "46": ["Huế", "Thừa Thiên Huế", "TT Huế", "TP. Huế", "Thừa Thiên - Huế"],
    "31": ["Hải Phòng", "TP. Hải Phòng", "HP"],
    "92": ["Cần Thơ", "TP. Cần Thơ", "TP Cần Thơ"],
}
STREETS = [
    "Số 12 Nguyễn Trãi", "Thôn 3", "Tổ 5", "12/34 Lê Lợi", "Ấp Bình Hòa", "Khu phố 2",
    "Số 7 ngõ 15 đường Láng", "Xóm Đình", "Bản Nà Mòn", "KP 4", "123A Trần Phú",
]
ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6", "VII": "7"}


def abbrev_commune(rnd, r):
    short = r["short_name"]
    if r["type"] == "ward" and short.isdigit():
        return rnd.choice(["P" + short, "P." + short, "P. " + short, "Phường " + short,
                           "F" + short, "P " + short, "P.0" + short if len(short) == 1 else "P" + short])
    if r["type"] == "ward" and short in ROMAN:
        return rnd.choice(["Phường " + short, "P." + short, "P. " + short])
    return rnd.choice(COMMUNE_PREFIX[r["type"]]) + short


def abbrev_district(rnd, d):
    short = d["short_name"]
    if d["type"] == "urban_district" and short.isdigit():
        return rnd.choice(["Q" + short, "Q." + short, "Q. " + short, "Quận " + short])
    return rnd.choice(DISTRICT_PREFIX[d["type"]]) + short


def abbrev_province(rnd, p):
    if p["code"] in PROVINCE_SHORT and rnd.random() < 0.7:
        return rnd.choice(PROVINCE_SHORT[p["code"]])
    if p["type"] == "municipality":
        return rnd.choice(["Thành phố ", "TP. ", "TP.", "Tp ", ""]) + p["short_name"]
    return rnd.choice(["Tỉnh ", "T. ", "T.", "tỉnh ", "", ""]) + p["short_name"]


def abbrev_line(rnd, reg, r, twins):
    """The line and the honest answer for it."""
    d = reg.old_districts[r["district_code"]]
    p = reg.old_provinces[r["province_code"]]
    parts = [abbrev_commune(rnd, r), abbrev_district(rnd, d), abbrev_province(rnd, p)]
    if rnd.random() < 0.3:
        parts.insert(0, rnd.choice(STREETS))
    sep = rnd.choice([", ", ", ", ",", " , ", ",  "])
    line = sep.join(parts)
    want = reg.expect(r["code"])
    x = rnd.random()
    if x < 0.25:
        line = strip_marks(line)
        want = honest(reg, r["code"], twins)
    x = rnd.random()
    if x < 0.08:
        line = line.lower()
    elif x < 0.12:
        line = line.upper()
    if rnd.random() < 0.05:
        line = "  " + line + " ,"
    return line, want


# ---- corpora ----------------------------------------------------------------


def corpus_old_full(reg, rnd):
    for r in reg.old_communes:
        d = reg.old_districts[r["district_code"]]
        p = reg.old_provinces[r["province_code"]]
        e = reg.expect(r["code"])
        yield "%s, %s, %s" % (r["name"], d["name"], p["name"]), e, e


def corpus_old_stripped(reg, rnd):
    twins = reg.stripped_twins()
    for r in reg.old_communes:
        d = reg.old_districts[r["district_code"]]
        p = reg.old_provinces[r["province_code"]]
        line = strip_marks("%s, %s, %s" % (r["name"], d["name"], p["name"]))
        yield line, reg.expect(r["code"]), honest(reg, r["code"], twins)


def corpus_old_abbrev(reg, rnd):
    twins = reg.stripped_twins()
    for r in reg.old_communes:
        line, want = abbrev_line(rnd, reg, r, twins)
        yield line, reg.expect(r["code"]), want


def corpus_new_full(reg, rnd):
    for r in reg.new_communes:
        p = reg.new_provinces[r["province_code"]]
        e = "unchanged " + r["code"]
        yield "%s, %s" % (r["name"], p["name"]), e, e


CORPORA = {
    "old-full": corpus_old_full,
    "old-stripped": corpus_old_stripped,
    "old-abbrev": corpus_old_abbrev,
    "new-full": corpus_new_full,
}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(here, "..", "data", "units"))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data", "address"))
    ap.add_argument("--only", nargs="*", choices=sorted(CORPORA), default=sorted(CORPORA))
    args = ap.parse_args()

    reg = Register(args.data)
    os.makedirs(args.out, exist_ok=True)
    for name in args.only:
        rnd = random.Random(SEED)
        path = os.path.join(args.out, name + ".csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["address", "expect", "honest"])
            n = 0
            for row in CORPORA[name](reg, rnd):
                w.writerow(row)
                n += 1
        print("%s: %d lines" % (path, n), file=sys.stderr)


if __name__ == "__main__":
    main()
