#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_secret_files.sh - files that hold secrets (--token-file, --secret-file) are refused when
# someone else could read or change them (issue 9, docs/rotp-harness.md "Credentials"):
#  - readable or writable by the group or by others (0644, 0640, 0604, 0660, 0666, 0620): exit 2,
#    before any request, with the reason and the fix `chmod 600 FILE` in the message;
#  - owned by another user (run as root: chown 65534): refused, `chown` in the fix;
#  - not a regular file or a pipe (a directory): refused;
#  - accepted: 0600, 0400, a pipe (`--token-file <(...)`), a symlink to a 0600 file;
#  - --allow-unsafe-secret-files accepts a shared file, for the rare case that needs one.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/harness_lib.sh"
hl_init
hl_cfemu_start
S=$HL_T/sf
mkdir -m 700 "$S"
VERIFY_U=(verify --kind "$KU")

# ---- the management token file ------------------------------------------------------------------
for mode in 644 640 604 660 666 620 602; do
    cp "$F/mgmt.tok" "$S/mgmt.$mode"
    chmod "$mode" "$S/mgmt.$mode"
    hl_log_reset
    hl_run "token-$mode" "${VERIFY_U[@]}" --token-file "$S/mgmt.$mode" --secret-file "$F/pages.0"
    hl_expect_rc 2 "--token-file with mode $mode is refused"
    hl_check "mode $mode: the message gives the reason and the fix 'chmod 600 FILE'" \
        bash -c 'grep -q "read or written by" "$1" && grep -qF "chmod 600 $2" "$1" &&
                 grep -q -- "--allow-unsafe-secret-files" "$1"' _ "$HL_ERR" "$S/mgmt.$mode"
    log_check "mode $mode: nothing reached cfemu" "len(L)==0"
done
hl_run token-override "${VERIFY_U[@]}" --token-file "$S/mgmt.644" --secret-file "$F/pages.0" \
    --allow-unsafe-secret-files
hl_expect_rc 0 "--allow-unsafe-secret-files accepts a 0644 token file"
cp "$F/mgmt.tok" "$S/mgmt.400"
chmod 400 "$S/mgmt.400"
hl_run token-400 "${VERIFY_U[@]}" --token-file "$S/mgmt.400" --secret-file "$F/pages.0"
hl_expect_rc 0 "a 0400 token file is accepted"
hl_run token-600 "${VERIFY_U[@]}" --token-file "$F/mgmt.tok" --secret-file "$F/pages.0"
hl_expect_rc 0 "a 0600 token file is accepted"
hl_run token-pipe "${VERIFY_U[@]}" --token-file <(cat "$F/mgmt.tok") --secret-file "$F/pages.0"
hl_expect_rc 0 "a pipe (--token-file <(...)) is accepted"
ln -s "$F/mgmt.tok" "$S/mgmt.link"
hl_run token-link "${VERIFY_U[@]}" --token-file "$S/mgmt.link" --secret-file "$F/pages.0"
hl_expect_rc 0 "a symlink to a 0600 file is accepted (the file it leads to is checked)"
ln -s "$S/mgmt.644" "$S/mgmt.link644"
hl_run token-link644 "${VERIFY_U[@]}" --token-file "$S/mgmt.link644" --secret-file "$F/pages.0"
hl_expect_rc 2 "a symlink to a 0644 file is refused"
hl_run token-dir "${VERIFY_U[@]}" --token-file "$S" --secret-file "$F/pages.0"
hl_expect_rc 2 "a directory as --token-file is refused"
if [ "$(id -u)" = 0 ]; then
    cp "$F/mgmt.tok" "$S/mgmt.other"
    chmod 600 "$S/mgmt.other"
    chown 65534 "$S/mgmt.other"
    hl_run token-other "${VERIFY_U[@]}" --token-file "$S/mgmt.other" --secret-file "$F/pages.0"
    hl_expect_rc 2 "a token file owned by another user is refused"
    hl_check "the message says so and suggests chown" \
        bash -c 'grep -q "owned by another user" "$1" && grep -q "chown" "$1"' _ "$HL_ERR"
else
    hl_say "note: not root: the other-owner case needs chown and is not run"
fi

# ---- the secret file ------------------------------------------------------------------------------
cp "$F/pages.0" "$S/pages.644"
chmod 644 "$S/pages.644"
hl_run secret-644 "${VERIFY_U[@]}" "${MG[@]}" --secret-file "$S/pages.644"
hl_expect_rc 2 "--secret-file with mode 644 is refused"
hl_check "the message names the file and says chmod 600" grep -qF "chmod 600 $S/pages.644" "$HL_ERR"
hl_run secret-override "${VERIFY_U[@]}" "${MG[@]}" --secret-file "$S/pages.644" --allow-unsafe-secret-files
hl_expect_rc 0 "--allow-unsafe-secret-files accepts it"
hl_run rotate-644 rotate --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" "${MG[@]}" \
    --secret-file "$S/pages.644" --out "$F/never.out"
hl_expect_rc 2 "rotate with a 0644 --secret-file is refused before anything changes"
hl_check "no sink was written" test ! -e "$F/never.out"

hl_no_secrets "no secret in any captured stdout/stderr" "$HL_T"/cap/*
hl_done
