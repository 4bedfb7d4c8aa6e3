#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_harness_link.sh - rotp-harness hashes the provider with the crypto library already in the
# process (issue 13 item 5): it needs libcrypto (OpenSSL, which libcurl loads anyway) and libcurl
# (for the wiping allocators, harness/harden.c) and is not linked with GnuTLS; its SHA-256 of the
# provider is the one sha256sum computes.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/harness_lib.sh"
hl_init
NEEDED=$HL_T/needed
readelf -d "$ROTP_HARNESS" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' >"$NEEDED"
hl_check "rotp-harness has DT_NEEDED entries to look at" test -s "$NEEDED"
hl_check "rotp-harness is not linked with GnuTLS" bash -c '! grep -q "^libgnutls" "$1"' _ "$NEEDED"
hl_check "rotp-harness is linked with OpenSSL's libcrypto" grep -q "^libcrypto\.so" "$NEEDED"
hl_check "rotp-harness is linked with libcurl" grep -q "^libcurl\.so" "$NEEDED"
SUM=$(sha256sum "$ROTP_PLUGIN" | cut -c1-64)
hl_run_raw info info --plugin "$ROTP_PLUGIN" --json
hl_expect_rc 0 "info --json"
hl_json_check "$HL_OUT" "the harness's SHA-256 of the provider is sha256sum's" "d['sha256']=='$SUM'"
hl_done
