#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_out_symlink.sh - what --out does to an existing symlink (issue 9, docs/rotp-harness.md
# "Sinks"): the new secret goes to a temporary file beside the link that is renamed over it, so
# the link itself is replaced by a regular 0600 file and the file it pointed to is left untouched
# (content and mode): a planted link cannot make the harness write a secret somewhere else. A
# dangling link is replaced the same way.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/harness_lib.sh"
hl_init
hl_cfemu_start
D=$HL_T/out
mkdir -m 700 "$D"
printf 'the target stays as it is\n' >"$D/target"
chmod 644 "$D/target"
ln -s "$D/target" "$D/link.env"

hl_run roll-link roll --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" --out "$D/link.env"
hl_expect_rc 0 "roll --out onto an existing symlink"
hl_out_secrets "$D/link.env" raw
hl_check "the link was replaced by a regular file" bash -c '[ -f "$1" ] && [ ! -L "$1" ]' _ "$D/link.env"
hl_expect_mode600 "$D/link.env" "the file that replaced the link"
hl_check "the link's target kept its content" \
    bash -c '[ "$(cat "$1")" = "the target stays as it is" ]' _ "$D/target"
hl_check "the link's target kept its mode 0644" test "$(hl_mode "$D/target")" = 644
hl_no_secrets "the link's target holds no secret" "$D/target"

ln -s "$D/nowhere" "$D/dangling.env"
hl_run roll-dangling roll --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" \
    --out "$D/dangling.env"
hl_expect_rc 0 "roll --out onto a dangling symlink"
hl_out_secrets "$D/dangling.env" raw
hl_check "the dangling link was replaced by a regular file" \
    bash -c '[ -f "$1" ] && [ ! -L "$1" ]' _ "$D/dangling.env"
hl_check "nothing was created where it pointed" test ! -e "$D/nowhere"

hl_no_secrets "no secret in any captured stdout/stderr" "$HL_T"/cap/*
hl_done
