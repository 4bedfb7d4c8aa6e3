#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_log_queries.sh - no query string in any log line (issue 9, abi/ABI.md section 11): every
# adapter's list paths (with --name and --param search=..., paged) and the verification probes
# (a probe URL and a probe path carrying a query) at -v -v. The provider's lines must show the
# paths (so the check looks at real request lines) and never a query parameter or its value.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/harness_lib.sh"
hl_init
hl_cfemu_start
NAME=qryname7x
SEARCH=qrysearch7x
PROBEQ=qryprobe7x

# check_no_query DESC: the provider's lines of the last run show requests and no query.
check_no_query() {
    local lines=$HL_T/lines.$HL_NCAP
    grep '^rotp-harness: provider \[' "$HL_ERR" >"$lines"
    hl_check "$1: the provider logged its requests" grep -q ' GET /' "$lines"
    if grep -q -e '?[^[ ]' -e 'page=' -e 'per_page' -e 'search=' -e 'name=' -e "$SEARCH" \
        -e "$NAME" -e "$PROBEQ" "$lines"; then
        hl_fail "$1: a log line shows a query string or one of its values:"
        grep -e '?[^[ ]' -e 'page=' -e 'per_page' -e 'search=' -e 'name=' -e "$SEARCH" -e "$NAME" \
            -e "$PROBEQ" "$lines" | head -n 5 | sed 's/^/    /'
    else
        hl_pass "$1: no query string in any log line"
    fi
}

# API tokens take --name (no search); service tokens take both.
hl_run list-user list --kind "$KU" "${MG[@]}" --name "$NAME" -v -v
hl_expect_rc 0 "list user tokens with --name"
check_no_query "list user tokens"
hl_run list-user-all list --kind "$KU" "${MG[@]}" -v -v
hl_expect_rc 0 "list user tokens"
check_no_query "list user tokens (no filter)"
hl_run list-acct list --kind "$KA" --account "$ACC" "${MG[@]}" --name "$NAME" -v -v
hl_expect_rc 0 "list account tokens with --name"
check_no_query "list account tokens"
hl_run list-st list --kind "$KS" --account "$ACC" "${MG[@]}" --name "$NAME" \
    --param "search=$SEARCH" -v -v
hl_expect_rc 0 "list account service tokens with --name and search"
check_no_query "list account service tokens"
hl_run list-zst list --kind "$KS" --zone "$ZONE" "${MG[@]}" --name "$NAME" \
    --param "search=$SEARCH" -v -v
hl_expect_rc 0 "list zone service tokens with --name and search"
check_no_query "list zone service tokens"

# Probes: a service token's probe URL and an API token's probe path, each with a query.
hl_run probe-st verify --kind "$KS" --account "$ACC" "${MG[@]}" --secret-file "$F/console.0" \
    --probe-url "$PROBE_CONSOLE?check=$PROBEQ&n=1" -v -v
hl_expect_rc 0 "verify a service token with a probe URL that has a query"
check_no_query "service-token probe"
hl_run probe-user verify --kind "$KU" "${MG[@]}" --secret-file "$F/pages.0" \
    --probe-path "/user/tokens/verify?check=$PROBEQ&n=1" -v -v
hl_expect_rc 0 "verify a user token with a probe path that has a query"
check_no_query "user-token probe"

hl_no_secrets "no secret in any captured stdout/stderr" "$HL_T"/cap/*
hl_done
