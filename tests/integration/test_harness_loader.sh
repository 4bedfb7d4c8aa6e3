#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_harness_loader.sh - rotp-harness loading and pinning a provider (issue 6 "Loading",
# docs/rotp-harness.md): --sha256 with the right hash accepted and a wrong one refused (exit 10,
# before any request is sent); a provider for an unknown ABI major refused (a .so exporting only
# rotp_provider_entry_v2; a v1 entry whose table says abi_major 2; a table smaller than ABI
# 1.0's); a file that is not a shared object and a missing file refused; the default plugin is
# the cloudflare.so beside the executable.
#
# The fake providers come from tests/integration/fixtures.cmake through ROTP_FAKE_PROVIDER_V2,
# ROTP_FAKE_PROVIDER_MAJOR2 and ROTP_FAKE_PROVIDER_SMALL, which ctest sets.
. "$(dirname "${BASH_SOURCE[0]}")/harness_lib.sh"
hl_init
hl_cfemu_start

fake() { # VAR: the path CMake put in the environment
    local var=$1
    if [ -z "${!var:-}" ] || [ ! -f "${!var}" ]; then
        hl_say "FAIL: $var is not set to a built fake provider (run through ctest)" >&2
        return 1
    fi
    printf '%s' "${!var}"
}
FAKE_V2=$(fake ROTP_FAKE_PROVIDER_V2) || hl_fail "fake provider v2"
FAKE_MAJOR2=$(fake ROTP_FAKE_PROVIDER_MAJOR2) || hl_fail "fake provider major2"
FAKE_SMALL=$(fake ROTP_FAKE_PROVIDER_SMALL) || hl_fail "fake provider small"
hl_check "the v2-only fake exports rotp_provider_entry_v2 and not v1" \
    bash -c 'nm -D --defined-only "$1" | grep -q " rotp_provider_entry_v2$" && ! nm -D --defined-only "$1" | grep -q rotp_provider_entry_v1' _ "$FAKE_V2"

GOOD=$(sha256sum "$ROTP_PLUGIN" | cut -c1-64)
BAD=$(printf '%s' "$GOOD" | tr '0-9a-f' '1-9a-f0')

# ---- --sha256 ---------------------------------------------------------------------------------
hl_run_raw sha-good info --plugin "$ROTP_PLUGIN" --sha256 "$GOOD" --json
hl_expect_rc 0 "--sha256 with the file's hash (sha256sum) is accepted"
hl_json_check "$HL_OUT" "info reports the pinned hash" "d['ok'] and d['sha256']=='$GOOD'"
hl_run_raw sha-bad info --plugin "$ROTP_PLUGIN" --sha256 "$BAD"
hl_expect_rc 10 "--sha256 mismatch is refused"
hl_check "the refusal says the hash differs" grep -qi 'sha-\?256' "$HL_ERR"
hl_check "a refused provider prints nothing on stdout" test ! -s "$HL_OUT"
hl_run_raw sha-bad-json info --plugin "$ROTP_PLUGIN" --sha256 "$BAD" --json
hl_expect_rc 10 "--sha256 mismatch is refused (--json)"
hl_json_check "$HL_OUT" "--json load failure parses" "d['ok'] is False and d['exit_code']==10"
hl_run_raw sha-upper info --plugin "$ROTP_PLUGIN" --sha256 "$(printf '%s' "$GOOD" | tr a-f A-F)"
if [ "$HL_RC" = 0 ] || [ "$HL_RC" = 2 ]; then hl_pass "--sha256 in upper case: accepted or a usage error (exit $HL_RC)"; else hl_fail "--sha256 in upper case: exit $HL_RC"; fi
hl_run_raw sha-short info --plugin "$ROTP_PLUGIN" --sha256 abc123
hl_expect_rc_not 0 "--sha256 that is not 64 hex digits is not accepted"

# A mismatch stops before anything reaches the API.
hl_log_reset
hl_run sha-bad-rotate rotate --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" \
    --secret-file "$F/pages.0" --out "$F/never.out" --sha256 "$BAD"
hl_expect_rc 10 "rotate with a wrong --sha256 is refused"
hl_check "no sink was written" test ! -e "$F/never.out"
log_check "no request reached cfemu" "len(L)==0"
hl_run sha-good-describe describe --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" --sha256 "$GOOD"
hl_expect_rc 0 "describe with the right --sha256 works"

# A file that changes after its hash was taken: a copy, pinned, then altered.
cp "$ROTP_PLUGIN" "$HL_T/copy.so"
COPYSUM=$(sha256sum "$HL_T/copy.so" | cut -c1-64)
printf 'x' >>"$HL_T/copy.so"
hl_run_raw sha-altered info --plugin "$HL_T/copy.so" --sha256 "$COPYSUM"
hl_expect_rc 10 "a provider altered after pinning is refused"

# ---- unknown ABI major / bad tables -----------------------------------------------------------------
if [ -n "$FAKE_V2" ]; then
    hl_run_raw abi-v2 info --plugin "$FAKE_V2"
    hl_expect_rc 10 "a provider exporting only rotp_provider_entry_v2 is refused"
    hl_check "the message says it is not an ABI v1 provider and names major 2" \
        bash -c 'grep -qi "v1" "$1" && grep -q "2" "$1"' _ "$HL_ERR"
    hl_check "nothing on stdout for a refused provider" test ! -s "$HL_OUT"
    hl_run_raw abi-v2-sha info --plugin "$FAKE_V2" --sha256 "$(sha256sum "$FAKE_V2" | cut -c1-64)"
    hl_expect_rc 10 "a v2-only provider with a matching --sha256 is still refused"
    hl_run_raw abi-v2-describe describe --kind fake.kind "${MG[@]}" --plugin "$FAKE_V2" --api-base "$HL_API" --ca-file "$HL_CA"
    hl_expect_rc 10 "describe through a v2-only provider is refused"
fi
if [ -n "$FAKE_MAJOR2" ]; then
    hl_run_raw abi-major2 info --plugin "$FAKE_MAJOR2"
    hl_expect_rc 10 "a v1 entry returning abi_major 2 is refused"
    hl_check "the message names the major" grep -q "2" "$HL_ERR"
    hl_run_raw abi-major2-json info --plugin "$FAKE_MAJOR2" --json
    hl_expect_rc 10 "abi_major 2 refused (--json)"
    hl_json_check "$HL_OUT" "abi_major 2: --json failure parses" "d['ok'] is False and d['exit_code']==10"
fi
if [ -n "$FAKE_SMALL" ]; then
    hl_run_raw abi-small info --plugin "$FAKE_SMALL"
    hl_expect_rc 10 "a table smaller than ABI 1.0's is refused"
fi

# ---- files that are not providers ------------------------------------------------------------------
printf 'not an ELF file\n' >"$HL_T/text.so"
hl_run_raw not-elf info --plugin "$HL_T/text.so"
hl_expect_rc 10 "a text file is refused"
hl_run_raw missing info --plugin "$HL_T/nope.so"
hl_expect_rc 10 "a missing file is refused"
OTHER_SO=$(ldd "$ROTP_PLUGIN" | awk '/libcurl/ {print $3; exit}')
hl_run_raw no-entry info --plugin "${OTHER_SO:-/nonexistent}"
hl_expect_rc 10 "a shared object without the entry symbol is refused"

# ---- the default plugin: cloudflare.so beside the executable ---------------------------------------
if [ "$(dirname "$ROTP_HARNESS")" = "$(dirname "$ROTP_PLUGIN")" ]; then
    hl_run_raw default-plugin info --json
    hl_expect_rc 0 "info without --plugin loads the cloudflare.so beside rotp-harness"
    hl_json_check "$HL_OUT" "the default plugin is the one beside it" \
        "d['ok'] and d['provider']['name']=='cloudflare' and d['sha256']=='$GOOD'"
fi

hl_no_secrets "no secret in any captured stdout/stderr" "$HL_T"/cap/*
hl_done
