#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_harness_demo.sh - `rotp-harness demo`, the README's main job (issue 6 "demo"): run exactly
# as the README's first command does (build/bin/rotp-harness demo: cloudflare.so and cfemu taken
# from beside the executable, no network, no credentials), it exits 0 with a PASS report; the
# --json form parses and every step passed; the rotations and sandboxes the issue names are in the
# report; its cfemu is stopped and its temporary directories are removed.
. "$(dirname "${BASH_SOURCE[0]}")/harness_lib.sh"
hl_init

BIN=$(dirname "$ROTP_HARNESS")
hl_check "cloudflare.so and cfemu are beside rotp-harness (as the README assumes)" \
    test -f "$BIN/cloudflare.so" -a -x "$BIN/cfemu"
hl_check "the README's first command runs the demo" grep -q 'rotp-harness demo' "$ROTP_SOURCE_DIR/README.md"

# Run from a directory of our own, with no credentials in the environment.
run_demo() { # NAME ARGS...
    local name=$1
    shift
    HL_NCAP=$((HL_NCAP + 1))
    HL_OUT=$(printf '%s/cap/%03d-%s.out' "$HL_T" "$HL_NCAP" "$name")
    HL_ERR=${HL_OUT%.out}.err
    (cd "$HL_T" && exec env -u CF_ACCESS_MGMT -u CLOUDFLARE_ACCESS_MGMT_TOKEN -u CLOUDFLARE_API_TOKEN \
        -u CF_API_BASE -u CF_ACCOUNT_ID -u CLOUDFLARE_ACCOUNT_ID \
        timeout -k 5 120 "$ROTP_HARNESS" demo "$@" </dev/null >"$HL_OUT" 2>"$HL_ERR")
    HL_RC=$?
}

# gone DESC FILE: the demo's work dir and the sandboxes' dirs named in FILE no longer exist, and
# the cfemu pid it names is not running.
gone() {
    local d left="" n=0 pid
    for d in $(grep -oE '/[^ ,]*rotp-(demo|sandbox)-[A-Za-z0-9]+' "$2" | sort -u); do
        n=$((n + 1))
        [ -e "$d" ] && left="$left $d"
    done
    if [ "$n" -gt 0 ] && [ -z "$left" ]; then hl_pass "$1: $n temporary directories named, all removed"
    else hl_fail "$1: directories named: $n, left behind:${left:- none}"; fi
    pid=$(grep -oE 'cfemu:.*\(pid [0-9]+' "$2" | grep -oE '[0-9]+$' | head -n1)
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then hl_pass "$1: the demo's cfemu (pid $pid) is stopped"
    elif [ -z "$pid" ]; then hl_say "note: the demo report names no cfemu pid"
    else hl_fail "$1: the demo's cfemu (pid $pid) is still running"; kill -TERM "$pid" 2>/dev/null; fi
}

run_demo human
hl_expect_rc 0 "rotp-harness demo"
hl_check "the report ends with a PASS verdict" grep -qE '^demo: PASS' "$HL_OUT"
hl_check "no step FAILed" bash -c '! grep -qE "^\s*FAIL\b|: FAIL$" "$1"' _ "$HL_OUT"
hl_check "it rotated the user token, the account token and both service-token strategies" \
    bash -c 'grep -qi "user token" "$1" && grep -qi "account token" "$1" && grep -qi "CONSOLE_PROBE" "$1" && grep -qi "VAULT_PROBE" "$1" && grep -qi "create-swap-delete" "$1"' _ "$HL_OUT"
hl_check "it ran sandbox for every kind" \
    bash -c 'for k in user_token account_token access_service_token; do grep -q "sandbox.*$k" "$1" || exit 1; done' _ "$HL_OUT"
hl_check "the demo writes nothing alarming to stderr" bash -c '! grep -qiE "error|fail|leak|sanitizer" "$1"' _ "$HL_ERR"
gone "demo" "$HL_OUT"

run_demo json --json
hl_expect_rc 0 "rotp-harness demo --json"
hl_json_check "$HL_OUT" "demo --json: one object, ok, every step PASS" \
    "d['command']=='demo' and d['ok'] is True and steps_ok(d, ('PASS',)) and len(d['steps'])>=20"

hl_done
