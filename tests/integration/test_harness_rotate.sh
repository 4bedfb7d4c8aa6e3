#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_harness_rotate.sh - `rotp-harness rotate` for every kind and strategy, through the real
# cloudflare.so against cfemu over TLS (issue 6, docs/rotp-harness.md "rotate, step by step"):
#   - user token (in place), with --secret-name/--alias dotenv output, audit and journal lines,
#     --dry-run (no change made) and a failing pre-check (nothing rolled);
#   - account token;
#   - service token, strategy rotate with a grace window, then `rotate --finish`;
#   - service token, strategy rotate with --grace 0 (old secret dead at once);
#   - service token, create-swap-delete at account level (overlap, then --finish deletes the old);
#   - service token, create-swap-delete at zone level with --grace 0 (old deleted in the run);
#   - the --exec sink failing: exit 9 and nothing revoked (no DELETE, no overlap-ending PUT in
#     cfemu's request log; the old secret still works).
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

# ---- user token: in place, dotenv names, audit, journal ----------------------------------------
hl_log_reset
hl_run user-rotate rotate --kind "$KU" --id "$PID_" "${MG[@]}" --secret-file "$F/pages.0" \
    --out "$F/pages.env" --secret-name CF_PAGES_DEPLOY --alias CLOUDFLARE_RAXX_AUTOMATION_API_TOKEN \
    --audit "$F/user.audit" --journal "$F/user.journal" --actor htest "${V[@]}" --json
hl_expect_rc 0 "user token: rotate"
hl_out_secrets "$F/pages.env" dotenv
hl_json_check "$HL_OUT" "user token: every step passed, including the old-secret check" \
    "d['ok'] and steps_ok(d) and any('old' in s['step'] and s['status']=='PASS' for s in d['steps'])"
hl_expect_mode600 "$F/pages.env" "user token: --out"
hl_check "user token: --out has NAME, the alias and every companion for both names" \
    bash -c 'for n in CF_PAGES_DEPLOY CLOUDFLARE_RAXX_AUTOMATION_API_TOKEN; do
        grep -q "^$n=cfut_" "$1" && grep -q "^${n}__EXPIRES_AT=" "$1" && grep -q "^${n}__SCOPES=..*Pages Write" "$1" &&
        grep -qx "${n}__TOKEN_ID=$2" "$1" || exit 1; done' _ "$F/pages.env" "$PID_"
hl_check "user token: NAME and the alias hold the same value" \
    bash -c '[ "$(sed -n "s/^CF_PAGES_DEPLOY=//p" "$1")" = "$(sed -n "s/^CLOUDFLARE_RAXX_AUTOMATION_API_TOKEN=//p" "$1")" ]' _ "$F/pages.env"
log_check "user token: exactly one roll (PUT .../value) was sent" "count('PUT', r'/user/tokens/$PID_/value\$')==1 and count('DELETE', r'.')==0"
hl_run user-verify-new verify --kind "$KU" "${MG[@]}" --secret-file "$F/pages.env" --secret-name CF_PAGES_DEPLOY
hl_expect_rc 0 "user token: the delivered value verifies (read back from the dotenv file)"
hl_run user-verify-old verify --kind "$KU" "${MG[@]}" --secret-file "$F/pages.0"
hl_expect_rc 3 "user token: the old value is dead"
hl_json_lines_check "$F/user.audit" "user token: audit has started and completed in the runbooks' shape" \
    "[o['action'] for o in L]==['secret.rotate.started','secret.rotate.completed'] and all(o['actor']=='htest' and o['context']['secret_name']=='CF_PAGES_DEPLOY' and o['context']['method']=='programmatic' and o['context']['token_id']=='$PID_' for o in L) and L[0]['context']['rotated_at'] is None and L[1]['context']['rotated_at'] and L[1]['context'].get('stage')=='finished'"
hl_json_lines_check "$F/user.journal" "user token: journal run, roll intent before outcome, end completed, one run id" \
    "L[0]['type']=='run' and len({o['run_id'] for o in L})==1 and [o['type'] for o in L if o['type'] in ('intent','outcome')][:2]==['intent','outcome'] and any(o['type']=='mark' and o['step']=='delivered' for o in L) and L[-1]['type']=='end' and L[-1]['status']=='completed'"
hl_expect_mode600 "$F/user.journal" "user token: journal file"
hl_expect_mode600 "$F/user.audit" "user token: audit file"

# --dry-run: pre-checks only, no change, no sink written.
hl_log_reset
hl_run user-dry rotate --kind "$KU" --id "$PID_" "${MG[@]}" --secret-file "$F/pages.env" \
    --secret-name CF_PAGES_DEPLOY --out "$F/dry.out" --dry-run --json
hl_expect_rc 0 "user token: rotate --dry-run"
hl_check "user token: --dry-run wrote no sink" test ! -e "$F/dry.out"
log_check "user token: --dry-run sent no PUT/POST/DELETE" "count('PUT','.')+count('POST','.')+count('DELETE','.')==0"
hl_run user-dry-ok verify --kind "$KU" "${MG[@]}" --secret-file "$F/pages.env" --secret-name CF_PAGES_DEPLOY
hl_expect_rc 0 "user token: still the same value after --dry-run"

# A failing pre-check (a dead current secret) stops before the roll.
hl_log_reset
hl_run user-precheck rotate --kind "$KU" --id "$PID_" "${MG[@]}" --secret-file "$F/pages.0" --out "$F/pre.out" --json
hl_expect_rc 3 "user token: rotate with a dead current secret fails the pre-check"
hl_check "user token: a failed pre-check wrote no sink" test ! -e "$F/pre.out"
log_check "user token: a failed pre-check sent no roll" "count('PUT','.')==0"
hl_run user-precheck-ok verify --kind "$KU" "${MG[@]}" --secret-file "$F/pages.env" --secret-name CF_PAGES_DEPLOY
hl_expect_rc 0 "user token: unchanged after the failed pre-check"

# An --out that cannot be written (its directory does not exist) is known before the roll: the
# rotation must stop in the pre-check, before an in-place roll kills the old value and the new
# one has nowhere to go (docs: "a secret shown once and dropped is a lost credential").
hl_log_reset
hl_run user-badsink rotate --kind "$KU" --id "$PID_" "${MG[@]}" --secret-file "$F/pages.env" \
    --secret-name CF_PAGES_DEPLOY --out "$HL_T/no-such-dir/pages.env" "${V[@]}"
hl_expect_rc_not 0 "user token: rotate with an --out in a missing directory fails"
log_check "user token: an unwritable --out is refused before the roll (no PUT sent)" "count('PUT','.')==0"
hl_run user-badsink-ok verify --kind "$KU" "${MG[@]}" --secret-file "$F/pages.env" --secret-name CF_PAGES_DEPLOY
hl_expect_rc 0 "user token: the value is still the delivered one after the refused rotation"
if [ "$HL_RC" != 0 ]; then
    # keep the rest of the test meaningful: roll forward to a known value
    hl_run user-badsink-fix roll --kind "$KU" --id "$PID_" "${MG[@]}" --secret-name CF_PAGES_DEPLOY --out "$F/pages.env"
    hl_out_secrets "$F/pages.env" dotenv
fi

# ---- account token --------------------------------------------------------------------------------
hl_run acct-rotate rotate --kind "$KA" "${A[@]}" --id "$CID_" "${MG[@]}" --secret-file "$F/ci.0" --out "$F/ci.1" "${V[@]}" --json
hl_expect_rc 0 "account token: rotate"
hl_out_secrets "$F/ci.1" raw
hl_json_check "$HL_OUT" "account token: every step passed" "d['ok'] and steps_ok(d)"
hl_expect_mode600 "$F/ci.1" "account token: --out"
hl_check "account token: the new value is a cfat_ value" grep -q '^cfat_' "$F/ci.1"
hl_run acct-verify-new verify --kind "$KA" "${A[@]}" "${MG[@]}" --secret-file "$F/ci.1"
hl_expect_rc 0 "account token: the new value verifies"
hl_run acct-verify-old verify --kind "$KA" "${A[@]}" "${MG[@]}" --secret-file "$F/ci.0"
hl_expect_rc 3 "account token: the old value is dead"

# ---- service token: strategy rotate with a grace window, then --finish ----------------------------
hl_run st-rotate rotate --kind "$KS" "${A[@]}" --id "$CON" "${MG[@]}" --secret-file "$F/console.0" \
    --probe-url "$PROBE_CONSOLE" --grace 300 --out "$F/console.1" --secret-name CF_CONSOLE_PROBE \
    --audit "$F/st.audit" --journal "$F/st.journal" "${V[@]}" --json
hl_expect_rc 0 "service token (rotate, grace 300): rotate"
hl_out_secrets "$F/console.1" dotenv
hl_json_check "$HL_OUT" "service token (rotate): steps passed, stopped in the overlap with a finish command" \
    "d['ok'] and steps_ok(d) and d.get('overlap') is True and '--finish' in d.get('finish','')"
hl_expect_mode600 "$F/console.1" "service token (rotate): --out"
hl_check "service token (rotate): same client id, written as NAME__CLIENT_ID" \
    bash -c '[ "$(sed -n "s/^CF_CONSOLE_PROBE__CLIENT_ID=//p" "$1")" = "$2" ] && grep -q "^CF_CONSOLE_PROBE=." "$1"' _ "$F/console.1" "$CFEMU_ST_CONSOLE_PROBE_CLIENT_ID"
hl_run st-old-overlap verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/console.0" --probe-url "$PROBE_CONSOLE"
hl_expect_rc 0 "service token (rotate): the old secret still passes the probe during the overlap"
hl_run st-new verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/console.1" --secret-name CF_CONSOLE_PROBE --probe-url "$PROBE_CONSOLE"
hl_expect_rc 0 "service token (rotate): the new secret passes the probe"
hl_json_lines_check "$F/st.audit" "service token (rotate): audit completed with stage overlap" \
    "L[-1]['action']=='secret.rotate.completed' and L[-1]['context'].get('stage')=='overlap'"
hl_run st-finish rotate --finish --kind "$KS" "${A[@]}" --id "$CON" "${MG[@]}" --strategy rotate \
    --secret-file "$F/console.0" --probe-url "$PROBE_CONSOLE" --audit "$F/st.audit" --journal "$F/st.journal" --json
hl_expect_rc 0 "service token (rotate): rotate --finish"
hl_json_check "$HL_OUT" "service token (rotate): --finish steps passed" "d['ok'] and steps_ok(d)"
hl_run st-old-dead verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/console.0" --probe-url "$PROBE_CONSOLE"
hl_expect_rc 3 "service token (rotate): the old secret is dead after --finish"
hl_run st-new2 verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/console.1" --secret-name CF_CONSOLE_PROBE --probe-url "$PROBE_CONSOLE"
hl_expect_rc 0 "service token (rotate): the new secret still passes after --finish"

# ---- service token: strategy rotate with --grace 0 ----------------------------------------------------
hl_run st-grace0 rotate --kind "$KS" "${A[@]}" --id "$VAU" "${MG[@]}" --secret-file "$F/vault.0" \
    --probe-url "$PROBE_VAULT" --strategy rotate --grace 0 --out "$F/vault.1" "${V[@]}" --json
hl_expect_rc 0 "service token (rotate, --grace 0): rotate"
hl_out_secrets "$F/vault.1" dotenv
hl_json_check "$HL_OUT" "service token (--grace 0): steps passed, no overlap left" "d['ok'] and steps_ok(d) and not d.get('overlap')"
hl_run st-g0-old verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/vault.0" --probe-url "$PROBE_VAULT"
hl_expect_rc 3 "service token (--grace 0): the old secret is dead at once"
hl_run st-g0-new verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/vault.1" --probe-url "$PROBE_VAULT"
hl_expect_rc 0 "service token (--grace 0): the new secret passes"

# ---- service token: create-swap-delete at account level, then --finish ------------------------------
hl_log_reset
hl_run st-csd rotate --kind "$KS" "${A[@]}" --id "$VAU" "${MG[@]}" --secret-file "$F/vault.1" \
    --probe-url "$PROBE_VAULT" --strategy create-swap-delete --out "$F/vault.2" --audit "$F/csd.audit" "${V[@]}" --json
hl_expect_rc 0 "service token (create-swap-delete, account): rotate"
hl_out_secrets "$F/vault.2" dotenv
VNEW=$(hl_json_get "$HL_OUT" "d.get('new_id','')" 2>/dev/null)
hl_json_check "$HL_OUT" "create-swap-delete: a new id, an overlap until --finish" \
    "d['ok'] and steps_ok(d) and d['new_id'] not in ('', '$VAU') and d.get('overlap') is True"
hl_json_lines_check "$F/csd.audit" "create-swap-delete: the audit names old_token_id and new_token_id" \
    "L[-1]['action']=='secret.rotate.completed' and L[-1]['context'].get('old_token_id')=='$VAU' and L[-1]['context'].get('new_token_id')=='$VNEW' and L[-1]['context'].get('stage')=='overlap'"
log_check "create-swap-delete: one create, no delete yet" "count('POST', r'/access/service_tokens\$')==1 and count('DELETE','.')==0"
hl_check "create-swap-delete: a new client id in --out" \
    bash -c 'c=$(sed -n "s/^CF_ACCESS_CLIENT_ID=//p" "$1"); [ -n "$c" ] && [ "$c" != "$2" ]' _ "$F/vault.2" "$CFEMU_ST_VAULT_PROBE_CLIENT_ID"
hl_run st-csd-list list --kind "$KS" "${A[@]}" "${MG[@]}" --name "vault-probe.rot-$(hl_json_get "$HL_OUT" "d.get('run_id','')" 2>/dev/null)" --json
hl_json_check "$HL_OUT" "create-swap-delete: the new token is named <old name>.rot-<run_id>" \
    "d['ok'] and [i['id'] for i in d['result']['items']]==['$VNEW']"
hl_run st-csd-old-alive describe --kind "$KS" "${A[@]}" --id "$VAU" "${MG[@]}"
hl_expect_rc 0 "create-swap-delete: the old token still exists in the overlap"
hl_run st-csd-new verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/vault.2" --probe-url "$PROBE_VAULT"
hl_expect_rc 0 "create-swap-delete: the new token passes the any-valid-token app"
hl_run st-csd-finish rotate --finish --kind "$KS" "${A[@]}" --id "$VAU" "${MG[@]}" --strategy create-swap-delete \
    --secret-file "$F/vault.1" --probe-url "$PROBE_VAULT" --json
hl_expect_rc 0 "create-swap-delete: rotate --finish"
hl_run st-csd-old-gone describe --kind "$KS" "${A[@]}" --id "$VAU" "${MG[@]}"
hl_expect_rc 6 "create-swap-delete: the old token is deleted by --finish"
hl_run st-csd-old-dead verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/vault.1" --probe-url "$PROBE_VAULT"
hl_expect_rc 3 "create-swap-delete: the old secret is dead"
hl_run st-csd-new2 verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/vault.2" --probe-url "$PROBE_VAULT"
hl_expect_rc 0 "create-swap-delete: the new secret still passes"

# ---- service token: create-swap-delete at zone level with --grace 0 --------------------------------
hl_run zst-csd rotate --kind "$KS" "${Z[@]}" --id "$EDG" "${MG[@]}" --secret-file "$F/edge.0" \
    --probe-url "$PROBE_EDGE" --strategy create-swap-delete --grace 0 --out "$F/edge.1" "${V[@]}" --json
hl_expect_rc 0 "zone service token (create-swap-delete, --grace 0): rotate"
hl_out_secrets "$F/edge.1" dotenv
hl_json_check "$HL_OUT" "zone create-swap-delete: steps passed, finished in the run" "d['ok'] and steps_ok(d) and not d.get('overlap')"
ENEW=$(hl_json_get "$HL_OUT" "d.get('new_id','')" 2>/dev/null)
hl_run zst-old-gone describe --kind "$KS" "${Z[@]}" --id "$EDG" "${MG[@]}"
hl_expect_rc 6 "zone create-swap-delete: the old token was deleted"
hl_run zst-new verify --kind "$KS" "${Z[@]}" "${MG[@]}" --secret-file "$F/edge.1" --probe-url "$PROBE_EDGE"
hl_expect_rc 0 "zone create-swap-delete: the new token passes"
hl_run zst-old verify --kind "$KS" "${Z[@]}" "${MG[@]}" --secret-file "$F/edge.0" --probe-url "$PROBE_EDGE"
hl_expect_rc 3 "zone create-swap-delete: the old secret is dead"
# Zone level has no rotate endpoint: the default strategy there is create-swap-delete.
hl_run zst-default rotate --kind "$KS" "${Z[@]}" --id "${ENEW:-none}" "${MG[@]}" --secret-file "$F/edge.1" \
    --probe-url "$PROBE_EDGE" --grace 0 --out "$F/edge.2" "${V[@]}" --json
hl_expect_rc 0 "zone service token: rotate without --strategy (create-swap-delete by default)"
hl_out_secrets "$F/edge.2" dotenv
hl_run zst-default-new verify --kind "$KS" "${Z[@]}" "${MG[@]}" --secret-file "$F/edge.2" --probe-url "$PROBE_EDGE"
hl_expect_rc 0 "zone service token: the default-strategy rotation's secret passes"

# ---- the --exec sink failing: nothing revoked -------------------------------------------------
# (a) strategy rotate with an overlap: no overlap-ending PUT, the old secret still works.
hl_log_reset
hl_run exec-fail-rotate rotate --kind "$KS" "${A[@]}" --id "$CON" "${MG[@]}" --secret-file "$F/console.1" \
    --secret-name CF_CONSOLE_PROBE --probe-url "$PROBE_CONSOLE" --grace 300 --exec 'cat >/dev/null; exit 1' \
    --audit "$F/execfail.audit" --journal "$F/execfail.journal" "${V[@]}" --json
hl_expect_rc 9 "exec sink failing (strategy rotate): sink failure"
hl_json_check "$HL_OUT" "exec sink failing: --json says sink failure" "d['ok'] is False and d['exit_code']==9"
log_check "exec sink failing (rotate): the roll happened, nothing revoked (no PUT, no DELETE)" \
    "count('POST', r'/service_tokens/$CON/rotate\$')==1 and count('PUT','.')==0 and count('DELETE','.')==0"
hl_run exec-fail-old verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/console.1" --secret-name CF_CONSOLE_PROBE --probe-url "$PROBE_CONSOLE"
hl_expect_rc 0 "exec sink failing (rotate): the old secret still passes the probe"
hl_json_lines_check "$F/execfail.audit" "exec sink failing: audit says failed" "L[-1]['action']=='secret.rotate.failed'"
# (b) create-swap-delete with --grace 0: the old token is not deleted.
hl_log_reset
hl_run exec-fail-csd rotate --kind "$KS" "${A[@]}" --id "${VNEW:-none}" "${MG[@]}" --secret-file "$F/vault.2" \
    --probe-url "$PROBE_VAULT" --strategy create-swap-delete --grace 0 --exec 'cat >/dev/null; exit 1' "${V[@]}"
hl_expect_rc 9 "exec sink failing (create-swap-delete, --grace 0): sink failure"
log_check "exec sink failing (create-swap-delete): no DELETE, no PUT" "count('DELETE','.')==0 and count('PUT','.')==0"
hl_run exec-fail-csd-old describe --kind "$KS" "${A[@]}" --id "${VNEW:-none}" "${MG[@]}"
hl_expect_rc 0 "exec sink failing (create-swap-delete): the old token still exists"
hl_run exec-fail-csd-oldv verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/vault.2" --probe-url "$PROBE_VAULT"
hl_expect_rc 0 "exec sink failing (create-swap-delete): the old secret still passes"
# (c) a working --exec sink gets the secret on stdin and metadata in its environment.
hl_run exec-ok rotate --kind "$KA" "${A[@]}" --id "$CID_" "${MG[@]}" --secret-file "$F/ci.1" \
    --secret-name CF_CI_READONLY --exec "cat >'$F/exec.stdin'; env >'$F/exec.env'" "${V[@]}"
hl_expect_rc 0 "a working --exec sink"
chmod 600 "$F/exec.env" 2>/dev/null
hl_out_secrets "$F/exec.stdin" dotenv
hl_check "--exec: the secret in the --out format on stdin" grep -q '^CF_CI_READONLY=cfat_' "$F/exec.stdin"
hl_check "--exec: ROTP_SECRET_NAME, ROTP_ID and ROTP_KIND in its environment" \
    bash -c 'grep -qx "ROTP_SECRET_NAME=CF_CI_READONLY" "$1" && grep -qx "ROTP_ID=$2" "$1" && grep -qx "ROTP_KIND=cloudflare.account_token" "$1"' _ "$F/exec.env" "$CID_"
hl_no_secrets "--exec: no secret in the sink's environment" "$F/exec.env"
hl_run exec-ok-verify verify --kind "$KA" "${A[@]}" "${MG[@]}" --secret-file "$F/exec.stdin" --secret-name CF_CI_READONLY
hl_expect_rc 0 "--exec: the value it received verifies"

hl_no_secrets "no secret in any captured stdout/stderr, audit or journal" "$HL_T"/cap/* "$F"/*.audit "$F"/*.journal
hl_done
