#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""freescan_check.py - looks for secrets in what freescan.so recorded of freed heap blocks.

usage: freescan_check.py SECRETS_FILE RUNS_FILE...

SECRETS_FILE holds one secret per line, each optionally preceded by a label and a TAB
("management token<TAB>value"). RUNS_FILE is a freescan output (one run of secret characters per
line, "#freescan ..." summary lines). Each recorded run is looked at as it was recorded and
decoded: percent-decoded (once and twice), JSON-unescaped (\\uXXXX, \\/, \\\\), and both in
either order, so any mix of encoded characters is undone. A secret counts as found in a freed
block when one of those texts holds the whole secret or any 24-character piece of it (pieces
start every 8 characters, so any 32 consecutive characters of the secret include one).
Prints one line per secret found (label, how many runs, in which form; never a value) and exits
1 if anything was found, 2 if the module was not active (no summary line, or no frees), else 0.
"""
import re
import sys

PIECE = 24
STRIDE = 8
PCT = re.compile(rb"%([0-9A-Fa-f]{2})")
JSU = re.compile(rb"\\u([0-9A-Fa-f]{4})")


def pct_decode(b):
    return PCT.sub(lambda m: bytes([int(m.group(1), 16)]), b)


def json_unescape(b):
    def one(m):
        v = int(m.group(1), 16)
        return bytes([v]) if v < 0x100 else m.group(0)
    return JSU.sub(one, b).replace(b"\\/", b"/").replace(b"\\\\", b"\\")


def views(run):
    """The run as recorded and decoded in every order that matters, each with its form's name."""
    pd = pct_decode(run)
    ju = json_unescape(run)
    out = [("raw", run), ("percent-decoded", pd), ("percent-decoded twice", pct_decode(pd)),
           ("json-unescaped", ju), ("json-unescaped then percent-decoded", pct_decode(ju)),
           ("percent-decoded then json-unescaped", json_unescape(pd))]
    seen, uniq = set(), []
    for name, text in out:
        if text not in seen:
            seen.add(text)
            uniq.append((name, text))
    return uniq


def pieces(secret):
    """The whole secret and its 24-byte pieces."""
    b = secret.encode()
    n = len(b)
    if n <= PIECE:
        return [b]
    starts = list(range(0, n - PIECE + 1, STRIDE))
    if starts[-1] != n - PIECE:
        starts.append(n - PIECE)
    return [b] + [b[k:k + PIECE] for k in starts]


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
    decoded = [views(r) for r in runs]
    for label, value in secrets:
        needles = pieces(value)
        hit_runs, hit_forms = set(), set()
        for i, forms in enumerate(decoded):
            for name, text in forms:
                if any(nd in text for nd in needles):
                    hit_runs.add(i)
                    hit_forms.add(name)
                    break
        if hit_runs:
            found += 1
            print("FOUND: %s in %d freed run(s), as %s" %
                  (label, len(hit_runs), "; ".join(sorted(hit_forms))))
    print("freescan_check: %d secret(s), %d recorded run(s) from %d frees: %s" %
          (len(secrets), len(runs), frees, "LEAKS FOUND" if found else "clean"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
