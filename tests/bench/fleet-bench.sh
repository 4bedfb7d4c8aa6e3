#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fleet-bench.sh - the fleet benchmark (issue 12.4, 12.6; tests/bench/README.md). Run by hand,
# not by ctest: it measures, it does not judge.
#
# On cfemu over TLS (its own throwaway CA, loopback only), side by side in one run:
#   A: N account-token rotations as N `rotp-harness rotate` processes, one after the other;
#   B: the same N rotations as ONE `rotp-harness apply --all --inventory FILE`;
# each with the requests, connections, TLS handshakes (full / resumed) and 429s counted by cfemu
# (GET /__cfemu/stats, zeroed with DELETE before each side), and the wall time.
# Then, unless RL=0, the rate-limit demo: for each limit in RL_SPEC (default "200/10 100/10"), a
# fresh cfemu with --rate-limit LIMIT, `apply --all` on the same N tokens: the 429s (goal: none)
# and the wall time against the least that the limit allows for the requests the busiest token
# made: (ceil(requests / L) - 1) full windows of W seconds waited out, plus the requests of the
# last window at the unlimited speed (the median `apply` of B, pro rata).
#
# usage: tests/bench/fleet-bench.sh [BUILD_DIR]     (default: build)
# environment: N (default 100), REPEAT (default 3: A and B run in turn, the medians and the
#              median of the pairwise ratios are printed), RL=0 to skip the rate-limit demo,
#              RL_SPEC (default "200/10 100/10"), KEEP=1 to keep the work directory.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
B=$(cd "${1:-$SRC/build}" && pwd)
H=$B/bin/rotp-harness
CFEMU=$B/bin/cfemu
PLUGIN=$B/bin/cloudflare.so
N=${N:-100}
RL=${RL:-1}
RL_SPEC=${RL_SPEC:-200/10 100/10}
REPEAT=${REPEAT:-3}
PY=/usr/bin/python3
for f in "$H" "$CFEMU" "$PLUGIN"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "fleet-bench: $f is missing: build first" >&2; exit 2; }
done

umask 077
W=$(mktemp -d "${TMPDIR:-/tmp}/fleet-bench.XXXXXX")
CFEMU_PID=""
cleanup() {
    if [ -n "$CFEMU_PID" ]; then kill -TERM "$CFEMU_PID" 2>/dev/null || true; wait "$CFEMU_PID" 2>/dev/null || true; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "kept: $W"; else rm -rf -- "$W"; fi
}
trap cleanup EXIT

# start_cfemu TAG [cfemu args]: a fresh cfemu with the fleet seed; sets ORIGIN, API, CA, D.
start_cfemu() {
    D=$W/$1
    shift
    mkdir -p "$D/files"
    "$PY" "$SRC/tests/integration/fleet_seed.py" "$N" >"$D/seed.json"
    "$CFEMU" --listen 127.0.0.1:0 --seed "$D/seed.json" --port-file "$D/port" --ca-out "$D/ca.pem" \
        --creds-out "$D/creds.env" "$@" </dev/null >"$D/cfemu.out" 2>"$D/cfemu.err" &
    CFEMU_PID=$!
    for _ in $(seq 100); do [ -s "$D/port" ] && [ -s "$D/creds.env" ] && break; sleep 0.1; done
    sleep 0.1
    ORIGIN="https://127.0.0.1:$(tr -dc 0-9 <"$D/port")"
    API=$ORIGIN/client/v4
    CA=$D/ca.pem
    COMMON=(--plugin "$PLUGIN" --api-base "$API" --ca-file "$CA" --verify-delay-ms 100)
    # the management token and one secret file per fleet token (0600), and the inventory
    "$PY" - "$D" "$N" <<'EOF'
import json, os, sys
d, n = sys.argv[1], int(sys.argv[2])
creds = {}
for line in open(os.path.join(d, "creds.env")):
    k, _, v = line.rstrip("\n").partition("=")
    creds[k] = v.strip('"')
def put(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, text.encode())
    os.close(fd)
put(os.path.join(d, "mgmt.tok"), creds["CFEMU_TOKEN_MGMT_VALUE"] + "\n")
ents = []
with open(os.path.join(d, "ids"), "w") as ids:
    for i in range(1, n + 1):
        k = "FLEET_%03d" % i
        put(os.path.join(d, "files", k + ".env"), creds["CFEMU_TOKEN_%s_VALUE" % k] + "\n")
        ids.write("%s %s\n" % (k, creds["CFEMU_TOKEN_%s_ID" % k]))
        f = os.path.join(d, "files", k + ".env")
        ents.append({"name": k, "kind": "cloudflare.account_token",
                     "id": creds["CFEMU_TOKEN_%s_ID" % k], "secret_file": f, "out": f})
inv = {"version": 1, "defaults": {"account_id": creds["CFEMU_ACCOUNT_ID"]}, "credentials": ents}
json.dump(inv, open(os.path.join(d, "fleet.json"), "w"), indent=1)
open(os.path.join(d, "account"), "w").write(creds["CFEMU_ACCOUNT_ID"])
EOF
}

stop_cfemu() {
    kill -TERM "$CFEMU_PID" 2>/dev/null || true
    wait "$CFEMU_PID" 2>/dev/null || true
    CFEMU_PID=""
}

ctl() { curl -sS --max-time 10 --cacert "$CA" -X "$1" "$ORIGIN$2"; }

ms_now() { date +%s%3N; }

# stats FILE: cfemu's counters into FILE (the envelope's result)
stats() { ctl GET /__cfemu/stats | "$PY" -c 'import json,sys; json.dump(json.load(sys.stdin)["result"], sys.stdout)' >"$1"; }

# ---- A and B, in turn, REPEAT times (pairs keep the ratio fair on a busy machine) ---------------
start_cfemu main
ACC=$(cat "$D/account")
: >"$D/pairs"
for r in $(seq "$REPEAT"); do
    ctl DELETE /__cfemu/stats >/dev/null
    t0=$(ms_now)
    fails=0
    while read -r name id; do
        f=$D/files/$name.env
        "$H" rotate --kind cloudflare.account_token --id "$id" --account "$ACC" --token-file "$D/mgmt.tok" \
            --secret-file "$f" --out "$f" --secret-name "$name" "${COMMON[@]}" >/dev/null 2>>"$D/rotate.err" ||
            fails=$((fails + 1))
    done <"$D/ids"
    t1=$(ms_now)
    stats "$D/stats-rotate.json"
    rot_ms=$((t1 - t0))
    echo "$rot_ms $fails" >"$D/time-rotate"

    ctl DELETE /__cfemu/stats >/dev/null
    t0=$(ms_now)
    "$H" apply --all --inventory "$D/fleet.json" --token-file "$D/mgmt.tok" "${COMMON[@]}" --json \
        >"$D/apply.json" 2>"$D/apply.err" || true
    t2=$(ms_now)
    stats "$D/stats-apply.json"
    echo "$((t2 - t0))" >"$D/time-apply"
    echo "$r $rot_ms $((t2 - t0))" >>"$D/pairs"
done
stop_cfemu
MAIN=$D

# ---- rate-limit demo: one fresh cfemu per limit --------------------------------------------------
RLDS=()
if [ "$RL" != 0 ]; then
    for spec in $RL_SPEC; do
        start_cfemu "ratelimit-${spec/\//-}" --rate-limit "$spec"
        ctl DELETE /__cfemu/stats >/dev/null
        t0=$(ms_now)
        "$H" apply --all --inventory "$D/fleet.json" --token-file "$D/mgmt.tok" "${COMMON[@]}" --json \
            >"$D/apply.json" 2>"$D/apply.err" || true
        t1=$(ms_now)
        stats "$D/stats-apply.json"
        echo "$((t1 - t0))" >"$D/time-apply"
        echo "$spec" >"$D/spec"
        stop_cfemu
        RLDS+=("$D")
    done
fi

"$PY" - "$MAIN" "$N" "${RLDS[@]}" <<'EOF'
import json, math, os, sys
main, n, rlds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def load(d, side):
    s = json.load(open(os.path.join(d, "stats-%s.json" % side)))
    t = open(os.path.join(d, "time-%s" % side)).read().split()
    return s, int(t[0])
def apply_ok(d):
    try:
        a = json.load(open(os.path.join(d, "apply.json")))
        return a.get("rotated", 0), a.get("failed", -1)
    except Exception:
        return 0, -1
sr, tr = load(main, "rotate")
sa, ta = load(main, "apply")
pairs = [l.split() for l in open(os.path.join(main, "pairs")) if l.strip()]
rts = sorted(int(p[1]) for p in pairs)
ats = sorted(int(p[2]) for p in pairs)
ratios = sorted(int(p[1]) / max(int(p[2]), 1) for p in pairs)
med = lambda v: v[len(v) // 2]
tr, ta = med(rts), med(ats)
rot_fails = int(open(os.path.join(main, "time-rotate")).read().split()[1])
ok, failed = apply_ok(main)
def row(label, s, t, rotated):
    hs = s["tls_handshakes"]
    print("%-22s %8d ms %6d req %6.2f req/rot %5d conn %4d full %4d resumed %4d 429s  %d/%d rotated"
          % (label, t, s["requests"], s["requests"] / max(n, 1), s["connections"], hs["full"],
             hs["resumed"], s["rate_limited"], rotated, n))
print("fleet-bench: %d account tokens on cfemu (TLS), side by side, %d pairs (median; "
      "rotate %s ms, apply %s ms)" % (n, len(pairs), rts, ats))
row("%d rotate processes" % n, sr, tr, n - rot_fails)
row("1 apply --all", sa, ta, ok)
if ok != n:
    print("WARNING: apply rotated %d of %d (see %s/apply.err): the comparison is void" % (ok, n, main))
print("speed-up: %.1fx, median of the pairwise ratios %s (goal >= 4x); requests per rotation "
      "in apply: %.2f (goal <= 5)" % (med(ratios), ["%.1f" % x for x in ratios],
                                       sa["requests"] / max(n, 1)))
for rld in rlds:
    spec = open(os.path.join(rld, "spec")).read().strip()
    s, t = load(rld, "apply")
    ok, failed = apply_ok(rld)
    lim, win = (int(x) for x in spec.split("/"))
    busiest = max((v["requests"] for k, v in s["by_token"].items()), default=0)
    # The least the limit allows: the busiest token's full windows waited out, plus the work of
    # its last window at the unlimited speed (the median apply above, scaled by the share of
    # the requests that fall into that last window).
    full = max(0, math.ceil(busiest / lim) - 1)
    least = full * win * 1000 + ta * (busiest - full * lim) / max(busiest, 1)
    print("rate limit %s: apply --all %d ms, %d requests (busiest token %d), %d 429s, %d/%d "
          "rotated; least the limit allows %d ms (%d full window%s + the rest at the unlimited "
          "speed): %+.1f%% (goal: within 15%%)"
          % (spec, t, s["requests"], busiest, s["rate_limited"], ok, n, least, full,
             "" if full == 1 else "s", 100.0 * (t - least) / max(least, 1)))
EOF
