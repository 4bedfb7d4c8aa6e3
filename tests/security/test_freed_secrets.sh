#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_freed_secrets.sh - no secret in freed memory (issue 9, README "Security properties").
#
# rotp-harness runs each kind of rotation through the real cloudflare.so against cfemu over TLS
# with freescan.so preloaded: every heap block freed in the process (the provider's, libcurl's,
# OpenSSL's, the C library's, the harness's) is scanned at the moment it is freed, realloc's old
# blocks included. Afterwards freescan_check.py looks in what was recorded for the management
# token, the old secret and the new secret (raw, any 24-character piece, percent-encoded and
# JSON-escaped): none may be there. The rotations: a user token, an account token, a service
# token with strategy rotate (overlap, then --finish) and one with create-swap-delete, each
# with the verification probes and -v -v (so log lines are formatted too); then provision (an API
# token and a service token), list and revoke.
#
# It fails without the provider's wiping transport (dynbuf, http.c) and without the harness's
# wiping allocators for libcurl and OpenSSL (harness/harden.c). Skipped (exit 77) in sanitizer
# builds: ASan owns malloc and free, and a second interposer would fight it.
if [ "${ROTP_SANITIZE:-0}" = 1 ]; then
    echo "SKIP: sanitizer build: freescan.so interposes free(), which ASan owns"
    exit 77
fi
. "$(dirname "${BASH_SOURCE[0]}")/../integration/harness_lib.sh"
hl_init
if [ ! -f "${ROTP_FREESCAN:-}" ] || [ ! -x "${ROTP_FREESCAN_CONTROL:-}" ]; then
    hl_fail "ROTP_FREESCAN / ROTP_FREESCAN_CONTROL do not name the built scanner (run through ctest)"
    hl_done
fi
CHECK=$(dirname "${BASH_SOURCE[0]}")/freescan_check.py

# ---- the positive control: the scanner and the checker find a secret freed unwiped -----------------
CONTROL=made-up-secret-0123456789-abcdefghijklmnop
mkdir -p "$HL_T/scan/control"
printf '%s\n' "$CONTROL" | LD_PRELOAD=$ROTP_FREESCAN ROTP_FREESCAN_DIR=$HL_T/scan/control \
    "$ROTP_FREESCAN_CONTROL"
printf 'control\t%s\n' "$CONTROL" >"$HL_T/control.lst"
"$HL_PY" "$CHECK" "$HL_T/control.lst" "$HL_T"/scan/control/freescan_control.*.runs \
    >"$HL_T/control.out" 2>&1
if grep -q '^FOUND: control in 4 freed run(s), as .*json-unescaped.*percent-decoded\|^FOUND: control in 4 freed run(s), as .*percent-decoded.*json-unescaped' \
    "$HL_T/control.out" && grep -q '^FOUND: control .*raw' "$HL_T/control.out"; then
    hl_pass "positive control: a secret freed unwiped is found in all 4 blocks (raw, %2D, \\u00XX, realloc's old block)"
else
    hl_fail "positive control: the scanner or the checker missed a secret freed unwiped:"
    sed 's/^/    /' "$HL_T/control.out"
fi
hl_cfemu_start
V=(--verify-delay-ms 100)
SCANS=$HL_T/scan
mkdir -p "$SCANS"

# scan_run NAME ARGS...: hl_run with the scanner preloaded, its records in $SCANS/NAME.
scan_run() {
    local name=$1
    shift
    mkdir -p "$SCANS/$name"
    LD_PRELOAD=$ROTP_FREESCAN ROTP_FREESCAN_DIR=$SCANS/$name hl_run "$name" "$@"
}

# check_freed NAME LABEL=FILE...: the secrets (label, then the value read from FILE: a raw value,
# or KEY=VALUE lines whose CF_ACCESS_CLIENT_SECRET is taken) must not be in NAME's records.
check_freed() {
    local name=$1 lst=$HL_T/freed.$1.lst arg label file
    shift
    : >"$lst"
    for arg in "$@"; do
        label=${arg%%=*}
        file=${arg#*=}
        "$HL_PY" - "$label" "$file" >>"$lst" <<'EOF'
import sys
label, path = sys.argv[1], sys.argv[2]
text = open(path).read()
value = None
for line in text.split("\n"):
    if line.startswith("CF_ACCESS_CLIENT_SECRET="):
        value = line.split("=", 1)[1].strip('"')
if value is None:
    value = text.strip("\n")
if value:
    print("%s\t%s" % (label, value))
EOF
    done
    if [ "$(grep -c . "$lst")" != $# ]; then
        hl_fail "$name: could not read all $# secrets to look for"
        return 1
    fi
    if "$HL_PY" "$CHECK" "$lst" "$SCANS/$name"/rotp-harness.*.runs >"$HL_T/freed.$name.out" 2>&1; then
        hl_pass "$name: none of the $# secrets in a freed block ($(tail -n 1 "$HL_T/freed.$name.out"))"
    else
        hl_fail "$name: a secret survived in freed memory (or the scanner was not active):"
        sed 's/^/    /' "$HL_T/freed.$name.out"
    fi
}

# ---- user token ----------------------------------------------------------------------------------
scan_run user rotate --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" \
    --secret-file "$F/pages.0" --out "$F/user.new" "${V[@]}" -v -v
hl_expect_rc 0 "rotate a user token under the scanner"
check_freed user "management token=$F/mgmt.tok" "old secret=$F/pages.0" "new secret=$F/user.new"

# ---- account token -------------------------------------------------------------------------------
scan_run account rotate --kind "$KA" --account "$ACC" --id "$CFEMU_TOKEN_CI_READONLY_ID" "${MG[@]}" \
    --secret-file "$F/ci.0" --out "$F/acct.new" "${V[@]}" -v -v
hl_expect_rc 0 "rotate an account token under the scanner"
check_freed account "management token=$F/mgmt.tok" "old secret=$F/ci.0" "new secret=$F/acct.new"

# ---- service token, strategy rotate: the overlap, then --finish ------------------------------------
scan_run st-rotate rotate --kind "$KS" --account "$ACC" --id "$CFEMU_ST_CONSOLE_PROBE_ID" "${MG[@]}" \
    --secret-file "$F/console.0" --probe-url "$PROBE_CONSOLE" --grace 300 --out "$F/console.new" \
    "${V[@]}" -v -v
hl_expect_rc 0 "rotate a service token (strategy rotate, overlap) under the scanner"
check_freed st-rotate "management token=$F/mgmt.tok" "old client secret=$F/console.0" \
    "new client secret=$F/console.new"
scan_run st-finish rotate --finish --kind "$KS" --account "$ACC" --id "$CFEMU_ST_CONSOLE_PROBE_ID" \
    "${MG[@]}" --strategy rotate --secret-file "$F/console.0" --probe-url "$PROBE_CONSOLE" -v -v
hl_expect_rc 0 "finish the overlap under the scanner"
check_freed st-finish "management token=$F/mgmt.tok" "old client secret=$F/console.0" \
    "new client secret=$F/console.new"

# ---- service token, create-swap-delete -------------------------------------------------------------
scan_run st-csd rotate --kind "$KS" --zone "$ZONE" --id "$CFEMU_ST_EDGE_PROBE_ID" "${MG[@]}" \
    --strategy create-swap-delete --grace 0 --secret-file "$F/edge.0" --probe-url "$PROBE_EDGE" \
    --out "$F/edge.new" "${V[@]}" -v -v
hl_expect_rc 0 "rotate a service token (create-swap-delete) under the scanner"
check_freed st-csd "management token=$F/mgmt.tok" "old client secret=$F/edge.0" \
    "new client secret=$F/edge.new"

# ---- the other operations: provision (both families), list, revoke ---------------------------------
FUT=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)
POL='[{"effect":"allow","permission_groups":[{"id":"c8fed203ed3043cba015a93ad1616f1f","name":"Zone Read"}],"resources":{"com.cloudflare.api.account.zone.'$ZONE'":"*"}}]'
scan_run prov-user provision --kind "$KU" "${MG[@]}" --name freed-user --param "policies=$POL" \
    --param "expires_on=$FUT" --out "$F/prov.user" --json -v -v
hl_expect_rc 0 "provision a user token under the scanner"
PROV_ID=$(hl_json_get "$HL_OUT" "d['result']['id']" 2>/dev/null)
check_freed prov-user "management token=$F/mgmt.tok" "new secret=$F/prov.user"
scan_run prov-st provision --kind "$KS" --account "$ACC" "${MG[@]}" --name freed-st \
    --param duration=1h --out "$F/prov.st" -v -v
hl_expect_rc 0 "provision a service token under the scanner"
check_freed prov-st "management token=$F/mgmt.tok" "new client secret=$F/prov.st"
scan_run list-st list --kind "$KS" --account "$ACC" "${MG[@]}" -v -v
hl_expect_rc 0 "list service tokens under the scanner"
check_freed list-st "management token=$F/mgmt.tok"
scan_run revoke-user revoke --kind "$KU" --id "${PROV_ID:-0123456789abcdef0123456789abcdef}" \
    "${MG[@]}" -v -v
hl_expect_rc 0 "revoke the provisioned user token under the scanner"
check_freed revoke-user "management token=$F/mgmt.tok"

hl_done
