#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_exec_fds.sh - an --exec command inherits stdin, stdout and stderr only (issue 9,
# docs/rotp-harness.md "Sinks"): the harness holds libcurl's connections to the API (with the
# management token's TLS session), libcurl's internal socket pair and the sealed provider copy
# when the sink runs; the command's shell lists its own /proc/$$/fd and must see 0, 1 and 2.
# Checked for a rotation of an API token and of a service token (whose probe opened one more
# connection), and for roll.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/harness_lib.sh"
hl_init
hl_cfemu_start
V=(--verify-delay-ms 100)

# The sink: reads the secret, then the shell becomes ls (exec, so the shell saves no descriptor
# for the redirection) and ls lists what it inherited, plus the directory it opened to do so
# (left out below).
sink() { # FILE
    printf 'cat >/dev/null; exec ls -l /proc/self/fd/ >%q 2>&1' "$1"
}

fds_are_012() { # FILE DESC
    local got
    got=$(awk '$(NF-1) == "->" && $NF !~ "^/proc/[0-9]+/fd$" {print $(NF-2)}' "$1" | sort -n |
        tr '\n' ' ')
    if [ "$got" = "0 1 2 " ]; then
        hl_pass "$2: the command had descriptors 0 1 2 only"
    else
        hl_fail "$2: the command had descriptors: $got"
        sed 's/^/    /' "$1"
    fi
}

hl_run rotate-user rotate --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" \
    --secret-file "$F/pages.0" --out "$F/pages.1" --exec "$(sink "$HL_T/fds.user")" "${V[@]}"
hl_expect_rc 0 "rotate a user token with --exec"
hl_out_secrets "$F/pages.1" raw
fds_are_012 "$HL_T/fds.user" "rotate (user token)"

hl_run rotate-st rotate --kind "$KS" --account "$ACC" --id "$CFEMU_ST_CONSOLE_PROBE_ID" "${MG[@]}" \
    --secret-file "$F/console.0" --probe-url "$PROBE_CONSOLE" --grace 0 --out "$F/console.1" \
    --exec "$(sink "$HL_T/fds.st")" "${V[@]}"
hl_expect_rc 0 "rotate a service token with --exec"
hl_out_secrets "$F/console.1" dotenv
fds_are_012 "$HL_T/fds.st" "rotate (service token)"

hl_run roll-acct roll --kind "$KA" --account "$ACC" --id "$CFEMU_TOKEN_CI_READONLY_ID" "${MG[@]}" \
    --out "$F/ci.1" --exec "$(sink "$HL_T/fds.roll")"
hl_expect_rc 0 "roll an account token with --exec"
hl_out_secrets "$F/ci.1" raw
fds_are_012 "$HL_T/fds.roll" "roll (account token)"

hl_no_secrets "no secret in any captured stdout/stderr" "$HL_T"/cap/*
hl_done
