#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_harness_sandbox.sh - `rotp-harness sandbox` (issue 6, docs/rotp-harness.md "sandbox")
# through the real cloudflare.so against cfemu over TLS:
#   - sandbox passes for cloudflare.user_token, cloudflare.account_token and
#     cloudflare.access_service_token at account level (strategy rotate) and zone level
#     (create-swap-delete), and leaves nothing behind (cfemu's state holds only the seed's
#     tokens; the sandbox's private temporary directory is gone);
#   - for each kind, a step made to fail by a cfemu fault (a 500 on the roll, a lost roll
#     response, a 500 on the service-token rotate, a probe answering 401 after a
#     create-swap-delete): sandbox exits non-zero with a FAIL step, and still cleans up (no
#     rotp-sandbox token left in cfemu's state, including the token the roll created).
. "$(dirname "${BASH_SOURCE[0]}")/harness_lib.sh"
hl_init
hl_cfemu_start

V=(--verify-tries 2 --verify-delay-ms 100)
SEED_TOKENS="{'rotation-mgmt','pages-deploy','ci-readonly','least-privilege'}"
SEED_ST="{'console-probe','vault-probe','edge-probe'}"

# state_clean DESC: cfemu's state holds the seed's tokens and service tokens and nothing else.
state_clean() {
    local f
    f=$(mktemp "$HL_T/state.XXXXXX")
    hl_state_get "$f" || return 1
    hl_json_check "$f" "$1" \
        "{t['token']['name'] for t in d['tokens']}==$SEED_TOKENS and {t['name'] for t in d['service_tokens']}==$SEED_ST and len(d['tokens'])==4 and len(d['service_tokens'])==3"
}

# dirs_gone DESC FILE: every /tmp/rotp-sandbox-* directory named in FILE no longer exists.
dirs_gone() {
    local d n=0 left=""
    for d in $(grep -o '/[^ ]*rotp-sandbox-[A-Za-z0-9]*' "$2" | sort -u); do
        n=$((n + 1))
        [ -e "$d" ] && left="$left $d"
    done
    if [ -z "$left" ]; then hl_pass "$1 ($n temporary directories named, all removed)"; else hl_fail "$1: left behind:$left"; fi
}

# ---- every kind passes ---------------------------------------------------------------------------
hl_run sbx-user sandbox --kind "$KU" "${MG[@]}" --zone "$ZONE" "${V[@]}" --json
hl_expect_rc 0 "sandbox user token"
hl_json_check "$HL_OUT" "sandbox user token: every step PASS, provision..confirm gone" \
    "d['ok'] and steps_ok(d, ('PASS',)) and d['steps'][0]['step']=='provision' and any('gone' in s['step'] for s in d['steps']) and any(s['step']=='revoke' for s in d['steps'])"
dirs_gone "sandbox user token: its private directory is removed" "$HL_OUT"
state_clean "sandbox user token: nothing left in cfemu"

hl_run sbx-user-human sandbox --kind "$KU" "${MG[@]}" --zone "$ZONE" "${V[@]}"
hl_expect_rc 0 "sandbox user token (human report)"
hl_check "the human report has PASS per step and no FAIL" bash -c '[ "$(grep -c PASS "$1")" -ge 5 ] && ! grep -q FAIL "$1"' _ "$HL_OUT"

hl_run sbx-runid sandbox --kind "$KU" "${MG[@]}" --zone "$ZONE" "${V[@]}" --run-id ops-run_42 --json
hl_expect_rc 0 "sandbox user token with the operator's --run-id"
hl_check "the report names the operator's run id" grep -q 'ops-run_42' "$HL_OUT"
state_clean "sandbox with --run-id: nothing left in cfemu"
hl_run sbx-badid sandbox --kind "$KU" "${MG[@]}" --zone "$ZONE" "${V[@]}" --run-id 'bad id'
hl_expect_rc 2 "a --run-id outside [A-Za-z0-9_-] is a usage error"

hl_run sbx-account sandbox --kind "$KA" "${MG[@]}" --account "$ACC" --zone "$ZONE" "${V[@]}" --json
hl_expect_rc 0 "sandbox account token"
hl_json_check "$HL_OUT" "sandbox account token: every step PASS" "d['ok'] and steps_ok(d, ('PASS',))"
dirs_gone "sandbox account token: its private directory is removed" "$HL_OUT"
state_clean "sandbox account token: nothing left in cfemu"

hl_run sbx-st sandbox --kind "$KS" "${MG[@]}" --account "$ACC" --probe-url "$PROBE_VAULT" "${V[@]}" --json
hl_expect_rc 0 "sandbox service token (account level)"
hl_json_check "$HL_OUT" "sandbox service token: every step PASS, the old secret confirmed dead" \
    "d['ok'] and steps_ok(d, ('PASS',)) and any('old' in s['step'] for s in d['steps'])"
dirs_gone "sandbox service token: its private directory is removed" "$HL_OUT"
state_clean "sandbox service token: nothing left in cfemu"

hl_run sbx-zst sandbox --kind "$KS" "${MG[@]}" --zone "$ZONE" --probe-url "$PROBE_EDGE" "${V[@]}" --json
hl_expect_rc 0 "sandbox service token (zone level, create-swap-delete)"
hl_json_check "$HL_OUT" "sandbox zone service token: every step PASS" "d['ok'] and steps_ok(d, ('PASS',))"
state_clean "sandbox zone service token: both throwaway tokens removed"

# ---- a failing step still cleans up ----------------------------------------------------------------
# user token: the roll answers 500 (not retried: a PUT).
hl_fault '{"method":"PUT","path":"/client/v4/user/tokens/*/value","kind":"status","status":500,"code":10001,"count":1}'
hl_run sbx-user-fail sandbox --kind "$KU" "${MG[@]}" --zone "$ZONE" "${V[@]}" --json
hl_expect_rc_not 0 "sandbox user token with a failing roll fails"
hl_json_check "$HL_OUT" "sandbox user token: a FAIL step, then a passing cleanup revoke" \
    "d['ok'] is False and d['exit_code']==$HL_RC and any(s['status']=='FAIL' for s in d['steps']) and any('revoke' in s['step'] and s['status']=='PASS' for s in d['steps'])"
dirs_gone "sandbox user token (failed): its private directory is removed" "$HL_OUT"
state_clean "sandbox user token (failed): the throwaway token was revoked"
hl_faults_clear

# account token: the roll's answer is lost after cfemu applied it (outcome unknown).
hl_fault '{"method":"PUT","path":"/client/v4/accounts/*/tokens/*/value","kind":"reset_after","count":1}'
hl_run sbx-account-fail sandbox --kind "$KA" "${MG[@]}" --account "$ACC" --zone "$ZONE" "${V[@]}" --json
hl_expect_rc 8 "sandbox account token with a lost roll answer: outcome unknown"
hl_json_check "$HL_OUT" "sandbox account token (lost answer): FAIL step reported" \
    "d['ok'] is False and any(s['status']=='FAIL' for s in d['steps'])"
state_clean "sandbox account token (lost answer): the throwaway token was revoked"
hl_faults_clear

# service token, account level: the rotate call answers 500.
hl_fault '{"method":"POST","path":"/client/v4/accounts/*/access/service_tokens/*/rotate","kind":"status","status":500,"code":10001,"count":1}'
hl_run sbx-st-fail sandbox --kind "$KS" "${MG[@]}" --account "$ACC" --probe-url "$PROBE_VAULT" "${V[@]}" --json
hl_expect_rc_not 0 "sandbox service token with a failing rotate fails"
hl_json_check "$HL_OUT" "sandbox service token (failed): FAIL step reported" \
    "d['ok'] is False and any(s['status']=='FAIL' for s in d['steps'])"
dirs_gone "sandbox service token (failed): its private directory is removed" "$HL_OUT"
state_clean "sandbox service token (failed): the throwaway token was deleted"
hl_faults_clear

# service token, zone level: after create-swap-delete the probe rejects everything, so the new
# token fails verification; both the provisioned and the created token must be deleted.
hl_fault '{"method":"GET","path":"/cdn-cgi/access/probe/*","kind":"status","status":401,"code":1000,"count":1000}'
hl_run sbx-zst-fail sandbox --kind "$KS" "${MG[@]}" --zone "$ZONE" --probe-url "$PROBE_EDGE" "${V[@]}" --json
hl_expect_rc 3 "sandbox zone service token with a failing probe: verification failed"
hl_json_check "$HL_OUT" "sandbox zone service token (failed): FAIL step reported" \
    "d['ok'] is False and any(s['status']=='FAIL' for s in d['steps'])"
hl_faults_clear
state_clean "sandbox zone service token (failed): no throwaway token left"

# The seeded credentials were never touched by any of this.
hl_run seed-ok verify --kind "$KS" --account "$ACC" "${MG[@]}" --secret-file "$F/vault.0" --probe-url "$PROBE_VAULT"
hl_expect_rc 0 "the seeded vault-probe secret still works"
hl_run seed-ok2 verify --kind "$KU" "${MG[@]}" --secret-file "$F/pages.0"
hl_expect_rc 0 "the seeded pages-deploy value still works"

hl_no_secrets "no secret in any captured stdout/stderr" "$HL_T"/cap/*
hl_done
