#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_harness_fleet_plan.sh - the inventory file and `rotp-harness plan` (issue 12.1, 12.2;
# docs/rotp-harness.md "Inventory file", "plan") through the real cloudflare.so against cfemu
# over TLS, with a seed (fleet_seed.py) that holds disabled, expired and soon-expiring tokens:
#   - every state: active, disabled, expired, invalid (a wrong value), missing (an id the
#     provider does not know; a secret_file that does not exist), for account tokens, a user
#     token and a service token (dotenv secret file, client id and secret);
#   - due by cadence (secret file 100 days old), by expiry (5 days left, --due-within 14), or
#     because it is broken; last rotation from the audit file beats the file's mtime;
#   - exit 0 nothing due, 20 due, 21 broken; table and --json;
#   - a bad inventory: every bad entry reported with index and key, exit 2, nothing sent;
#   - no secret in any output; plan sends only describe and verify (no change).
. "$(dirname "${BASH_SOURCE[0]}")/harness_lib.sh"
hl_init
"$HL_PY" "$(dirname "${BASH_SOURCE[0]}")/fleet_seed.py" 3 --states >"$HL_T/seed.json"
hl_cfemu_start --seed "$HL_T/seed.json"

hl_write_secret CFEMU_TOKEN_FLEET_001_VALUE "$F/f1.tok"
hl_write_secret CFEMU_TOKEN_FLEET_002_VALUE "$F/f2.tok"
hl_write_secret CFEMU_TOKEN_STALE_DISABLED_VALUE "$F/dis.tok"
hl_write_secret CFEMU_TOKEN_STALE_EXPIRED_VALUE "$F/exp.tok"
hl_write_secret CFEMU_TOKEN_SOON_VALUE "$F/soon.tok"
touch -d '100 days ago' "$F/f2.tok"

# inventory NAME ENTRIES...: writes $F/NAME.json with the defaults and the given entries.
inventory() {
    local name=$1 sep="" e
    shift
    {
        printf '{"version":1,"defaults":{"account_id":"%s","cadence_days":90},"credentials":[' "$ACC"
        for e in "$@"; do printf '%s%s' "$sep" "$e"; sep=","; done
        printf ']}\n'
    } >"$F/$name.json"
}
E_OK='{"name":"FLEET_001","kind":"'$KA'","id":"'$CFEMU_TOKEN_FLEET_001_ID'","secret_file":"'$F/f1.tok'"}'
E_OLD='{"name":"FLEET_002","aliases":["LEGACY_FLEET_2"],"kind":"'$KA'","id":"'$CFEMU_TOKEN_FLEET_002_ID'","secret_file":"'$F/f2.tok'"}'
E_DIS='{"name":"STALE_DISABLED","kind":"'$KA'","id":"'$CFEMU_TOKEN_STALE_DISABLED_ID'","secret_file":"'$F/dis.tok'"}'
E_EXP='{"name":"STALE_EXPIRED","kind":"'$KA'","id":"'$CFEMU_TOKEN_STALE_EXPIRED_ID'","secret_file":"'$F/exp.tok'"}'
E_SOON='{"name":"SOON","kind":"'$KA'","id":"'$CFEMU_TOKEN_SOON_ID'","secret_file":"'$F/soon.tok'"}'
E_GONE='{"name":"GONE","kind":"'$KA'","id":"0000000000000000000000000000dead","secret_file":"'$F/f1.tok'"}'
E_BAD='{"name":"PAGES","kind":"'$KU'","id":"'$CFEMU_TOKEN_PAGES_DEPLOY_ID'","secret_file":"'$F/bogus.tok'"}'
E_ST='{"name":"CONSOLE","kind":"'$KS'","id":"'$CFEMU_ST_CONSOLE_PROBE_ID'","secret_file":"'$F/console.0'","probe_url":"'$PROBE_CONSOLE'"}'
E_NOFILE='{"name":"FLEET_003","kind":"'$KA'","id":"'$CFEMU_TOKEN_FLEET_003_ID'","secret_file":"'$F/nothing-here.tok'"}'

# ---- every state --------------------------------------------------------------------------------
inventory all "$E_OK" "$E_OLD" "$E_DIS" "$E_EXP" "$E_SOON" "$E_GONE" "$E_BAD" "$E_ST" "$E_NOFILE"
hl_log_reset
hl_run plan-all plan --inventory "$F/all.json" "${MG[@]}" --json
hl_expect_rc 21 "plan: something is broken (exit 21)"
P=$HL_OUT
hl_json_check "$P" "plan: one object, 9 credentials, exit name BROKEN" \
    "d['command']=='plan' and d['exit_name']=='BROKEN' and d['total']==9 and len(d['credentials'])==9 and d['due_within_days']==14"
st() { hl_json_check "$P" "plan: $1 is $2${3:+, $3}" "[c for c in d['credentials'] if c['name']=='$1'][0]['state']=='$2'${4:+ and $4}"; }
C='[c for c in d["credentials"] if c["name"]==N][0]'
st FLEET_001 active "not due (rotated today by its file)" "(lambda c: not c['due'] and not c['broken'] and c['last_rotation']['source']=='file' and c['cadence_days']==90)(${C/N/\'FLEET_001\'})"
st FLEET_002 active "due by cadence (100 days)" "(lambda c: c['due'] and c['reason'].startswith('cadence: rotated 100 days ago'))(${C/N/\'FLEET_002\'})"
st STALE_DISABLED disabled "broken, due" "(lambda c: c['due'] and c['broken'] and c['reason']=='broken: disabled')(${C/N/\'STALE_DISABLED\'})"
st STALE_EXPIRED expired "broken" "${C/N/\'STALE_EXPIRED\'}['broken']"
st SOON active "due by expiry in 4-5 days" "(lambda c: c['due'] and not c['broken'] and c['reason'].startswith('expiry') and c['days_left'] in (4,5) and c['expires_on'])(${C/N/\'SOON\'})"
st GONE missing "the provider does not know the id" "'no credential' in ${C/N/\'GONE\'}['detail']"
st PAGES invalid "a wrong value (user token)" "${C/N/\'PAGES\'}['broken']"
st CONSOLE active "service token (client id + secret from dotenv)" "not ${C/N/\'CONSOLE\'}['broken']"
st FLEET_003 missing "its secret_file does not exist" "'does not exist' in ${C/N/\'FLEET_003\'}['detail']"
hl_json_check "$P" "plan: counts" "d['due']==7 and d['broken']==5"
log_check "plan: read-only (no PUT, POST or DELETE)" "count('PUT','.')+count('POST','.')+count('DELETE','.')==0"
log_check "plan: the management token is looked up once, no account-token verify is expected to fail" \
    "count('GET', r'/user/tokens/verify\$')<=1"

# table output on stdout
hl_run plan-table plan --inventory "$F/all.json" "${MG[@]}"
hl_expect_rc 21 "plan (table): exit 21"
hl_check "plan (table): a header and one line per credential and a summary" \
    bash -c 'grep -q "^NAME  *STATE" "$1" && [ "$(grep -c -E "^(FLEET|STALE|SOON|GONE|PAGES|CONSOLE)" "$1")" = 9 ] && grep -q "^plan: 9 credentials, 7 due, 5 broken" "$1"' _ "$HL_OUT"

# a secret file written under a legacy name (an alias) is read by that name
(umask 077 && printf 'LEGACY_ONE=%s\nOTHER=x\n' "$CFEMU_TOKEN_FLEET_001_VALUE" >"$F/legacy.env")
inventory legacy '{"name":"FLEET_001","aliases":["LEGACY_ONE"],"kind":"'$KA'","id":"'$CFEMU_TOKEN_FLEET_001_ID'","secret_file":"'$F/legacy.env'"}'
hl_run plan-legacy plan --inventory "$F/legacy.json" "${MG[@]}" --json
hl_expect_rc 0 "plan: a dotenv secret file under an alias verifies"

# ---- exit codes: nothing due / due ---------------------------------------------------------------
inventory ok "$E_OK"
hl_run plan-ok plan --inventory "$F/ok.json" "${MG[@]}" --json
hl_expect_rc 0 "plan: nothing due (exit 0)"
inventory due "$E_OK" "$E_OLD"
hl_run plan-due plan --inventory "$F/due.json" "${MG[@]}" --json
hl_expect_rc 20 "plan: something due, nothing broken (exit 20)"
inventory st "$E_ST"
hl_run plan-st plan --inventory "$F/st.json" "${MG[@]}" --json
hl_expect_rc 0 "plan: a service token that expires in a year is not due"
hl_run plan-st-400 plan --inventory "$F/st.json" "${MG[@]}" --json --due-within 400
hl_expect_rc 20 "plan: --due-within 400 makes it due by expiry"

# the audit file's last completed rotation (by name or alias) beats the file's mtime
printf '{"action":"secret.rotate.completed","actor":"t","at":"%s","context":{"secret_name":"LEGACY_FLEET_2","rotated_at":"%s"}}\n' \
    "$(date -u +%FT%TZ)" "$(date -u -d '3 days ago' +%FT%TZ)" >"$F/audit.log"
hl_run plan-audit plan --inventory "$F/due.json" "${MG[@]}" --json --audit "$F/audit.log"
hl_expect_rc 0 "plan: with the audit file nothing is due"
hl_json_check "$HL_OUT" "plan: FLEET_002's last rotation comes from the audit file, 87 days to go" \
    "(lambda c: c['last_rotation']['source']=='audit' and not c['due'] and c['reason']=='next by cadence in 87 days')(${C/N/\'FLEET_002\'})"

# ---- a bad inventory: all problems, before anything runs ----------------------------------------
chmod 644 "$F/f2.tok"
inventory bad \
    '{"name":"A","kind":"'$KU'","id":"'$CFEMU_TOKEN_PAGES_DEPLOY_ID'","account_id":"'$ACC'x"}' \
    '{"name":"B","kind":"'$KA'","id":"NOT-AN-ID"}' \
    '{"name":"C","kind":"cloudflare.nope"}' \
    '{"name":"D","kind":"'$KS'","id":"'$CFEMU_ST_CONSOLE_PROBE_ID'","zone_id":"'$ZONE'","strategy":"yolo"}' \
    '{"name":"E","kind":"'$KA'","id":"'$CFEMU_TOKEN_FLEET_002_ID'","secret_file":"'$F/f2.tok'","secret":"x"}'
hl_log_reset
hl_run plan-bad plan --inventory "$F/bad.json" "${MG[@]}"
hl_expect_rc 2 "plan: a bad inventory is a usage error"
E=$HL_ERR
hl_check "plan: a key the kind does not take (account_id on a user token)" grep -q 'credentials\[0\] (A): account_id: cloudflare.user_token takes no such key' "$E"
hl_check "plan: a malformed id" grep -q 'credentials\[1\] (B): id: must be 32 lowercase hex digits' "$E"
hl_check "plan: an unknown kind" grep -q 'credentials\[2\] (C): kind: the provider has no kind cloudflare.nope' "$E"
hl_check "plan: both account_id (from defaults) and zone_id for a service token" grep -q 'credentials\[3\] (D): account_id: give exactly one of' "$E"
hl_check "plan: a strategy the kind does not have" grep -q 'credentials\[3\] (D): strategy: is not one of' "$E"
hl_check "plan: a secret in the inventory" grep -q 'credentials\[4\] (E): secret: is part of the secret' "$E"
hl_check "plan: a secret_file others can read" grep -q 'credentials\[4\] (E): secret_file: .*can be read or written by others.*chmod 600' "$E"
hl_check "plan: the count and 'nothing was done'" grep -q 'bad.json: 7 problems; nothing was done' "$E"
log_check "plan: a bad inventory sends nothing" "len(L)==0"
chmod 600 "$F/f2.tok"

# the manual's example inventory (docs/examples/fleet.json, cfemu's built-in ids) is valid: its
# secret files do not exist here, so everything is missing (21), but nothing is refused (2)
hl_run plan-example plan --inventory "$ROTP_SOURCE_DIR/docs/examples/fleet.json" "${MG[@]}" --json
hl_expect_rc 21 "plan: docs/examples/fleet.json passes every check"
hl_json_check "$HL_OUT" "plan: the example's three credentials are known to cfemu, their files missing" \
    "d['total']==3 and all(c['state']=='missing' and 'secret_file' in c['detail'] for c in d['credentials'])"

hl_no_secrets "plan: no secret value in any output" "$HL_T"/cap/*.out "$HL_T"/cap/*.err
hl_done
