#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_harness_hygiene.sh - secret hygiene of rotp-harness (issue 6 "Secret hygiene"), through
# the real cloudflare.so against cfemu over TLS. Every secret used or created in the run (the
# seed values from cfemu's creds file, and every new value taken from the --out files, the
# --exec sink's stdin and the one --print-secret output) must appear:
#   - in no captured stdout/stderr, with -v -v (provider debug logs) and --json too, on success
#     and on failure, except the stdout of the command that was given --print-secret (where it
#     must appear, and only there);
#   - in no audit or journal line, nor in cfemu's request log;
#   - in no process argv or environment: while cfemu holds a rotate with a delay fault, the
#     harness's /proc/PID/cmdline and /proc/PID/environ and cfemu's are read and searched; the
#     --exec sink's environment is searched too;
# and every --out file (and audit/journal file) is mode 0600.
. "$(dirname "${BASH_SOURCE[0]}")/harness_lib.sh"
hl_init
hl_cfemu_start

V=(--verify-delay-ms 100)
A=(--account "$ACC")
Z=(--zone "$ZONE")
PID_=$CFEMU_TOKEN_PAGES_DEPLOY_ID
CID_=$CFEMU_TOKEN_CI_READONLY_ID
FUT=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)
POL='[{"effect":"allow","permission_groups":[{"id":"c8fed203ed3043cba015a93ad1616f1f","name":"Zone Read"}],"resources":{"com.cloudflare.api.account.zone.'$ZONE'":"*"}}]'
OUTS=()
PROC=$HL_T/proc
mkdir -p "$PROC"

n_seed=$(hl_count_secrets)
hl_check "the creds file gave the seed's secrets to look for (4 API tokens, 3 service tokens)" test "$n_seed" -ge 7

# ---- the operations, verbose, human and --json --------------------------------------------------
hl_run verify-v verify --kind "$KU" "${MG[@]}" --secret-file "$F/pages.0" -v -v
hl_expect_rc 0 "verify -v -v"
HL_STDIN=$F/console.0 hl_run verify-stdin verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-stdin --probe-url "$PROBE_CONSOLE" -v -v --json
hl_expect_rc 0 "verify --secret-stdin (service token, probe)"
HT_SECRET=$(<"$F/ci.0") hl_run verify-env verify --kind "$KA" "${A[@]}" "${MG[@]}" --secret-env HT_SECRET -v -v
hl_expect_rc 0 "verify --secret-env"

hl_run roll-user roll --kind "$KU" --id "$PID_" "${MG[@]}" --out "$F/h.user.1" -v -v --json
hl_expect_rc 0 "roll (user token) -v -v --json"
hl_out_secrets "$F/h.user.1" raw
OUTS+=("$F/h.user.1")

hl_run rotate-user rotate --kind "$KU" --id "$PID_" "${MG[@]}" --secret-file "$F/h.user.1" \
    --secret-name CF_PAGES_DEPLOY --alias LEGACY_PAGES_TOKEN --out "$F/h.user.2" \
    --audit "$F/h.audit" --journal "$F/h.journal" "${V[@]}" -v -v
hl_expect_rc 0 "rotate (user token) -v -v"
hl_out_secrets "$F/h.user.2" dotenv
OUTS+=("$F/h.user.2")

# An existing, world-readable file at the --out path is replaced by a 0600 one (temp + rename).
printf 'old content\n' >"$F/h.acct.1"
chmod 644 "$F/h.acct.1"
hl_run rotate-acct rotate --kind "$KA" "${A[@]}" --id "$CID_" "${MG[@]}" --secret-file "$F/ci.0" \
    --out "$F/h.acct.1" --audit "$F/h.audit" --journal "$F/h.journal" "${V[@]}" -v -v --json
hl_expect_rc 0 "rotate (account token) -v -v --json"
hl_out_secrets "$F/h.acct.1" raw
OUTS+=("$F/h.acct.1")

hl_run rotate-st rotate --kind "$KS" "${A[@]}" --id "$CFEMU_ST_CONSOLE_PROBE_ID" "${MG[@]}" \
    --secret-file "$F/console.0" --probe-url "$PROBE_CONSOLE" --grace 300 --secret-name CF_CONSOLE \
    --out "$F/h.st.1" --audit "$F/h.audit" --journal "$F/h.journal" "${V[@]}" -v -v
hl_expect_rc 0 "rotate (service token, overlap) -v -v"
hl_out_secrets "$F/h.st.1" dotenv
OUTS+=("$F/h.st.1")
hl_run finish-st rotate --finish --kind "$KS" "${A[@]}" --id "$CFEMU_ST_CONSOLE_PROBE_ID" "${MG[@]}" \
    --strategy rotate --secret-file "$F/console.0" --probe-url "$PROBE_CONSOLE" \
    --audit "$F/h.audit" --journal "$F/h.journal" -v -v --json
hl_expect_rc 0 "rotate --finish (service token) -v -v --json"

hl_run rotate-csd rotate --kind "$KS" "${Z[@]}" --id "$CFEMU_ST_EDGE_PROBE_ID" "${MG[@]}" \
    --strategy create-swap-delete --grace 0 --secret-file "$F/edge.0" --probe-url "$PROBE_EDGE" \
    --out "$F/h.zst.1" --audit "$F/h.audit" --journal "$F/h.journal" "${V[@]}" -v -v
hl_expect_rc 0 "rotate (zone service token, create-swap-delete) -v -v"
hl_out_secrets "$F/h.zst.1" dotenv
OUTS+=("$F/h.zst.1")

hl_run prov-user provision --kind "$KU" "${MG[@]}" --name hygiene-user --param "policies=$POL" \
    --param "expires_on=$FUT" --out "$F/h.prov.1" -v -v --json
hl_expect_rc 0 "provision (user token)"
hl_out_secrets "$F/h.prov.1" raw
OUTS+=("$F/h.prov.1")
PROV_ID=$(hl_json_get "$HL_OUT" "d['result']['id']" 2>/dev/null)
hl_run prov-st provision --kind "$KS" "${A[@]}" "${MG[@]}" --name hygiene-st --param duration=1h \
    --secret-name CF_HYGIENE --out "$F/h.prov.2" -v -v
hl_expect_rc 0 "provision (service token)"
hl_out_secrets "$F/h.prov.2" dotenv
OUTS+=("$F/h.prov.2")

hl_run list-v list --kind "$KS" "${A[@]}" "${MG[@]}" -v -v --json
hl_expect_rc 0 "list -v -v --json"
hl_run describe-v describe --kind "$KA" "${A[@]}" --id "$CID_" "${MG[@]}" -v -v
hl_expect_rc 0 "describe -v -v"
hl_run sandbox-v sandbox --kind "$KS" "${A[@]}" "${MG[@]}" --probe-url "$PROBE_VAULT" "${V[@]}" -v -v
hl_expect_rc 0 "sandbox -v -v"

# Failures print errors; the secrets in play must not leak into them either.
hl_run fail-denied rotate --kind "$KU" --id "$PID_" --token-file "$F/readonly.tok" --secret-file "$F/h.user.2" \
    --secret-name CF_PAGES_DEPLOY --out "$F/h.never" -v -v
hl_expect_rc 5 "rotate with READONLY as management: permission denied"
hl_run fail-bogus verify --kind "$KU" "${MG[@]}" --secret-file "$F/pages.0" -v -v --json
hl_expect_rc 3 "verify of a dead value, -v -v --json"
hl_fault "{\"method\":\"PUT\",\"path\":\"/client/v4/user/tokens/$PID_/value\",\"kind\":\"reset_after\",\"count\":1}"
hl_run fail-lost rotate --kind "$KU" --id "$PID_" "${MG[@]}" --secret-file "$F/h.user.2" --secret-name CF_PAGES_DEPLOY \
    --out "$F/h.user.3" --journal "$F/h.journal2" --audit "$F/h.audit" -v -v
hl_expect_rc 8 "rotate with a lost roll answer: outcome unknown"
hl_run fail-lost-resume resume --journal "$F/h.journal2" "${MG[@]}" "${V[@]}" -v -v
hl_expect_rc 0 "resume after the lost answer"
hl_out_secrets "$F/h.user.3" dotenv
OUTS+=("$F/h.user.3")
hl_run fail-exec rotate --kind "$KA" "${A[@]}" --id "$CID_" "${MG[@]}" --secret-file "$F/h.acct.1" \
    --exec 'cat >/dev/null; exit 3' -v -v
hl_expect_rc 9 "rotate with a failing --exec sink"
# (that roll's value was lost with the sink: roll forward once more so the token is usable)
hl_run fail-exec-fix roll --kind "$KA" "${A[@]}" --id "$CID_" "${MG[@]}" --out "$F/h.acct.2"
hl_expect_rc 0 "roll the account token forward"
hl_out_secrets "$F/h.acct.2" raw
OUTS+=("$F/h.acct.2")

# ---- argv and environment, while cfemu holds the harness mid-rotation ---------------------------------
hl_log_reset
hl_fault "{\"method\":\"PUT\",\"path\":\"/client/v4/user/tokens/$PID_/value\",\"kind\":\"delay\",\"delay_ms\":3000,\"count\":1}"
hl_bg held rotate --kind "$KU" --id "$PID_" "${MG[@]}" --secret-file "$F/h.user.3" --secret-name CF_PAGES_DEPLOY \
    --out "$F/h.user.4" --exec "cat >'$F/h.exec.stdin'; env >'$F/h.exec.env'; tr '\\0' ' ' </proc/\$\$/cmdline >'$F/h.exec.cmdline'" \
    --audit "$F/h.audit" --journal "$F/h.journal" "${V[@]}" -v -v
HELD_OUT=$HL_OUT
HELD_ERR=$HL_ERR
if hl_wait_for 20 hl_no_fault_queued; then
    # the harness is now waiting for the roll's answer: it holds the management token and the
    # current secret in memory
    for p in "$HL_BGPID" "$HL_CFEMU_REALPID"; do
        name=harness
        [ "$p" = "$HL_CFEMU_REALPID" ] && name=cfemu
        if tr '\0' '\n' <"/proc/$p/cmdline" >"$PROC/$name.cmdline" 2>/dev/null && [ -s "$PROC/$name.cmdline" ]; then
            hl_pass "read /proc/$p/cmdline ($name)"
        else
            hl_fail "could not read /proc/$p/cmdline ($name)"
        fi
        if tr '\0' '\n' <"/proc/$p/environ" >"$PROC/$name.environ" 2>/dev/null; then
            hl_pass "read /proc/$p/environ ($name)"
        else
            # a non-dumpable process's environ is unreadable without CAP_SYS_PTRACE: that also
            # keeps it from other processes
            hl_say "note: /proc/$p/environ ($name) is not readable here (non-dumpable process)"
            rm -f "$PROC/$name.environ"
        fi
    done
    hl_check "the held harness's argv is the rotate command (the read worked)" grep -qx rotate "$PROC/harness.cmdline"
    hl_check "cfemu's argv was read (its --creds-out is there)" grep -qx -- --creds-out "$PROC/cfemu.cmdline"
else
    hl_fail "the held rotate never reached cfemu"
fi
hl_bg_wait 30
hl_expect_rc 0 "the held rotate finished"
HL_OUT=$HELD_OUT HL_ERR=$HELD_ERR
hl_out_secrets "$F/h.user.4" dotenv
hl_out_secrets "$F/h.exec.stdin" dotenv
OUTS+=("$F/h.user.4")
chmod 600 "$F/h.exec.env" "$F/h.exec.cmdline" 2>/dev/null
hl_check "the --exec sink got the same value as --out" cmp -s "$F/h.user.4" "$F/h.exec.stdin"
hl_check "the --exec sink's environment was captured" grep -q '^ROTP_SECRET_NAME=CF_PAGES_DEPLOY$' "$F/h.exec.env"

# ---- --print-secret: the one place a secret may appear ------------------------------------------------
hl_run print-secret roll --kind "$KU" --id "$PID_" "${MG[@]}" --print-secret
hl_expect_rc 0 "roll --print-secret"
PRINT_OUT=$HL_OUT
PRINT_ERR=$HL_ERR
n_before=$(hl_count_secrets)
"$HL_PY" - "$PRINT_OUT" >>"$HL_T/secrets.lst" <<'EOF'
import re, sys
for tok in re.findall(r"cfut_[A-Za-z0-9_\-]{20,}", open(sys.argv[1]).read()):
    print(tok)
EOF
hl_check "--print-secret put the new value on stdout" test "$(hl_count_secrets)" -gt "$n_before"
"$HL_PY" - "$PRINT_OUT" "$F/h.print" <<'EOF'
import os, re, sys
toks = re.findall(r"cfut_[A-Za-z0-9_\-]{20,}", open(sys.argv[1]).read())
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, ((toks[0] + "\n") if toks else "").encode())
os.close(fd)
EOF
hl_run print-secret-verify verify --kind "$KU" "${MG[@]}" --secret-file "$F/h.print"
hl_expect_rc 0 "the value --print-secret showed is the live one"
hl_no_secrets "--print-secret: nothing on its stderr" "$PRINT_ERR"

# ---- the checks ------------------------------------------------------------------------------------
n_all=$(hl_count_secrets)
hl_check "secrets to look for: the seed's and the $((n_all - n_seed)) created in this run" test "$n_all" -ge $((n_seed + 10))

SCAN=()
for f in "$HL_T"/cap/*; do
    [ "$f" = "$PRINT_OUT" ] && continue
    SCAN+=("$f")
done
hl_no_secrets "no secret in any stdout/stderr (${#SCAN[@]} captures, -v -v included)" "${SCAN[@]}"
hl_no_secrets "no secret in the audit or journal files" "$F"/h.audit "$F"/h.journal "$F"/h.journal2
hl_no_secrets "no secret in cfemu's request log" "$HL_CFEMU_DIR/requests.log"
hl_no_secrets "no secret in the argv of the held harness or of cfemu" "$PROC"/*.cmdline
if ls "$PROC"/*.environ >/dev/null 2>&1; then
    hl_no_secrets "no secret in the environment of the held harness or of cfemu" "$PROC"/*.environ
fi
hl_no_secrets "no secret in the --exec sink's environment or argv" "$F/h.exec.env" "$F/h.exec.cmdline"
hl_check "the audit and journal files are JSON lines" bash -c '
    for f in "$@"; do "'"$HL_PY"'" -c "import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]" "$f" || exit 1; done' _ \
    "$F"/h.audit "$F"/h.journal "$F"/h.journal2

for f in "${OUTS[@]}"; do
    hl_expect_mode600 "$f" "--out $(basename "$f")"
done
for f in "$F"/h.audit "$F"/h.journal "$F"/h.journal2; do
    hl_expect_mode600 "$f" "$(basename "$f")"
done
# The --out files hold what they should (so the scan above looked for the right values).
hl_check "every --out file held a value that was recorded" bash -c '
    for f in "$@"; do grep -qF -f "'"$HL_T/secrets.lst"'" "$f" || exit 1; done' _ "${OUTS[@]}"

# Clean up what this test provisioned.
hl_run cleanup-user revoke --kind "$KU" --id "${PROV_ID:-0123456789abcdef0123456789abcdef}" "${MG[@]}"
hl_done
