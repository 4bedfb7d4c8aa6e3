#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_harness_fleet_apply.sh - `rotp-harness apply` and its resume (issue 12.3;
# docs/rotp-harness.md "apply") through the real cloudflare.so against cfemu over TLS:
#   - apply (what is due): the entries due by cadence and by expiry are rotated, the fresh one is
#     not; a failing entry (its --exec sink fails) is reported, nothing of it revoked, and the rest
#     go on; one journal (fleet record, runs <fleet id>-<n>, fleet_end), audit events per entry;
#     the new values verify and the old ones are dead; no secret in any output;
#   - apply --only NAME (by alias too), --only with an unknown name, --all; at most 5 requests
#     per rotation and one TLS handshake per apply;
#   - a second apply on the same journal while one runs does not start (the journal's lock);
#   - kill -9 while the second entry's roll is held by cfemu, then apply --resume: the first entry
#     is not rolled again, the second is rolled forward, the third is rotated; every value
#     verifies; a second resume finds nothing to do; `resume --journal` hands a fleet journal over;
#   - with cfemu's --rate-limit 6/2 (six rotations need 12 requests of the management token):
#     no 429 (the provider paces itself from the Ratelimit headers).
. "$(dirname "${BASH_SOURCE[0]}")/harness_lib.sh"
hl_init
"$HL_PY" "$(dirname "${BASH_SOURCE[0]}")/fleet_seed.py" 6 --states >"$HL_T/seed.json"
hl_cfemu_start --seed "$HL_T/seed.json"

V=(--verify-delay-ms 100)
CON=$CFEMU_ST_CONSOLE_PROBE_ID
VAU=$CFEMU_ST_VAULT_PROBE_ID
for i in 1 2 3 4 5 6; do
    hl_write_secret "CFEMU_TOKEN_FLEET_00${i}_VALUE" "$F/f$i.env"
done
hl_write_secret CFEMU_TOKEN_SOON_VALUE "$F/soon.env"
touch -d '100 days ago' "$F/f2.env" "$F/f3.env"
cp "$F/f1.env" "$F/f1.orig"
cp "$F/f2.env" "$F/f2.orig"
cp "$F/soon.env" "$F/soon.orig"

# inventory NAME ENTRIES...
inventory() {
    local name=$1 sep="" e
    shift
    {
        printf '{"version":1,"defaults":{"account_id":"%s"},"credentials":[' "$ACC"
        for e in "$@"; do printf '%s%s' "$sep" "$e"; sep=","; done
        printf ']}\n'
    } >"$F/$name.json"
}
ent() { # NAME FILE [extra JSON members]
    local v="CFEMU_TOKEN_$1_ID"
    printf '{"name":"%s","kind":"%s","id":"%s","secret_file":"%s","out":"%s"%s}' \
        "$1" "$KA" "${!v}" "$2" "$2" "${3:+,$3}"
}
C='[c for c in d["credentials"] if c["name"]==N][0]'

# ---- apply: what is due ---------------------------------------------------------------------------
inventory due "$(ent FLEET_001 "$F/f1.env")" "$(ent FLEET_002 "$F/f2.env" '"aliases":["OLD_TWO"]')" \
    "$(ent SOON "$F/soon.env")" "$(ent FLEET_003 "$F/f3.env" '"exec":"cat >/dev/null; exit 3"')"
hl_log_reset
hl_run apply-due apply --inventory "$F/due.json" "${MG[@]}" "${V[@]}" --json \
    --journal "$F/due.journal" --audit "$F/due.audit" --actor fleet-test
hl_expect_rc 9 "apply: the failing entry's code (sink failed) is the exit status"
A=$HL_OUT
for f in f2 soon f3; do hl_out_secrets "$F/$f.env" dotenv; done
hl_json_check "$A" "apply: three due entries selected, two rotated, one failed" \
    "d['command']=='apply' and d['selected']==3 and d['rotated']==2 and d['failed']==1 and [c['name'] for c in d['credentials']]==['FLEET_002','SOON','FLEET_003']"
hl_json_check "$A" "apply: FLEET_002 and SOON rotated, delivered to their out files" \
    "all((lambda c: c['status']==0 and 'out ' in c['delivered_to'])(${C/N/n}) for n in ('FLEET_002','SOON'))"
hl_json_check "$A" "apply: FLEET_003 failed in delivery (SINK_FAILED)" \
    "(lambda c: c['status_name']=='SINK_FAILED')(${C/N/\'FLEET_003\'})"
hl_run v-f2-new verify --kind "$KA" --account "$ACC" "${MG[@]}" --secret-file "$F/f2.env" --secret-name FLEET_002
hl_expect_rc 0 "apply: FLEET_002's new value verifies (dotenv with its name)"
hl_run v-f2-old verify --kind "$KA" --account "$ACC" "${MG[@]}" --secret-file "$F/f2.orig"
hl_expect_rc 3 "apply: FLEET_002's old value is dead"
hl_run v-soon-old verify --kind "$KA" --account "$ACC" "${MG[@]}" --secret-file "$F/soon.orig"
hl_expect_rc 3 "apply: SOON's old value is dead"
hl_check "apply: FLEET_002's out file has the alias too" grep -q '^OLD_TWO=' "$F/f2.env"
hl_run v-f1 verify --kind "$KA" --account "$ACC" "${MG[@]}" --secret-file "$F/f1.env"
hl_expect_rc 0 "apply: FLEET_001 (not due) was left alone"
log_check "apply: nothing was rolled or revoked for FLEET_001" "count('PUT', r'/tokens/$CFEMU_TOKEN_FLEET_001_ID/value')==0"
hl_json_lines_check "$F/due.journal" "apply: one journal: a fleet record, runs <fleet>-<n>, a fleet_end" \
    "L[0]['type']=='fleet' and [e['name'] for e in L[0]['entries']]==['FLEET_002','SOON','FLEET_003'] and sorted({o['run_id'] for o in L if o['type']=='run'})==sorted(L[0]['run_id']+'-'+str(e['n']) for e in L[0]['entries']) and L[-1]['type']=='fleet_end' and L[-1]['failed']==1"
hl_json_lines_check "$F/due.audit" "apply: audit events for each entry, by the actor" \
    "all(o['actor']=='fleet-test' for o in L) and {o['context']['secret_name'] for o in L if o['action']=='secret.rotate.completed'}=={'FLEET_002','SOON'} and any(o['action']=='secret.rotate.failed' and o['context']['secret_name']=='FLEET_003' for o in L)"

# plan agrees: FLEET_002 and SOON are no longer due by cadence (SOON keeps its expiry)
hl_run plan-after plan --inventory "$F/due.json" "${MG[@]}" --json --audit "$F/due.audit"
hl_json_check "$HL_OUT" "plan after apply: FLEET_002 was rotated today (audit)" \
    "(lambda c: c['state']=='active' and not c['due'] and c['last_rotation']['source']=='audit')(${C/N/\'FLEET_002\'})"

inventory mgmt2 "$(ent FLEET_001 "$F/f1.env")" "$(ent SOON "$F/soon.env" '"token_file":"'"$F/bogus.tok"'"')"

hl_run plan-journal plan --inventory "$F/due.json" "${MG[@]}" --json --journal "$F/due.journal"
hl_json_check "$HL_OUT" "plan after apply: the last rotation of SOON comes from the fleet journal" \
    "(lambda c: c['last_rotation']['source']=='journal' and c['last_rotation']['at'])(${C/N/\'SOON\'})"
hl_json_check "$HL_OUT" "plan after apply: FLEET_003 (failed) has no completed run in the journal" \
    "${C/N/\'FLEET_003\'}['last_rotation']['source']!='journal'"

# ---- --only, --all ---------------------------------------------------------------------------------
hl_log_reset
hl_run apply-only apply --inventory "$F/due.json" "${MG[@]}" "${V[@]}" --json --only OLD_TWO
hl_expect_rc 0 "apply --only ALIAS"
hl_json_check "$HL_OUT" "apply --only: exactly that entry" "[c['name'] for c in d['credentials']]==['FLEET_002']"
hl_out_secrets "$F/f2.env" dotenv
# a second management credential (its own instance) that is invalid: its entry fails, the
# entries of the good credential go on
hl_run apply-mgmt apply --inventory "$F/mgmt2.json" "${MG[@]}" "${V[@]}" --json --all
hl_expect_rc 4 "apply: an entry whose token_file holds an invalid token fails (CREDENTIAL_INVALID)"
hl_out_secrets "$F/f1.env" dotenv
hl_json_check "$HL_OUT" "apply: the other entry (the command line's token) was rotated" \
    "[(c['name'],c['status']) for c in d['credentials']]==[('FLEET_001',0),('SOON',4)] and d['rotated']==1"

hl_run apply-only-bad apply --inventory "$F/due.json" "${MG[@]}" --only NOPE
hl_expect_rc 2 "apply --only with an unknown name is a usage error"
hl_check "apply --only: the unknown name is named" grep -q 'only NOPE: no such name' "$HL_ERR"

inventory all "$(ent FLEET_004 "$F/f4.env")" "$(ent FLEET_005 "$F/f5.env")" "$(ent FLEET_006 "$F/f6.env")"
hl_ctl DELETE /__cfemu/stats >/dev/null
hl_run apply-all apply --inventory "$F/all.json" "${MG[@]}" "${V[@]}" --json --all
hl_expect_rc 0 "apply --all"
for i in 4 5 6; do hl_out_secrets "$F/f$i.env" dotenv; done
hl_json_check "$HL_OUT" "apply --all: all three rotated" "d['rotated']==3 and d['failed']==0"
hl_ctl GET /__cfemu/stats >"$HL_T/stats.json"
hl_json_check "$HL_T/stats.json" "apply --all: at most 5 requests per rotation, one full TLS handshake (sessions reused)" \
    "d['result']['requests']<=15 and d['result']['tls_handshakes']['full']==1 and d['result']['rate_limited']==0"

# ---- service tokens: rotate with no overlap, and create-swap-delete (a new id) ----------------------
cp "$F/console.0" "$F/console.before"
cp "$F/vault.0" "$F/vault.env"
inventory st \
    '{"name":"CONSOLE","kind":"'$KS'","id":"'$CON'","strategy":"rotate","grace_seconds":0,"probe_url":"'$PROBE_CONSOLE'","secret_file":"'$F/console.0'","out":"'$F/console.0'"}' \
    '{"name":"VAULT","kind":"'$KS'","id":"'$VAU'","strategy":"create-swap-delete","grace_seconds":0,"probe_url":"'$PROBE_VAULT'","secret_file":"'$F/vault.env'","out":"'$F/vault.env'"}'
hl_run apply-st apply --inventory "$F/st.json" "${MG[@]}" "${V[@]}" --json --all
hl_expect_rc 0 "apply: service tokens (rotate without overlap; create-swap-delete)"
hl_out_secrets "$F/console.0" dotenv
hl_out_secrets "$F/vault.env" dotenv
hl_json_check "$HL_OUT" "apply: CONSOLE kept its id; VAULT has a new one, flagged for the inventory" \
    "(lambda c, v: c['status']==0 and not c['id_changed'] and v['status']==0 and v['id_changed'] and v['new_id']!=v['old_id'])(${C/N/\'CONSOLE\'},${C/N/\'VAULT\'})"
hl_run v-st verify --kind "$KS" --account "$ACC" "${MG[@]}" --secret-file "$F/console.0" --secret-name CONSOLE --id "$CON" --probe-url "$PROBE_CONSOLE"
hl_expect_rc 0 "apply: the service token's new secret passes the Access probe"
hl_run v-st-old verify --kind "$KS" --account "$ACC" "${MG[@]}" --secret-file "$F/console.before" --id "$CON" --probe-url "$PROBE_CONSOLE"
hl_expect_rc 3 "apply: the service token's old secret is dead (no overlap)"

# ---- kill -9 in the middle, then resume ------------------------------------------------------------
delay_answered() {
    hl_ctl GET /__cfemu/log >"$HL_T/dl.json" 2>/dev/null &&
        "$HL_PY" - "$HL_T/dl.json" "$1" <<'PYEOF'
import json, sys
log = json.load(open(sys.argv[1]))["result"]
sys.exit(0 if any(e.get("fault") == "delay" and e["method"] == "PUT" and sys.argv[2] in e["path"] for e in log) else 1)
PYEOF
}
cp "$F/f4.env" "$F/f4.before"
cp "$F/f5.env" "$F/f5.before"
cp "$F/f6.env" "$F/f6.before"
hl_log_reset
hl_fault "{\"method\":\"PUT\",\"path\":\"/client/v4/accounts/$ACC/tokens/$CFEMU_TOKEN_FLEET_005_ID/value\",\"kind\":\"delay\",\"delay_ms\":4000,\"count\":1}"
hl_bg apply-kill apply --inventory "$F/all.json" "${MG[@]}" "${V[@]}" --all --journal "$F/kill.journal"
if hl_wait_for 20 hl_no_fault_queued; then
    KILLPID=$HL_BGPID
    hl_run apply-concurrent apply --inventory "$F/all.json" "${MG[@]}" "${V[@]}" --all --journal "$F/kill.journal"
    hl_expect_rc 1 "lock: a second apply on the same journal does not start while the first runs"
    hl_check "lock: it says why" grep -q 'another apply or resume is running on the journal' "$HL_ERR"
    HL_BGPID=$KILLPID
    hl_bg_kill
    hl_expect_rc 137 "kill: apply killed while cfemu held the second entry's roll"
else
    hl_fail "kill: apply never reached the held roll"
    hl_bg_wait 5
fi
hl_wait_for 15 delay_answered "$CFEMU_TOKEN_FLEET_005_ID" || hl_fail "kill: cfemu never finished the held roll"
hl_out_secrets "$F/f4.env" dotenv
hl_json_lines_check "$F/kill.journal" "kill: the journal has the fleet record and no fleet_end" \
    "L[0]['type']=='fleet' and not any(o['type']=='fleet_end' for o in L)"
hl_log_reset
hl_run resume-1 apply --resume --journal "$F/kill.journal" "${MG[@]}" "${V[@]}" --json
hl_expect_rc 0 "resume: the fleet run finishes"
for i in 5 6; do hl_out_secrets "$F/f$i.env" dotenv; done
hl_json_check "$HL_OUT" "resume: FLEET_004 already finished, FLEET_005 rolled forward, FLEET_006 rotated" \
    "(lambda a,b,c: a['already_finished'] and a['status']==0 and b['resumed'] and b['status']==0 and c['status']==0 and not c['already_finished'])(${C/N/\'FLEET_004\'},${C/N/\'FLEET_005\'},${C/N/\'FLEET_006\'})"
log_check "resume: FLEET_004 was not rolled again" "count('PUT', r'/tokens/$CFEMU_TOKEN_FLEET_004_ID/value')==0"
for i in 4 5 6; do
    hl_run "v-k$i" verify --kind "$KA" --account "$ACC" "${MG[@]}" --secret-file "$F/f$i.env" --secret-name "FLEET_00$i"
    hl_expect_rc 0 "resume: FLEET_00$i's delivered value verifies"
    hl_run "v-k$i-old" verify --kind "$KA" --account "$ACC" "${MG[@]}" --secret-file "$F/f$i.before" --secret-name "FLEET_00$i"
    hl_expect_rc 3 "resume: FLEET_00$i's value from before the run is dead"
done
hl_json_lines_check "$F/kill.journal" "resume: the journal now ends with fleet_end" "L[-1]['type']=='fleet_end'"
hl_run resume-2 apply --resume --journal "$F/kill.journal" "${MG[@]}"
hl_expect_rc 0 "resume again: nothing to do"
hl_check "resume again: it says so" grep -q 'no unfinished fleet run' "$HL_OUT"
hl_run resume-cmd resume --journal "$F/kill.journal" "${MG[@]}"
hl_expect_rc 0 "resume --journal on a finished fleet journal: nothing to do"

# ---- the rate limit: paced, never a 429 --------------------------------------------------------------
hl_cfemu_stop
hl_cfemu_start --seed "$HL_T/seed.json" --rate-limit 6/2
for i in 1 2 3 4 5 6; do hl_write_secret "CFEMU_TOKEN_FLEET_00${i}_VALUE" "$F/r$i.env"; done
inventory rl "$(ent FLEET_001 "$F/r1.env")" "$(ent FLEET_002 "$F/r2.env")" "$(ent FLEET_003 "$F/r3.env")" \
    "$(ent FLEET_004 "$F/r4.env")" "$(ent FLEET_005 "$F/r5.env")" "$(ent FLEET_006 "$F/r6.env")"
hl_run apply-rl apply --inventory "$F/rl.json" "${MG[@]}" "${V[@]}" --all --json
hl_expect_rc 0 "rate limit 6/2: apply --all rotates all six"
for i in 1 2 3 4 5 6; do hl_out_secrets "$F/r$i.env" dotenv; done
hl_ctl GET /__cfemu/stats >"$HL_T/stats-rl.json"
hl_json_check "$HL_T/stats-rl.json" "rate limit 6/2: no 429 (paced from Ratelimit headers)" \
    "d['result']['rate_limited']==0 and d['result']['rate_limit_blocks']==0"

hl_no_secrets "apply: no secret value in any output, journal or audit" "$HL_T"/cap/*.out \
    "$HL_T"/cap/*.err "$F"/*.journal "$F"/*.audit
hl_done
