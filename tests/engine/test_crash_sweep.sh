#!/bin/bash
# SPDX-License-Identifier: MIT
# test_crash_sweep.sh - issue 14.4: rotp-harness-killpoints kills itself (SIGKILL) at the Nth
# checkpoint -- every provider send, journal write, and the sink's write, fsync and rename -- of
# `rotate`, for every N and every strategy of the file provider (in-place, overlap, replace),
# then `resume` is killed at its Nth checkpoint too, then a last `resume` finishes. After each:
# the sink holds a secret that works, the old one is dead (or in its overlap), no orphan key is
# left, and no temporary file remains beside the sink. Fails (exit 1) on any broken check.
set -u
H=${ROTP_HARNESS:?}
K=${ROTP_HARNESS_KILLPOINTS:?}
P=${ROTP_FILEPROV:?}
T=$(mktemp -d /tmp/rotp-crash.XXXXXX)
chmod 700 "$T"
trap 'rm -rf "$T"' EXIT
fails=0 runs=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

S=$T/store
mkdir -p "$S/v1" && chmod 700 "$S"
echo "admin-$RANDOM$RANDOM" >"$S/admin"
export FILEPROV_ADMIN_TOKEN; FILEPROV_ADMIN_TOKEN=$(cat "$S/admin")
export FILEPROV_STORE=$S FILEPROV_VAULT=v1

fresh() { # a store with key k1 holding value 1, the sink and journal gone
    rm -f "$S"/v1/* "$T"/out/.* "$T"/out/* "$T/journal" 2>/dev/null
    mkdir -p "$T/out"
    printf 'name=app\nvalue=%064d\nprev=\nprev_until=0\n' 1 >"$S/v1/k1"
    printf '%064d\n' 1 >"$T/cur" && chmod 600 "$T/cur"
}

common=(--plugin "$P" --kind fileprov.key --secret-file "$T/cur" --out "$T/out/app.env"
        --secret-name APP --journal "$T/journal" --verify-tries 2 --verify-delay-ms 1)

check_state() { # TAG STRATEGY
    local tag=$1 strat=$2 id nkeys
    id=$(sed -n 's/^APP__KEY_ID=//p' "$T/out/app.env" 2>/dev/null)
    if [ -z "$id" ]; then bad "$tag: no sink"; return; fi
    "$H" verify --plugin "$P" --kind fileprov.key --id "$id" --secret-file "$T/out/app.env" \
        --secret-name APP >/dev/null 2>&1 || bad "$tag: the sink's secret does not work"
    "$H" verify --plugin "$P" --kind fileprov.key --id k1 --secret-file "$T/cur" >/dev/null 2>&1
    local old=$?
    case $strat in
    in-place) [ $old = 3 ] || bad "$tag: the old secret still works ($old)" ;;
    *) [ $old = 0 ] || [ $old = 3 ] || bad "$tag: verifying the old secret failed ($old)" ;;
    esac
    nkeys=$(ls "$S/v1" | grep -v '\.tmp$' | wc -l)
    if [ "$strat" = replace ]; then
        for f in "$S"/v1/*; do
            b=$(basename "$f")
            [ "$b" = k1 ] || [ "$b" = "$id" ] || bad "$tag: orphan key $b"
        done
    else
        [ "$nkeys" = 1 ] || bad "$tag: $nkeys keys in the vault"
    fi
    ls -a "$T/out" | grep -q '\.rotp-' && bad "$tag: a temporary file remains: $(ls -a "$T/out")"
    return 0
}

for strat in in-place overlap replace; do
    extra=(--strategy "$strat")
    [ "$strat" = in-place ] && extra=()
    n=1
    while :; do
        fresh
        { (ROTP_HARNESS_KILL_AT=$n exec "$K" rotate --id k1 "${common[@]}" "${extra[@]}" >/dev/null 2>&1); } 2>/dev/null
        rc=$?
        runs=$((runs + 1))
        if [ $rc != 137 ]; then
            [ $rc = 0 ] || bad "$strat: rotate without a kill at $n ended $rc"
            check_state "$strat: uninterrupted" "$strat"
            break
        fi
        # resume, itself killed at its Nth checkpoint, then a resume that finishes
        { (ROTP_HARNESS_KILL_AT=$n exec "$K" resume "${common[@]}" >/dev/null 2>&1); } 2>/dev/null
        "$H" resume "${common[@]}" >"$T/resume.out" 2>&1
        rc=$?
        runs=$((runs + 2))
        if [ $rc != 0 ]; then
            bad "$strat: kill at $n: resume ended $rc"
            sed 's/^/    | /' "$T/resume.out" | head -20
        else
            check_state "$strat: kill at $n" "$strat"
        fi
        n=$((n + 1))
        [ $n -le 40 ] || { bad "$strat: more than 40 checkpoints"; break; }
    done
    echo "$strat: $((n - 1)) kill points swept"
done
echo "crash sweep: $runs runs, $fails failure(s)"
[ "$fails" = 0 ]
