#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_harness_ops.sh - rotp-harness's single-operation commands through the real cloudflare.so
# against cfemu over TLS (issue 6, docs/rotp-harness.md):
#   info; describe, roll, verify, revoke, list, provision for cloudflare.user_token,
#   cloudflare.account_token and cloudflare.access_service_token (account and zone level);
#   the secret sources (--secret-file, --secret-stdin, --secret-env) and the management token
#   from the environment; --json output parses; the documented exit codes (usage 2,
#   verification failed 3, credential invalid 4, permission denied 5, not found 6, provider
#   not loaded 10); --help.
. "$(dirname "${BASH_SOURCE[0]}")/harness_lib.sh"
hl_init
hl_cfemu_start

FUT=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)
POL='[{"effect":"allow","permission_groups":[{"id":"c8fed203ed3043cba015a93ad1616f1f","name":"Zone Read"}],"resources":{"com.cloudflare.api.account.zone.'$ZONE'":"*"}}]'

# ---- info ----------------------------------------------------------------------------------------
hl_run info info
hl_expect_rc 0 "info"
hl_check "info prints the provider name and every kind" \
    bash -c 'grep -q cloudflare "$1" && grep -q cloudflare.user_token "$1" && grep -q cloudflare.account_token "$1" && grep -q cloudflare.access_service_token "$1"' _ "$HL_OUT"
hl_run info-json info --json
hl_expect_rc 0 "info --json"
hl_json_check "$HL_OUT" "info --json: name, ABI 1, the three kinds, the sha256 of the file" \
    "d['ok'] is True and d['provider']['name']=='cloudflare' and d['provider']['abi_major']==1 and set(d['provider']['kinds'])=={'$KU','$KA','$KS'} and d['sha256']=='$(sha256sum "$ROTP_PLUGIN" | cut -c1-64)'"

# ---- API tokens: every command -------------------------------------------------------------------
# api_token_ops TAG KIND ID NAME CURRENT_SECRET_FILE [scope args...]
api_token_ops() {
    local tag=$1 kind=$2 id=$3 name=$4 cur=$5
    shift 5
    local sc=("$@") pid

    hl_run "$tag-describe" describe --kind "$kind" --id "$id" "${sc[@]}" "${MG[@]}" --json
    hl_expect_rc 0 "$tag: describe --id"
    hl_json_check "$HL_OUT" "$tag: describe gives id, name, status active, scopes" \
        "d['ok'] and d['command']=='describe' and d['result']['id']=='$id' and d['result']['name']=='$name' and d['result']['status']=='active' and len(d['result'].get('scopes',''))>0"
    hl_run "$tag-describe-human" describe --kind "$kind" --id "$id" "${sc[@]}" "${MG[@]}"
    hl_expect_rc 0 "$tag: describe (human)"
    hl_check "$tag: human describe shows the name" grep -q "$name" "$HL_OUT"

    hl_run "$tag-describe-kind" describe --kind "$kind" "${sc[@]}" "${MG[@]}" --json
    hl_expect_rc 0 "$tag: describe without --id (what the kind supports)"
    hl_json_check "$HL_OUT" "$tag: describe without --id lists the operations" \
        "d['ok'] and 'roll' in d['result'].get('operations','')"

    hl_run "$tag-verify-cur" verify --kind "$kind" --id "$id" "${sc[@]}" "${MG[@]}" --secret-file "$cur" --json
    hl_expect_rc 0 "$tag: verify the current secret"
    hl_json_check "$HL_OUT" "$tag: verify says active and names the id" \
        "d['ok'] and d['result']['state']=='active' and d['result']['id']=='$id'"

    hl_run "$tag-roll" roll --kind "$kind" --id "$id" "${sc[@]}" "${MG[@]}" --out "$F/$tag.1" --json
    hl_expect_rc 0 "$tag: roll --out"
    hl_out_secrets "$F/$tag.1" raw
    hl_expect_mode600 "$F/$tag.1" "$tag: roll's --out file"
    hl_json_check "$HL_OUT" "$tag: roll --json shows the secret only as a marker" \
        "d['ok'] and d['result']['id']=='$id' and isinstance(d['result'].get('secret'), dict) and d['result']['secret'].get('secret') is True and 'out' in d['result']['secret'].get('delivered_to',[])"
    hl_check "$tag: the --out file is one line (the value and a newline)" \
        bash -c '[ "$(wc -l <"$1")" = 1 ] && [ "$(wc -c <"$1")" -gt 20 ]' _ "$F/$tag.1"

    hl_run "$tag-verify-old" verify --kind "$kind" "${sc[@]}" "${MG[@]}" --secret-file "$cur" --json
    hl_expect_rc 3 "$tag: verify the rolled-away value (verification failed)"
    hl_json_check "$HL_OUT" "$tag: the old value is invalid" \
        "d['ok'] is False or d['result']['state']=='invalid'"
    hl_run "$tag-verify-new" verify --kind "$kind" "${sc[@]}" "${MG[@]}" --secret-file "$F/$tag.1"
    hl_expect_rc 0 "$tag: verify the new value (--secret-file)"
    HL_STDIN=$F/$tag.1 hl_run "$tag-verify-stdin" verify --kind "$kind" "${sc[@]}" "${MG[@]}" --secret-stdin
    hl_expect_rc 0 "$tag: verify the new value (--secret-stdin)"
    HT_SECRET=$(<"$F/$tag.1") hl_run "$tag-verify-env" verify --kind "$kind" "${sc[@]}" "${MG[@]}" --secret-env HT_SECRET
    hl_expect_rc 0 "$tag: verify the new value (--secret-env)"

    hl_run "$tag-list" list --kind "$kind" "${sc[@]}" "${MG[@]}" --json
    hl_expect_rc 0 "$tag: list"
    hl_json_check "$HL_OUT" "$tag: list has the token" \
        "d['ok'] and any(i.get('id')=='$id' for i in d['result']['items'])"
    hl_run "$tag-list-name" list --kind "$kind" "${sc[@]}" "${MG[@]}" --name "$name" --json
    hl_expect_rc 0 "$tag: list --name"
    hl_json_check "$HL_OUT" "$tag: list --name has only that name" \
        "d['ok'] and len(d['result']['items'])>=1 and all(i.get('name')=='$name' for i in d['result']['items'])"

    hl_run "$tag-provision" provision --kind "$kind" "${sc[@]}" "${MG[@]}" --name "htest-$tag" \
        --param "policies=$POL" --param "expires_on=$FUT" --out "$F/$tag.p" --json
    hl_expect_rc 0 "$tag: provision"
    hl_out_secrets "$F/$tag.p" raw
    hl_expect_mode600 "$F/$tag.p" "$tag: provision's --out file"
    pid=$(hl_json_get "$HL_OUT" "d['result']['id']" 2>/dev/null)
    hl_check "$tag: provision returns a new 32-hex id" bash -c '[[ $1 =~ ^[0-9a-f]{32}$ ]] && [ "$1" != "$2" ]' _ "$pid" "$id"
    hl_run "$tag-verify-prov" verify --kind "$kind" "${sc[@]}" "${MG[@]}" --secret-file "$F/$tag.p"
    hl_expect_rc 0 "$tag: the provisioned secret is active"

    hl_run "$tag-revoke" revoke --kind "$kind" --id "$pid" "${sc[@]}" "${MG[@]}" --json
    hl_expect_rc 0 "$tag: revoke"
    hl_json_check "$HL_OUT" "$tag: revoke says revoked" "d['ok'] and d['result']['state']=='revoked'"
    hl_run "$tag-revoke-again" revoke --kind "$kind" --id "$pid" "${sc[@]}" "${MG[@]}" --json
    hl_expect_rc 0 "$tag: revoke twice is safe"
    hl_json_check "$HL_OUT" "$tag: second revoke says absent" "d['ok'] and d['result']['state']=='absent'"
    hl_run "$tag-describe-gone" describe --kind "$kind" --id "$pid" "${sc[@]}" "${MG[@]}" --json
    hl_expect_rc 6 "$tag: describe a revoked token (not found)"
    hl_json_check "$HL_OUT" "$tag: not found in --json" \
        "d['ok'] is False and d['exit_code']==6 and d['error']['code']=='NOT_FOUND'"
    hl_run "$tag-verify-gone" verify --kind "$kind" "${sc[@]}" "${MG[@]}" --secret-file "$F/$tag.p"
    hl_expect_rc 3 "$tag: the revoked secret no longer verifies"
}

api_token_ops user "$KU" "$CFEMU_TOKEN_PAGES_DEPLOY_ID" pages-deploy "$F/pages.0"
api_token_ops account "$KA" "$CFEMU_TOKEN_CI_READONLY_ID" ci-readonly "$F/ci.0" --account "$ACC"

# ---- service tokens, account level ---------------------------------------------------------------
A=(--account "$ACC")
VID=$CFEMU_ST_VAULT_PROBE_ID
hl_run st-describe describe --kind "$KS" --id "$VID" "${A[@]}" "${MG[@]}" --json
hl_expect_rc 0 "st: describe"
hl_json_check "$HL_OUT" "st: describe gives id, name, client id, enabled" \
    "d['ok'] and d['result']['id']=='$VID' and d['result']['name']=='vault-probe' and d['result']['client_id']=='$CFEMU_ST_VAULT_PROBE_CLIENT_ID' and 'expires_at' in d['result']"
hl_run st-describe-kind describe --kind "$KS" "${A[@]}" "${MG[@]}" --json
hl_expect_rc 0 "st: describe without --id"
hl_json_check "$HL_OUT" "st: describe without --id names both strategies" \
    "d['ok'] and 'rotate' in d['result'].get('strategies','') and 'create-swap-delete' in d['result'].get('strategies','')"

hl_run st-verify-cur verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/vault.0" --probe-url "$PROBE_VAULT" --json
hl_expect_rc 0 "st: verify the current secret with the probe"
hl_json_check "$HL_OUT" "st: active, probe 200" \
    "d['ok'] and d['result']['state']=='active' and str(d['result']['probe_status'])=='200'"
hl_run st-verify-console verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/console.0" --probe-url "$PROBE_CONSOLE"
hl_expect_rc 0 "st: verify console-probe against its app"
hl_run st-verify-wrongapp verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/vault.0" --probe-url "$PROBE_CONSOLE" --json
hl_expect_rc 3 "st: a token the app's policy does not admit fails verification"
hl_json_check "$HL_OUT" "st: probe 403 reported" "str(d.get('result',{}).get('probe_status'))=='403' or '403' in json.dumps(d)"

hl_run st-roll roll --kind "$KS" --id "$VID" "${A[@]}" "${MG[@]}" --strategy rotate --grace 600 --out "$F/vault.1" --json
hl_expect_rc 0 "st: roll (strategy rotate, grace 600)"
hl_out_secrets "$F/vault.1" dotenv
hl_expect_mode600 "$F/vault.1" "st: roll's --out file"
hl_check "st: the --out file holds CF_ACCESS_CLIENT_ID (unchanged) and CF_ACCESS_CLIENT_SECRET" \
    bash -c '[ "$(sed -n "s/^CF_ACCESS_CLIENT_ID=//p" "$1")" = "$2" ] && grep -q "^CF_ACCESS_CLIENT_SECRET=." "$1"' _ "$F/vault.1" "$CFEMU_ST_VAULT_PROBE_CLIENT_ID"
hl_json_check "$HL_OUT" "st: roll --json: same id, an overlap end, no secret value" \
    "d['ok'] and d['result']['id']=='$VID' and d['result'].get('previous_secret_expires_at') and isinstance(d['result'].get('client_secret'), dict)"
hl_run st-verify-new verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/vault.1" --probe-url "$PROBE_VAULT"
hl_expect_rc 0 "st: the new secret passes the probe"
hl_run st-verify-old-overlap verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/vault.0" --probe-url "$PROBE_VAULT"
hl_expect_rc 0 "st: the old secret still passes inside the overlap"
hl_run st-revoke-overlap revoke --kind "$KS" --id "$VID" "${A[@]}" "${MG[@]}" --strategy rotate --json
hl_expect_rc 0 "st: revoke --strategy rotate (end the overlap)"
hl_run st-verify-old-dead verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/vault.0" --probe-url "$PROBE_VAULT" --json
hl_expect_rc 3 "st: the old secret is dead after the overlap ends"
hl_run st-verify-new2 verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/vault.1" --probe-url "$PROBE_VAULT"
hl_expect_rc 0 "st: the new secret still passes"

hl_run st-list list --kind "$KS" "${A[@]}" "${MG[@]}" --json
hl_expect_rc 0 "st: list"
hl_json_check "$HL_OUT" "st: list has the two account-level seeded tokens" \
    "d['ok'] and {'$VID','$CFEMU_ST_CONSOLE_PROBE_ID'} <= {i.get('id') for i in d['result']['items']}"
hl_run st-list-name list --kind "$KS" "${A[@]}" "${MG[@]}" --name vault-probe --json
hl_expect_rc 0 "st: list --name"
hl_json_check "$HL_OUT" "st: list --name vault-probe gives exactly it" \
    "d['ok'] and [i.get('id') for i in d['result']['items']]==['$VID']"

hl_run st-provision provision --kind "$KS" "${A[@]}" "${MG[@]}" --name htest-st --param duration=1h --out "$F/st.p" --json
hl_expect_rc 0 "st: provision"
hl_out_secrets "$F/st.p" dotenv
hl_expect_mode600 "$F/st.p" "st: provision's --out file"
SPID=$(hl_json_get "$HL_OUT" "d['result']['id']" 2>/dev/null)
hl_check "st: provision returns a UUID" bash -c '[[ $1 =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]' _ "$SPID"
hl_run st-verify-prov verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/st.p" --probe-url "$PROBE_VAULT"
hl_expect_rc 0 "st: the provisioned token passes an any-valid-token app"
hl_run st-revoke-prov revoke --kind "$KS" --id "$SPID" "${A[@]}" "${MG[@]}" --strategy create-swap-delete --json
hl_expect_rc 0 "st: revoke (delete) the provisioned token"
hl_json_check "$HL_OUT" "st: revoked" "d['ok'] and d['result']['state']=='revoked'"
hl_run st-revoke-prov2 revoke --kind "$KS" --id "$SPID" "${A[@]}" "${MG[@]}" --strategy create-swap-delete --json
hl_expect_rc 0 "st: revoke twice"
hl_json_check "$HL_OUT" "st: absent" "d['ok'] and d['result']['state']=='absent'"
hl_run st-describe-gone describe --kind "$KS" --id "$SPID" "${A[@]}" "${MG[@]}"
hl_expect_rc 6 "st: describe a deleted token (not found)"
hl_run st-verify-gone verify --kind "$KS" "${A[@]}" "${MG[@]}" --secret-file "$F/st.p" --probe-url "$PROBE_VAULT"
hl_expect_rc 3 "st: the deleted token fails verification"

# ---- service tokens, zone level ------------------------------------------------------------------
Z=(--zone "$ZONE")
EID=$CFEMU_ST_EDGE_PROBE_ID
hl_run zst-describe describe --kind "$KS" --id "$EID" "${Z[@]}" "${MG[@]}" --json
hl_expect_rc 0 "zone st: describe"
hl_json_check "$HL_OUT" "zone st: describe gives edge-probe" "d['ok'] and d['result']['name']=='edge-probe'"
hl_run zst-verify verify --kind "$KS" "${Z[@]}" "${MG[@]}" --secret-file "$F/edge.0" --probe-url "$PROBE_EDGE"
hl_expect_rc 0 "zone st: verify with the probe"
hl_run zst-roll roll --kind "$KS" --id "$EID" "${Z[@]}" "${MG[@]}" --strategy create-swap-delete --out "$F/edge.1" --json
hl_expect_rc 0 "zone st: roll (create-swap-delete)"
hl_out_secrets "$F/edge.1" dotenv
hl_expect_mode600 "$F/edge.1" "zone st: roll's --out file"
ENEW=$(hl_json_get "$HL_OUT" "d['result']['id']" 2>/dev/null)
hl_json_check "$HL_OUT" "zone st: a new id, replaced_id = the old id" \
    "d['ok'] and d['result']['id']!='$EID' and d['result']['replaced_id']=='$EID'"
hl_run zst-verify-new verify --kind "$KS" "${Z[@]}" "${MG[@]}" --secret-file "$F/edge.1" --probe-url "$PROBE_EDGE"
hl_expect_rc 0 "zone st: the new token passes"
hl_run zst-list list --kind "$KS" "${Z[@]}" "${MG[@]}" --json
hl_expect_rc 0 "zone st: list"
hl_json_check "$HL_OUT" "zone st: list has the old and the new token" \
    "d['ok'] and {'$EID','$ENEW'} <= {i.get('id') for i in d['result']['items']}"
hl_run zst-revoke-old revoke --kind "$KS" --id "$EID" "${Z[@]}" "${MG[@]}" --strategy create-swap-delete
hl_expect_rc 0 "zone st: revoke (delete) the old token"
hl_run zst-verify-old verify --kind "$KS" "${Z[@]}" "${MG[@]}" --secret-file "$F/edge.0" --probe-url "$PROBE_EDGE"
hl_expect_rc 3 "zone st: the old token is dead"
hl_run zst-provision provision --kind "$KS" "${Z[@]}" "${MG[@]}" --name htest-zst --param duration=1h --out "$F/zst.p" --json
hl_expect_rc 0 "zone st: provision"
hl_out_secrets "$F/zst.p" dotenv
ZPID=$(hl_json_get "$HL_OUT" "d['result']['id']" 2>/dev/null)
hl_run zst-revoke-prov revoke --kind "$KS" --id "${ZPID:-none}" "${Z[@]}" "${MG[@]}" --strategy create-swap-delete
hl_expect_rc 0 "zone st: revoke the provisioned token"

# ---- where the management token and the account come from --------------------------------------
CF_ACCESS_MGMT=$(<"$F/mgmt.tok") CF_ACCOUNT_ID=$ACC hl_run env-mgmt describe --kind "$KA" --id "$CFEMU_TOKEN_CI_READONLY_ID"
hl_expect_rc 0 "management token from \$CF_ACCESS_MGMT, account from \$CF_ACCOUNT_ID"
CLOUDFLARE_API_TOKEN=$(<"$F/mgmt.tok") hl_run env-mgmt-legacy describe --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID"
hl_expect_rc 0 "management token from \$CLOUDFLARE_API_TOKEN"
CF_ACCESS_MGMT=$(<"$F/readonly.tok") CLOUDFLARE_API_TOKEN=$(<"$F/mgmt.tok") hl_run env-mgmt-order describe --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID"
hl_expect_rc 2 "\$CF_ACCESS_MGMT and \$CLOUDFLARE_API_TOKEN that disagree are refused (rotp.h: a host must refuse)"
hl_check "the refusal names both variables" bash -c 'grep -q "CF_ACCESS_MGMT and \$CLOUDFLARE_API_TOKEN disagree" "$1"' _ "$HL_ERR"
CF_ACCOUNT_ID=$ACC CLOUDFLARE_ACCOUNT_ID=0123456789abcdef0123456789abcdef hl_run env-acc-disagree describe "${MG[@]}" --kind "$KA" --id "$CFEMU_TOKEN_CI_READONLY_ID"
hl_expect_rc 2 "\$CF_ACCOUNT_ID and \$CLOUDFLARE_ACCOUNT_ID that disagree are refused"
hl_check "the refusal names both account variables" grep -q 'CF_ACCOUNT_ID and \$CLOUDFLARE_ACCOUNT_ID disagree' "$HL_ERR"
hl_run keyflag describe "${MG[@]}" --kind "$KA" --account-id "$ACC" --id "$CFEMU_TOKEN_CI_READONLY_ID"
hl_expect_rc 0 "--account-id: a flag derived from the descriptor's request key account_id"
# issue 13.6: a TLS failure suggests --ca-file; CLOUDFLARE_API_BASE_URL is honoured
timeout 60 "$ROTP_HARNESS" describe --plugin "$ROTP_PLUGIN" --api-base "$HL_API" --token-file "$F/mgmt.tok" \
    --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" >"$HL_T/tls.out" 2>"$HL_T/tls.err"
HL_RC=$?
hl_expect_rc 1 "describe against cfemu without its CA: TLS failure"
hl_check "the TLS failure suggests --ca-file" grep -q -- "--ca-file" "$HL_T/tls.err"
CLOUDFLARE_API_BASE_URL=$HL_API timeout 60 "$ROTP_HARNESS" describe --plugin "$ROTP_PLUGIN" --ca-file "$HL_CA" \
    --token-file "$F/mgmt.tok" --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" >"$HL_T/apibase.out" 2>"$HL_T/apibase.err"
HL_RC=$?
hl_expect_rc 0 "\$CLOUDFLARE_API_BASE_URL is the API base when --api-base is not given"
hl_run keyflag-unknown describe "${MG[@]}" --kind "$KU" --account-id "$ACC" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID"
hl_expect_rc 2 "--account-id for a kind without account_id is an unknown option"

# ---- exit codes ----------------------------------------------------------------------------------
hl_run_raw usage-nocmd
hl_expect_rc 2 "no command: usage error"
hl_run_raw usage-badcmd frobnicate
hl_expect_rc 2 "unknown command: usage error"
hl_run usage-badopt describe --kind "$KU" --no-such-option "${MG[@]}"
hl_expect_rc 2 "unknown option: usage error"
hl_run usage-nokind describe --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}"
hl_expect_rc 2 "describe without --kind: usage error"
hl_run usage-secretparam describe --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" --param secret=notreallyasecret
hl_expect_rc 2 "--param secret=...: refused (usage error)"
hl_run usage-nosink roll --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}"
hl_expect_rc 2 "roll without a sink: usage error"
hl_run usage-badid describe --kind "$KU" --id not-an-id "${MG[@]}" --json
hl_expect_rc 2 "a malformed id: usage error (provider INVALID_ARGUMENT)"
hl_json_check "$HL_OUT" "usage error in --json" "d['ok'] is False and d['exit_code']==2"
hl_run usage-badkind describe --kind cloudflare.no_such_kind "${MG[@]}"
hl_expect_rc 2 "an unknown kind: usage error"
hl_run usage-verify-nosecret verify --kind "$KU" "${MG[@]}"
hl_expect_rc 2 "verify without a secret source: usage error"
hl_run usage-config-token describe --kind "$KU" "${MG[@]}" --config api_token=x
hl_expect_rc 2 "--config api_token=...: refused"

hl_run usage-clientsecret describe --kind "$KS" --id "$VID" "${A[@]}" "${MG[@]}" --param client_secret=notreallyasecret
hl_expect_rc 2 "--param client_secret=...: refused (usage error)"
hl_run usage-apitoken-param describe --kind "$KU" "${MG[@]}" --param api_token=notreallyasecret
hl_expect_rc 2 "--param api_token=...: refused (usage error)"

# rate limited: a 429 on a roll (a PUT: never retried) -> 7, with retry_after_ms in --json
hl_fault '{"method":"PUT","path":"/client/v4/user/tokens/*/value","kind":"rate_limit","retry_after":1,"count":1}'
hl_run ratelimited roll --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" --out "$F/rl.out" --json
hl_expect_rc 7 "a 429 on roll: rate limited"
hl_json_check "$HL_OUT" "rate limited in --json" "d['ok'] is False and d['exit_code']==7 and d['error']['code']=='RATE_LIMITED' and d['error']['retry_after_ms']>0"
hl_check "a rate-limited roll writes no sink" test ! -e "$F/rl.out"
# other failure: deleting a service token an Access policy still names (12139, conflict) -> 1
hl_run conflict revoke --kind "$KS" --id "$CFEMU_ST_CONSOLE_PROBE_ID" "${A[@]}" "${MG[@]}" --strategy create-swap-delete --json
hl_expect_rc 1 "deleting a service token a policy names: other failure (conflict)"
hl_json_check "$HL_OUT" "conflict in --json" "d['ok'] is False and d['exit_code']==1 and d['error']['code']=='CONFLICT' and d['error']['api_code']==12139"
hl_run conflict-still describe --kind "$KS" --id "$CFEMU_ST_CONSOLE_PROBE_ID" "${A[@]}" "${MG[@]}"
hl_expect_rc 0 "the referenced token was not deleted"

hl_run notfound describe --kind "$KU" --id 0123456789abcdef0123456789abcdef "${MG[@]}" --json
hl_expect_rc 6 "describe an unknown id: not found"
hl_json_check "$HL_OUT" "not found in --json" "d['ok'] is False and d['exit_code']==6 and d['error']['code']=='NOT_FOUND'"
hl_run notfound-st describe --kind "$KS" --id 01234567-89ab-4cde-8f01-23456789abcd "${A[@]}" "${MG[@]}"
hl_expect_rc 6 "describe an unknown service token: not found"

hl_run denied describe --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" --token-file "$F/readonly.tok" --json
hl_expect_rc 5 "READONLY as the management token: permission denied"
hl_json_check "$HL_OUT" "permission denied in --json" "d['ok'] is False and d['exit_code']==5 and d['error']['code']=='PERMISSION_DENIED' and d['error']['http_status']==403"
hl_run denied-roll roll --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" --token-file "$F/readonly.tok" --out "$F/denied.out"
hl_expect_rc 5 "READONLY cannot roll"
hl_check "a denied roll writes no --out file" test ! -e "$F/denied.out"
hl_run denied-st describe --kind "$KS" --id "$VID" "${A[@]}" --token-file "$F/readonly.tok"
hl_expect_rc 5 "READONLY cannot read service tokens"

hl_run credinvalid describe --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" --token-file "$F/bogus.tok" --json
hl_expect_rc 4 "a bogus management token: credential invalid"
hl_json_check "$HL_OUT" "credential invalid in --json" "d['ok'] is False and d['exit_code']==4 and d['error']['code']=='CREDENTIAL_INVALID'"
hl_run credinvalid-st list --kind "$KS" "${A[@]}" --token-file "$F/bogus.tok"
hl_expect_rc 4 "a bogus management token on service tokens: credential invalid"

hl_run verify-bogus verify --kind "$KU" "${MG[@]}" --secret-file "$F/bogus.tok" --json
hl_expect_rc 3 "verify a bogus secret: verification failed"
hl_json_check "$HL_OUT" "verify --json of a bogus secret parses" "d['result']['state']=='invalid' if d.get('result') else d['exit_code']==3"

hl_run_raw noplugin info --plugin "$HL_T/no-such-provider.so"
hl_expect_rc 10 "a missing provider file: exit 10"
hl_run_raw noplugin-json info --plugin "$HL_T/no-such-provider.so" --json
hl_expect_rc 10 "a missing provider file (--json): exit 10"
hl_json_check "$HL_OUT" "load failure in --json" "d['ok'] is False and d['exit_code']==10"

hl_run_raw help help
hl_expect_rc 0 "help"
for c in info describe roll verify revoke list provision rotate resume sandbox demo; do
    hl_run_raw "help-$c" "$c" --help
    if [ "$HL_RC" = 0 ] && grep -q "$c" "$HL_OUT"; then hl_pass "$c --help"; else hl_fail "$c --help (exit $HL_RC)"; fi
done

# ---- no secret in anything this test captured ----------------------------------------------------
hl_no_secrets "no secret in any captured stdout/stderr" "$HL_T"/cap/*
hl_done
