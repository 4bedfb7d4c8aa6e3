#!/usr/bin/env python3
"""freescan_check.py - looks for secrets in what freescan.so recorded of freed heap blocks.

usage: freescan_check.py SECRETS_FILE RUNS_FILE...

SECRETS_FILE holds one secret per line, each optionally preceded by a label and a TAB
("management token<TAB>value"). RUNS_FILE is a freescan output (one run of secret characters per
line, "#freescan ..." summary lines). A secret counts as found in a freed block when a run holds:
  - any 24-character piece of it (pieces start every 8 characters, so any 32 consecutive
    characters of the secret always include one), which covers the raw value and every encoding
    that leaves such a stretch alone; or
  - the whole secret in one of its encodings: percent-encoded (reserved characters, or every
    character; upper- or lower-case hex), JSON-escaped ("\\/", or every character as \\u00XX).
Prints one line per finding (label, form and how many runs; never a value) and exits 1 if
anything was found, 2 if the module was not active (no summary line, or no frees), else 0.
"""
import sys

PIECE = 24
STRIDE = 8
UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def pct(s, every, upper):
    fmt = "%%%02X" if upper else "%%%02x"
    return "".join(fmt % ord(c) if every or c not in UNRESERVED else c for c in s)


def forms(secret):
    out = []
    n = len(secret)
    if n <= PIECE:
        out.append(("raw", secret))
    else:
        starts = list(range(0, n - PIECE + 1, STRIDE))
        if starts[-1] != n - PIECE:
            starts.append(n - PIECE)
        for k in starts:
            out.append(("raw[%d:%d]" % (k, k + PIECE), secret[k:k + PIECE]))
    for every in (False, True):
        for upper in (True, False):
            enc = pct(secret, every, upper)
            if enc != secret:
                out.append(("percent-%s-%s" % ("all" if every else "reserved",
                                               "upper" if upper else "lower"), enc))
    js = secret.replace("\\", "\\\\").replace("/", "\\/")
    if js != secret:
        out.append(("json-escaped", js))
    out.append(("json-\\u00XX", "".join("\\u%04x" % ord(c) for c in secret)))
    out.append(("json-\\u00XX-upper", "".join("\\u%04X" % ord(c) for c in secret)))
    return [(name, f.encode()) for name, f in out]


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    secrets = []
    for line in open(sys.argv[1], encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            continue
        label, sep, value = line.partition("\t")
        if not sep:
            label, value = "secret %d" % (len(secrets) + 1), line
        secrets.append((label, value))
    if not secrets:
        print("freescan_check: no secrets to look for")
        return 2
    runs = []
    frees = 0
    active = False
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            for raw in f:
                raw = raw.rstrip(b"\n")
                if raw.startswith(b"#freescan "):
                    active = True
                    for field in raw.split()[1:]:
                        k, _, v = field.partition(b"=")
                        if k == b"frees":
                            frees += int(v)
                    continue
                runs.append(raw)
    if not active or frees == 0:
        print("freescan_check: the scanner was not active (no summary line or no frees)")
        return 2
    found = 0
    for label, value in secrets:
        hit_runs = set()
        hit_forms = []
        for name, needle in forms(value):
            hits = [i for i, r in enumerate(runs) if needle in r]
            if hits:
                hit_runs.update(hits)
                hit_forms.append(name.split("[")[0])
        if hit_runs:
            found += 1
            print("FOUND: %s in %d freed run(s), as %s" %
                  (label, len(hit_runs), ", ".join(sorted(set(hit_forms)))))
    print("freescan_check: %d secret(s), %d recorded run(s) from %d frees: %s" %
          (len(secrets), len(runs), frees, "LEAKS FOUND" if found else "clean"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
