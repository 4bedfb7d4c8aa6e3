#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_harness_resume.sh - a rotation killed (kill -9) or cut off at each step, then
# `rotp-harness resume --journal FILE` (issue 6 "Audit and journal", docs/rotp-harness.md
# "Journal file"), through the real cloudflare.so against cfemu over TLS. cfemu delay faults hold
# the harness at a step: the test waits until cfemu has taken the matching request (the fault
# leaves the queue), kills the harness, waits until cfemu has finished the held request (so a held
# roll really takes effect with nobody reading the answer), then resumes. Each time the
# credential must end in a working state and the sink must hold a value that verifies.
#   no journal:    a journal that was never written (or in a missing directory) is nothing to
#                  resume (exit 0); a directory or a corrupt journal is an error;
#   user token:    killed in the pre-check; killed with the roll in flight; the roll's answer
#                  lost (reset after apply, exit 8); killed while delivering (the --exec sink
#                  kills it); killed while verifying the delivered value (resume verifies the
#                  --out file without rolling again);
#   account token: killed with the roll in flight;
#   service token: rotate strategy killed with the rotate call in flight; `rotate --finish`
#                  killed with the overlap-ending update in flight; create-swap-delete --grace 0
#                  killed with the delete in flight; a zone-level create whose answer is lost
#                  (resume removes the orphan by its run-id name and creates again).
. "$(dirname "${BASH_SOURCE[0]}")/harness_lib.sh"
hl_init
hl_cfemu_start

V=(--verify-delay-ms 100)
A=(--account "$ACC")
Z=(--zone "$ZONE")
PID_=$CFEMU_TOKEN_PAGES_DEPLOY_ID
CID_=$CFEMU_TOKEN_CI_READONLY_ID
CON=$CFEMU_ST_CONSOLE_PROBE_ID
VAU=$CFEMU_ST_VAULT_PROBE_ID
EDG=$CFEMU_ST_EDGE_PROBE_ID
U=(--kind "$KU" --id "$PID_")
DELAY=2000

# delay_answered METHOD GLOB N: cfemu's log shows N answered requests that matched METHOD GLOB
# under a delay fault (the held request finished, its answer went into a closed connection).
delay_answered() {
    hl_ctl GET /__cfemu/log >"$HL_T/dl.json" 2>/dev/null &&
        "$HL_PY" - "$HL_T/dl.json" "$1" "$2" "$3" <<'PYEOF'
import fnmatch, json, sys
log = json.load(open(sys.argv[1]))["result"]
n = sum(1 for e in log if e.get("fault") == "delay" and e["method"] == sys.argv[2]
        and fnmatch.fnmatchcase(e["path"], sys.argv[3]))
sys.exit(0 if n >= int(sys.argv[4]) else 1)
PYEOF
}

# hold_and_kill TAG METHOD PATH ARGS...: queues a delay fault for METHOD PATH (after SKIP
# pass-through 1 ms delay faults on the same route, for requests that come before the one to
# hold), starts rotp-harness ARGS in the background, waits until cfemu holds the request, kills
# the harness with SIGKILL, then waits until cfemu has answered the held request.
SKIP=0
hold_and_kill() {
    local tag=$1 method=$2 path=$3 i
    shift 3
    hl_log_reset
    for ((i = 0; i < SKIP; i++)); do
        hl_fault "{\"method\":\"$method\",\"path\":\"$path\",\"kind\":\"delay\",\"delay_ms\":1,\"count\":1}" || return 1
    done
    hl_fault "{\"method\":\"$method\",\"path\":\"$path\",\"kind\":\"delay\",\"delay_ms\":$DELAY,\"count\":1}" || return 1
    hl_bg "$tag" "$@"
    if ! hl_wait_for 20 hl_no_fault_queued; then
        hl_fail "$tag: the harness never reached the held request"
        hl_faults_clear
        hl_bg_wait 1
        hl_show_last
        return 1
    fi
    hl_bg_kill
    if [ "$HL_RC" = 137 ]; then
        hl_pass "$tag: harness killed while cfemu held $method $path"
    else
        hl_fail "$tag: the harness ended by itself (exit $HL_RC) before the kill"
        hl_show_last
    fi
    if ! hl_wait_for 15 delay_answered "$method" "$path" $((SKIP + 1)); then
        hl_fail "$tag: cfemu never finished the held request"
    fi
    SKIP=0
}

# verify_ok TAG DESC FILE [verify args]: the secret in FILE verifies (exit 0).
verify_rc() {
    local want=$1 tag=$2 desc=$3 file=$4
    shift 4
    hl_run "$tag-verify" verify "${MG[@]}" --secret-file "$file" "$@"
    hl_expect_rc "$want" "$tag: $desc"
}

journal_end() { # TAG JOURNAL STATUS
    hl_json_lines_check "$2" "$1: the journal's last run ended '$3'" "[o for o in L if o['type']=='end'][-1]['status']=='$3' and L[-1]['type']=='end'"
}

CUR=$F/pages.0

# ---- resume with nothing to do ------------------------------------------------------------------
hl_run s0-rotate rotate "${U[@]}" "${MG[@]}" --secret-file "$CUR" --out "$F/s0.out" --journal "$F/s0.journal" "${V[@]}"
hl_expect_rc 0 "S0: a complete rotation"
hl_out_secrets "$F/s0.out" raw
CUR=$F/s0.out
hl_run s0-resume resume --journal "$F/s0.journal" "${MG[@]}" --json
hl_expect_rc 0 "S0: resume of a finished journal"
hl_json_check "$HL_OUT" "S0: resume says there is nothing unfinished" "d['ok'] and d.get('resumed') is False"
verify_rc 0 s0 "the value is unchanged by a no-op resume" "$CUR" --kind "$KU"

# ---- resume of a journal that was never written (a run stopped before its pre-checks passed) ---------
# rotate creates the journal with its first record, after the pre-checks: no file, no change.
hl_log_reset
hl_run s0m-resume resume --journal "$F/never.journal" "${MG[@]}"
hl_expect_rc 0 "S0m: resume of a journal that does not exist"
hl_check "S0m: it says there is nothing to resume" \
    grep -qF "no unfinished run in $F/never.journal: nothing to resume" "$HL_OUT"
hl_check "S0m: resume did not create the journal" test ! -e "$F/never.journal"
log_check "S0m: resume sent nothing to the API" "len(L)==0"
hl_run s0m-resume-json resume --journal "$F/never.journal" "${MG[@]}" --json
hl_expect_rc 0 "S0m: --json resume of a journal that does not exist"
hl_json_check "$HL_OUT" "S0m: --json says nothing was resumed and no journal exists" \
    "d['ok'] and d.get('resumed') is False and d.get('journal_exists') is False"
hl_run s0m-resume-nodir resume --journal "$F/no-such-dir/x.journal" "${MG[@]}"
hl_expect_rc 0 "S0m: resume of a journal in a directory that does not exist"
hl_check "S0m: it says there is nothing to resume (missing directory)" \
    grep -qF "nothing to resume" "$HL_OUT"
mkdir -p "$F/journal.d"
hl_run s0m-resume-dir resume --journal "$F/journal.d" "${MG[@]}"
hl_expect_rc 2 "S0m: a directory given as the journal is an error"
printf '%s\n' 'not json' '{"run_id":"0123456789abcdef","type":"run","command":"rotate"}' >"$F/corrupt.journal"
hl_run s0m-resume-corrupt resume --journal "$F/corrupt.journal" "${MG[@]}"
hl_expect_rc 1 "S0m: a corrupt journal is an error"

# ---- S1: killed in the pre-check (describe held) ------------------------------------------------
hold_and_kill S1 GET "/client/v4/user/tokens/$PID_" \
    rotate "${U[@]}" "${MG[@]}" --secret-file "$CUR" --out "$F/s1.out" --journal "$F/s1.journal" "${V[@]}"
log_check "S1: nothing was rolled before the kill" "count('PUT','.')==0"
if [ ! -e "$F/s1.journal" ]; then
    hl_say "note: S1: no journal was written before the kill (the run record comes after the pre-check)"
fi
S1_JOURNAL=$([ -e "$F/s1.journal" ] && echo yes)
hl_run s1-resume resume --journal "$F/s1.journal" "${MG[@]}" --secret-file "$CUR" "${V[@]}"
hl_expect_rc 0 "S1: resume"
if [ -z "$S1_JOURNAL" ]; then
    hl_check "S1: resume says there is nothing to resume" grep -qF "nothing to resume" "$HL_OUT"
fi
if [ -f "$F/s1.out" ]; then
    hl_out_secrets "$F/s1.out" raw
    hl_expect_mode600 "$F/s1.out" "S1: the sink"
    verify_rc 0 s1 "the sink's value verifies after resume" "$F/s1.out" --kind "$KU"
    verify_rc 3 s1-old "the pre-rotation value is dead" "$CUR" --kind "$KU"
    CUR=$F/s1.out
else
    verify_rc 0 s1 "nothing changed: the current value still verifies" "$CUR" --kind "$KU"
fi

# ---- S2: killed with the roll in flight ----------------------------------------------------------
hold_and_kill S2 PUT "/client/v4/user/tokens/$PID_/value" \
    rotate "${U[@]}" "${MG[@]}" --secret-file "$CUR" --out "$F/s2.out" --journal "$F/s2.journal" "${V[@]}"
hl_json_lines_check "$F/s2.journal" "S2: the journal has the roll intent and no outcome" \
    "any(o['type']=='intent' and o['op']=='roll' for o in L) and not any(o['type'] in ('outcome','end') for o in L)"
verify_rc 3 s2-old "the held roll took effect: the old value is dead" "$CUR" --kind "$KU"
hl_check "S2: no sink was written before the kill" test ! -e "$F/s2.out"
hl_log_reset
hl_run s2-resume resume --journal "$F/s2.journal" "${MG[@]}" --secret-file "$CUR" "${V[@]}" --json
hl_expect_rc 0 "S2: resume"
hl_json_check "$HL_OUT" "S2: resume passed every step" "d['ok'] and steps_ok(d)"
log_check "S2: resume rolled again (once)" "count('PUT', r'/value\$')==1"
hl_out_secrets "$F/s2.out" raw
hl_expect_mode600 "$F/s2.out" "S2: the sink"
verify_rc 0 s2 "the sink's value verifies after resume" "$F/s2.out" --kind "$KU"
journal_end S2 "$F/s2.journal" completed
CUR=$F/s2.out

# ---- S3: the roll's answer lost (applied, then the connection reset) -------------------------------
hl_fault "{\"method\":\"PUT\",\"path\":\"/client/v4/user/tokens/$PID_/value\",\"kind\":\"reset_after\",\"count\":1}"
hl_run s3-rotate rotate "${U[@]}" "${MG[@]}" --secret-file "$CUR" --out "$F/s3.out" --journal "$F/s3.journal" "${V[@]}" --json
hl_expect_rc 8 "S3: a lost roll answer is outcome unknown"
hl_json_check "$HL_OUT" "S3: --json names OUTCOME_UNKNOWN" "d['ok'] is False and d['exit_code']==8"
hl_json_lines_check "$F/s3.journal" "S3: the journal records the unknown outcome and leaves the run open" \
    "any(o['type']=='outcome' and o['op']=='roll' and o['status']=='unknown' for o in L) and not any(o['type']=='end' and o['status']=='completed' for o in L)"
hl_run s3-resume resume --journal "$F/s3.journal" "${MG[@]}" --secret-file "$CUR" "${V[@]}"
hl_expect_rc 0 "S3: resume"
hl_out_secrets "$F/s3.out" raw
verify_rc 0 s3 "the sink's value verifies after resume" "$F/s3.out" --kind "$KU"
verify_rc 3 s3-old "the value before the rotation is dead" "$CUR" --kind "$KU"
journal_end S3 "$F/s3.journal" completed
CUR=$F/s3.out

# ---- S4: killed while delivering (the --exec sink kills the harness) -------------------------------
hl_run s4-rotate rotate "${U[@]}" "${MG[@]}" --secret-file "$CUR" --secret-name CF_PAGES_DEPLOY \
    --out "$F/s4.out" --exec 'cat >/dev/null; kill -9 $PPID; sleep 2' --journal "$F/s4.journal" "${V[@]}"
hl_expect_rc 137 "S4: the harness was killed during delivery"
hl_out_secrets "$F/s4.out" dotenv
hl_json_lines_check "$F/s4.journal" "S4: roll outcome ok, not delivered" \
    "any(o['type']=='outcome' and o['op']=='roll' and o['status']=='ok' for o in L) and not any(o['type']=='mark' and o['step']=='delivered' for o in L)"
hl_run s4-resume resume --journal "$F/s4.journal" "${MG[@]}" --secret-file "$CUR" --out "$F/s4.out" "${V[@]}"
hl_expect_rc 0 "S4: resume (sink given again: --out only)"
hl_out_secrets "$F/s4.out" dotenv
hl_expect_mode600 "$F/s4.out" "S4: the sink"
verify_rc 0 s4 "the sink's value verifies after resume" "$F/s4.out" --kind "$KU" --secret-name CF_PAGES_DEPLOY
journal_end S4 "$F/s4.journal" completed
hl_check "S4: the sink keeps the journal's --secret-name and companions" \
    bash -c 'grep -q "^CF_PAGES_DEPLOY=cfut_" "$1" && grep -qx "CF_PAGES_DEPLOY__TOKEN_ID=$2" "$1"' _ "$F/s4.out" "$PID_"

# ---- S5: killed while verifying the delivered value --------------------------------------------------
# The adapter's first GET .../tokens/verify learns the management token's own id (self-roll
# guard); a 1 ms delay fault lets that one through, the next one holds the new value's check.
SKIP=1
hold_and_kill S5 GET "/client/v4/user/tokens/verify" \
    rotate "${U[@]}" "${MG[@]}" --secret-name CF_PAGES_DEPLOY --out "$F/s5.out" --journal "$F/s5.journal" "${V[@]}"
hl_out_secrets "$F/s5.out" dotenv
hl_json_lines_check "$F/s5.journal" "S5: delivered, not verified" \
    "any(o['type']=='mark' and o['step']=='delivered' for o in L) and not any(o['type']=='mark' and o['step']=='verified' for o in L)"
hl_log_reset
hl_run s5-resume resume --journal "$F/s5.journal" "${MG[@]}" "${V[@]}"
hl_expect_rc 0 "S5: resume"
log_check "S5: resume verified the delivered value without rolling again" "count('PUT','.')==0 and count('GET', r'/user/tokens/verify\$')>=1"
verify_rc 0 s5 "the sink's value verifies after resume" "$F/s5.out" --kind "$KU" --secret-name CF_PAGES_DEPLOY
verify_rc 3 s5-old "the S4 value is dead" "$F/s4.out" --kind "$KU" --secret-name CF_PAGES_DEPLOY
journal_end S5 "$F/s5.journal" completed

# ---- S5b: killed while confirming that the old value is dead (after the new one verified) ------------
# GET .../tokens/verify runs for: the current value (pre-check), the management token's own id
# (self-roll guard), the new value, then the old value: let three through, hold the fourth.
SKIP=3
hold_and_kill S5b GET "/client/v4/user/tokens/verify" \
    rotate "${U[@]}" "${MG[@]}" --secret-file "$F/s5.out" --secret-name CF_PAGES_DEPLOY --out "$F/s5b.out" \
    --journal "$F/s5b.journal" "${V[@]}"
hl_out_secrets "$F/s5b.out" dotenv
hl_json_lines_check "$F/s5b.journal" "S5b: verified, the old value not yet confirmed dead, no end" \
    "any(o['type']=='mark' and o['step']=='verified' for o in L) and not any(o['type']=='mark' and o['step']=='old_dead' for o in L) and not any(o['type']=='end' for o in L)"
hl_log_reset
hl_run s5b-resume resume --journal "$F/s5b.journal" "${MG[@]}" --secret-file "$F/s5.out" "${V[@]}" --json
hl_expect_rc 0 "S5b: resume"
log_check "S5b: resume confirmed the old value dead without rolling again" "count('PUT','.')==0"
verify_rc 0 s5b "the sink's value verifies after resume" "$F/s5b.out" --kind "$KU" --secret-name CF_PAGES_DEPLOY
verify_rc 3 s5b-old "the old value is dead" "$F/s5.out" --kind "$KU" --secret-name CF_PAGES_DEPLOY
journal_end S5b "$F/s5b.journal" completed

# ---- S6: account token, killed with the roll in flight --------------------------------------------
hold_and_kill S6 PUT "/client/v4/accounts/$ACC/tokens/$CID_/value" \
    rotate --kind "$KA" "${A[@]}" --id "$CID_" "${MG[@]}" --secret-file "$F/ci.0" --out "$F/s6.out" --journal "$F/s6.journal" "${V[@]}"
hl_run s6-resume resume --journal "$F/s6.journal" "${MG[@]}" --secret-file "$F/ci.0" "${V[@]}"
hl_expect_rc 0 "S6: resume (account token)"
hl_out_secrets "$F/s6.out" raw
verify_rc 0 s6 "the sink's value verifies after resume" "$F/s6.out" --kind "$KA" "${A[@]}"
verify_rc 3 s6-old "the old value is dead" "$F/ci.0" --kind "$KA" "${A[@]}"

# ---- S7: service token (rotate strategy), killed with the rotate call in flight ---------------------
hold_and_kill S7 POST "/client/v4/accounts/$ACC/access/service_tokens/$CON/rotate" \
    rotate --kind "$KS" "${A[@]}" --id "$CON" "${MG[@]}" --secret-file "$F/console.0" --probe-url "$PROBE_CONSOLE" \
    --grace 300 --out "$F/s7.out" --journal "$F/s7.journal" "${V[@]}"
hl_run s7-resume resume --journal "$F/s7.journal" "${MG[@]}" --secret-file "$F/console.0" "${V[@]}" --json
hl_expect_rc 0 "S7: resume (service token, rotate)"
hl_out_secrets "$F/s7.out" dotenv
hl_expect_mode600 "$F/s7.out" "S7: the sink"
verify_rc 0 s7 "the sink's secret passes the probe after resume" "$F/s7.out" --kind "$KS" "${A[@]}" --probe-url "$PROBE_CONSOLE"
hl_check "S7: the client id did not change" bash -c '[ "$(sed -n "s/^CF_ACCESS_CLIENT_ID=//p" "$1")" = "$2" ]' _ "$F/s7.out" "$CFEMU_ST_CONSOLE_PROBE_CLIENT_ID"
journal_end S7 "$F/s7.journal" overlap

# ---- S8: rotate --finish killed with the overlap-ending update in flight ------------------------------
# A fresh overlap whose old secret we hold (s7.out), then the finish is killed mid-update.
hl_run s8-rotate rotate --kind "$KS" "${A[@]}" --id "$CON" "${MG[@]}" --secret-file "$F/s7.out" --probe-url "$PROBE_CONSOLE" \
    --grace 300 --out "$F/s8.out" "${V[@]}"
hl_expect_rc 0 "S8: a rotation into an overlap"
hl_out_secrets "$F/s8.out" dotenv
verify_rc 0 s8-overlap "the old secret passes during the overlap" "$F/s7.out" --kind "$KS" "${A[@]}" --probe-url "$PROBE_CONSOLE"
hold_and_kill S8 PUT "/client/v4/accounts/$ACC/access/service_tokens/$CON" \
    rotate --finish --kind "$KS" "${A[@]}" --id "$CON" --strategy rotate "${MG[@]}" --secret-file "$F/s7.out" \
    --probe-url "$PROBE_CONSOLE" --journal "$F/s8.journal" "${V[@]}"
hl_json_lines_check "$F/s8.journal" "S8: the journal has a revoke intent without an outcome" \
    "any(o['type']=='intent' and o['op']=='revoke' for o in L) and not any(o['type']=='outcome' for o in L)"
hl_run s8-resume resume --journal "$F/s8.journal" "${MG[@]}" --secret-file "$F/s7.out" "${V[@]}"
hl_expect_rc 0 "S8: resume of an interrupted --finish"
verify_rc 0 s8 "the new secret passes after the finish" "$F/s8.out" --kind "$KS" "${A[@]}" --probe-url "$PROBE_CONSOLE"
verify_rc 3 s8-old "the old secret is dead after the finish" "$F/s7.out" --kind "$KS" "${A[@]}" --probe-url "$PROBE_CONSOLE"
journal_end S8 "$F/s8.journal" completed

# ---- S9: create-swap-delete --grace 0, killed with the delete in flight -----------------------------
hold_and_kill S9 DELETE "/client/v4/accounts/$ACC/access/service_tokens/$VAU" \
    rotate --kind "$KS" "${A[@]}" --id "$VAU" --strategy create-swap-delete --grace 0 "${MG[@]}" \
    --secret-file "$F/vault.0" --probe-url "$PROBE_VAULT" --out "$F/s9.out" --journal "$F/s9.journal" "${V[@]}"
hl_out_secrets "$F/s9.out" dotenv
hl_run s9-resume resume --journal "$F/s9.journal" "${MG[@]}" --secret-file "$F/vault.0" "${V[@]}"
hl_expect_rc 0 "S9: resume (revoke again is safe)"
verify_rc 0 s9 "the sink's secret passes the probe after resume" "$F/s9.out" --kind "$KS" "${A[@]}" --probe-url "$PROBE_VAULT"
hl_run s9-old describe --kind "$KS" "${A[@]}" --id "$VAU" "${MG[@]}"
hl_expect_rc 6 "S9: the old token is gone"
journal_end S9 "$F/s9.journal" completed

# ---- S10: zone create-swap-delete, the create's answer lost: resume removes the orphan -----------------
hl_fault '{"method":"POST","path":"/client/v4/zones/*/access/service_tokens","kind":"reset_after","count":1}'
hl_run s10-rotate rotate --kind "$KS" "${Z[@]}" --id "$EDG" --strategy create-swap-delete --grace 0 "${MG[@]}" \
    --secret-file "$F/edge.0" --probe-url "$PROBE_EDGE" --out "$F/s10.out" --journal "$F/s10.journal" "${V[@]}"
hl_expect_rc 8 "S10: a lost create is outcome unknown"
hl_state_get "$HL_T/s10a.state"
hl_json_check "$HL_T/s10a.state" "S10: the lost create left one orphan named edge-probe.rot-<run id>" \
    "len([t for t in d['service_tokens'] if t['name'].startswith('edge-probe.rot-')])==1"
ORPHAN=$(hl_json_get "$HL_T/s10a.state" "[t['id'] for t in d['service_tokens'] if t['name'].startswith('edge-probe.rot-')][0]" 2>/dev/null)
hl_run s10-resume resume --journal "$F/s10.journal" "${MG[@]}" --secret-file "$F/edge.0" "${V[@]}"
hl_expect_rc 0 "S10: resume"
hl_out_secrets "$F/s10.out" dotenv
verify_rc 0 s10 "the sink's secret passes the probe after resume" "$F/s10.out" --kind "$KS" "${Z[@]}" --probe-url "$PROBE_EDGE"
hl_state_get "$HL_T/s10b.state"
hl_json_check "$HL_T/s10b.state" "S10: exactly one token of this run, not the orphan; the old token deleted" \
    "len([t for t in d['service_tokens'] if t['name'].startswith('edge-probe.rot-')])==1 and '$ORPHAN' not in [t['id'] for t in d['service_tokens']] and '$EDG' not in [t['id'] for t in d['service_tokens']]"
hl_check "S10: the sink's client id is the surviving token's" bash -c '
    c=$(sed -n "s/^CF_ACCESS_CLIENT_ID=//p" "$1"); [ -n "$c" ] && grep -q "\"client_id\": \"$c\"" "$2"' _ "$F/s10.out" "$HL_T/s10b.state"

# ---- at the end, with nothing in flight: every credential is still in the state resume left ------
verify_rc 0 end-user "user token: the last sink's value still verifies" "$F/s5b.out" --kind "$KU" --secret-name CF_PAGES_DEPLOY
verify_rc 0 end-account "account token: the sink's value still verifies" "$F/s6.out" --kind "$KA" "${A[@]}"
verify_rc 0 end-console "console-probe: the sink's secret still passes" "$F/s8.out" --kind "$KS" "${A[@]}" --probe-url "$PROBE_CONSOLE"
verify_rc 0 end-vault "vault-probe: the sink's secret still passes" "$F/s9.out" --kind "$KS" "${A[@]}" --probe-url "$PROBE_VAULT"
verify_rc 0 end-edge "edge-probe: the sink's secret still passes" "$F/s10.out" --kind "$KS" "${Z[@]}" --probe-url "$PROBE_EDGE"

hl_no_secrets "no secret in any captured stdout/stderr or journal" "$HL_T"/cap/* "$F"/*.journal
hl_done
