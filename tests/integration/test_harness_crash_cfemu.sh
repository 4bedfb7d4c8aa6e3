#!/bin/bash
# SPDX-License-Identifier: MIT
# test_harness_crash_cfemu.sh - issue 14.4 against the real Cloudflare provider and cfemu over
# TLS: rotp-harness-killpoints kills itself (SIGKILL) at the Nth checkpoint (every provider send,
# journal write, and the sink's write, fsync and rename) of `rotate`, for every N and every
# strategy: user token in place, account token in place, service token `rotate` with a grace
# overlap, its `rotate --finish`, service token `rotate --grace 0`, and zone create-swap-delete.
# After each kill, `resume` is killed at its Nth checkpoint too, then a last `resume` finishes.
# Then: the sink's secret verifies against cfemu, the old one is dead (or in its overlap), cfemu
# holds no orphan token (its state endpoint), and no `.NAME.rotp-*` file is left beside the
# sink. One cfemu for the whole sweep: each case rotates the credential the previous case left.
. "$(dirname "${BASH_SOURCE[0]}")/harness_lib.sh"
: "${ROTP_HARNESS_KILLPOINTS:?the kill-point build rotp-harness-killpoints}"
hl_init
hl_cfemu_start

A=(--account "$ACC")
Z=(--zone "$ZONE")
V=(--verify-delay-ms 1 --verify-tries 3)
NET=(--plugin "$ROTP_PLUGIN" --api-base "$HL_API" --ca-file "$HL_CA")
O=$HL_T/out
J=$HL_T/crash.journal
MAXN=60
TOTAL=0

# kp KILL_AT ARGS...: the kill-point build (bounded); its exit status in KP_RC.
kp() {
    local n=$1
    shift
    {
        ROTP_HARNESS_KILL_AT=$n timeout -k 5 "$HL_TIMEOUT" "$ROTP_HARNESS_KILLPOINTS" "$@" "${NET[@]}" \
            </dev/null >"$HL_T/kp.out" 2>"$HL_T/kp.err"
    } 2>/dev/null
    KP_RC=$?
}

# state_check DESC PYEXPR: over d = cfemu's state (no secrets in it).
state_check() {
    hl_state_get "$HL_T/st.json" || return 1
    hl_json_check "$HL_T/st.json" "$1" "$2" >/dev/null || { hl_fail "$1"; return 1; }
    return 0
}

tmp_left() { ls -A "$O" | grep -q '\.rotp-'; }

# after TAG KINDARGS OLDFILE OLDWANT NEWID-EXPR: the checks after a (killed) run and resume.
# OLDWANT: 3 (dead), 03 (0 or 3: in its overlap), gone:ID (the old token deleted).
checks() {
    local tag=$1 sink=$2 old=$3 want=$4
    shift 4
    local kind=("$@") rc
    if [ ! -s "$sink" ]; then hl_fail "$tag: no sink"; return 1; fi
    hl_out_secrets "$sink" "$SINKFMT"
    hl_run "$tag-new" verify "${MG[@]}" --secret-file "$sink" "${kind[@]}"
    [ "$HL_RC" = 0 ] || { hl_fail "$tag: the sink's secret does not verify (exit $HL_RC)"; hl_show_last; }
    case $want in
    gone:*)
        hl_run "$tag-old" describe "${kind[@]:0:4}" --id "${want#gone:}" "${MG[@]}"
        [ "$HL_RC" = 6 ] || hl_fail "$tag: the old token still exists (describe exit $HL_RC)"
        ;;
    *)
        hl_run "$tag-old" verify "${MG[@]}" --secret-file "$old" "${kind[@]}"
        rc=$HL_RC
        case $want in
        3) [ "$rc" = 3 ] || hl_fail "$tag: the old secret is not dead (verify exit $rc)" ;;
        03) [ "$rc" = 0 ] || [ "$rc" = 3 ] || hl_fail "$tag: verifying the old secret: exit $rc" ;;
        esac
        ;;
    esac
    state_check "$tag: no orphan token in cfemu" "$NOORPHAN"
    if tmp_left; then hl_fail "$tag: a temporary file remains beside the sink: $(ls -A "$O" | grep rotp-)"; fi
    HL_CHECKS=$((HL_CHECKS + 1))
}

# sweep NAME OLDWANT ROTATE-ARGS...: for n = 1.. until rotate completes without a kill.
# Uses $CUR (the current secret, a file), $KINDV (kind args for verify) and $SINKFMT; after
# each case the sink becomes $CUR. For create-swap-delete, NEWID_FN updates the id.
sweep() {
    local name=$1 want=$2 n=1 w
    shift 2
    while :; do
        rm -rf "$O" "$J"
        mkdir -p "$O"
        cp "$CUR" "$HL_T/old" && chmod 600 "$HL_T/old"
        w=$want
        [ "$want" = gone ] && w=gone:$ID
        kp "$n" rotate "$@" --id "$ID" --secret-file "$HL_T/old" --out "$O/sink" --journal "$J"
        TOTAL=$((TOTAL + 1))
        if [ "$KP_RC" != 137 ]; then
            [ "$KP_RC" = 0 ] || { hl_fail "$name: rotate without a kill at $n ended $KP_RC"; hl_show "$HL_T/kp.err"; }
            checks "$name: uninterrupted" "$O/sink" "$HL_T/old" "$w" "${KINDV[@]}"
            advance
            break
        fi
        kp "$n" resume "${MG[@]}" --secret-file "$HL_T/old" --journal "$J" "${V[@]}"
        hl_run "$name-$n-resume" resume "${MG[@]}" --secret-file "$HL_T/old" --journal "$J" "${V[@]}"
        TOTAL=$((TOTAL + 2))
        if [ "$HL_RC" != 0 ]; then
            hl_fail "$name: kill at $n: resume ended $HL_RC"
            hl_show_last
        elif [ ! -s "$O/sink" ]; then
            # killed before anything changed: nothing was rolled, the old secret still works
            hl_run "$name-$n-cur" verify "${MG[@]}" --secret-file "$HL_T/old" "${KINDV[@]}"
            [ "$HL_RC" = 0 ] || hl_fail "$name: kill at $n: no sink and the old secret fails ($HL_RC)"
            state_check "$name: kill at $n: no orphan token in cfemu" "$NOORPHAN"
            tmp_left && hl_fail "$name: kill at $n: a temporary file remains"
        else
            checks "$name: kill at $n" "$O/sink" "$HL_T/old" "$w" "${KINDV[@]}"
            advance
        fi
        n=$((n + 1))
        [ $n -le $MAXN ] || { hl_fail "$name: more than $MAXN checkpoints"; break; }
    done
    hl_say "$name: $((n - 1)) kill points swept"
    SWEPT+=("$name=$((n - 1))")
}

advance() { # the sink becomes the current secret (and, for create-swap-delete, its id the id)
    cp "$O/sink" "$HL_T/cur.next" && mv "$HL_T/cur.next" "$HL_T/cur" && CUR=$HL_T/cur
    if [ -n "${NEWID_FN:-}" ]; then
        ID=$($NEWID_FN) || hl_fail "no token holds the sink's client id"
    fi
}
SWEPT=()

hl_state_get "$HL_T/st0.json"
NTOK=$(hl_json_get "$HL_T/st0.json" "len(d['tokens'])")
NST=$(hl_json_get "$HL_T/st0.json" "len(d['service_tokens'])")
NOORPHAN="len(d['tokens'])==$NTOK and len(d['service_tokens'])==$NST"

# ---- user token, in place --------------------------------------------------------------------------
ID=$CFEMU_TOKEN_PAGES_DEPLOY_ID CUR=$F/pages.0 SINKFMT=raw
KINDV=(--kind "$KU")
sweep user-token 3 --kind "$KU" "${MG[@]}" "${V[@]}"

# ---- account token, in place -----------------------------------------------------------------------
ID=$CFEMU_TOKEN_CI_READONLY_ID CUR=$F/ci.0
KINDV=(--kind "$KA" "${A[@]}")
sweep account-token 3 --kind "$KA" "${A[@]}" "${MG[@]}" "${V[@]}"

# ---- service token, strategy rotate with a grace overlap, then rotate --finish -----------------------
ID=$CFEMU_ST_CONSOLE_PROBE_ID CUR=$F/console.0 SINKFMT=dotenv
KINDV=(--kind "$KS" "${A[@]}" --probe-url "$PROBE_CONSOLE")
sweep st-grace 03 "${KINDV[@]}" --strategy rotate --grace 300 "${MG[@]}" "${V[@]}"

# --finish: each case opens an overlap first (uninterrupted), then the finish is killed.
n=1
while :; do
    rm -rf "$O" "$J" && mkdir -p "$O"
    cp "$CUR" "$HL_T/old"
    hl_run "fin-$n-open" rotate "${KINDV[@]}" --id "$ID" --strategy rotate --grace 300 "${MG[@]}" \
        --secret-file "$HL_T/old" --out "$O/sink" "${V[@]}"
    [ "$HL_RC" = 0 ] || { hl_fail "st-finish: opening the overlap failed ($HL_RC)"; hl_show_last; break; }
    kp "$n" rotate --finish "${KINDV[@]}" --id "$ID" --strategy rotate "${MG[@]}" \
        --secret-file "$HL_T/old" --journal "$J" "${V[@]}"
    TOTAL=$((TOTAL + 1))
    done_=0
    if [ "$KP_RC" != 137 ]; then
        [ "$KP_RC" = 0 ] || { hl_fail "st-finish: --finish without a kill at $n ended $KP_RC"; hl_show "$HL_T/kp.err"; }
        done_=1
    else
        kp "$n" resume "${MG[@]}" --secret-file "$HL_T/old" --journal "$J" "${V[@]}"
        hl_run "fin-$n-resume" resume "${MG[@]}" --secret-file "$HL_T/old" --journal "$J" "${V[@]}"
        TOTAL=$((TOTAL + 2))
        [ "$HL_RC" = 0 ] || { hl_fail "st-finish: kill at $n: resume ended $HL_RC"; hl_show_last; }
    fi
    checks "st-finish: kill at $n" "$O/sink" "$HL_T/old" 3 "${KINDV[@]}"
    advance
    [ $done_ = 1 ] && break
    n=$((n + 1))
    [ $n -le $MAXN ] || { hl_fail "st-finish: more than $MAXN checkpoints"; break; }
done
hl_say "st-finish: $((n - 1)) kill points swept"
SWEPT+=("st-finish=$((n - 1))")

# ---- service token, strategy rotate with --grace 0 ---------------------------------------------------
ID=$CFEMU_ST_VAULT_PROBE_ID CUR=$F/vault.0
KINDV=(--kind "$KS" "${A[@]}" --probe-url "$PROBE_VAULT")
sweep st-nograce 3 "${KINDV[@]}" --strategy rotate --grace 0 "${MG[@]}" "${V[@]}"

# ---- zone service token, create-swap-delete --grace 0 -------------------------------------------------
csd_id() { # the id of the token whose client id the sink holds
    local c
    c=$(sed -n 's/^CF_ACCESS_CLIENT_ID=//p' "$CUR")
    hl_state_get "$HL_T/csd.json" >/dev/null &&
        hl_json_get "$HL_T/csd.json" "[t['id'] for t in d['service_tokens'] if t['client_id']=='$c'][0]"
}
ID=$CFEMU_ST_EDGE_PROBE_ID CUR=$F/edge.0 NEWID_FN=csd_id
KINDV=(--kind "$KS" "${Z[@]}" --probe-url "$PROBE_EDGE")
sweep create-swap-delete gone "${KINDV[@]}" --strategy create-swap-delete --grace 0 "${MG[@]}" "${V[@]}"

hl_say "crash sweep: ${SWEPT[*]}; $TOTAL killpoint-build runs"
hl_no_secrets "no secret in any captured stdout/stderr" "$HL_T"/cap/*
hl_done
