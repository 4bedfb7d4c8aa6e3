#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_plugin_pin.sh - the --sha256 pin means what it says, and a provider that someone else could
# have written is refused (issue 9, docs/rotp-harness.md "Loading and pinning").
#
#  - A pinned rotation keeps running the bytes it hashed: the --exec sink overwrites the provider
#    file with zeros in place, half-way through the rotation; the verification and revocation
#    calls that follow still run the loaded copy (a shared mapping of the file would execute the
#    zeros and crash).
#  - A provider file writable by its group or by others, or owned by another user, and a
#    directory on its path (as given, or resolved through a symlink) that others can write and
#    that is not sticky, are refused (exit 10) with the reason, the directory or file, and the fix
#    (chmod go-w, --allow-unsafe-plugin); --allow-unsafe-plugin accepts them; a sticky directory
#    such as /tmp is fine.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/harness_lib.sh"
hl_init
hl_cfemu_start
V=(--verify-delay-ms 100)
P=$HL_T/plug
mkdir -m 700 "$P"
install -m 755 "$ROTP_PLUGIN" "$P/cloudflare.so"
SUM=$(sha256sum "$P/cloudflare.so" | cut -c1-64)
SIZE=$(stat -c %s "$P/cloudflare.so")

# hl_run appends --plugin "$ROTP_PLUGIN"; these runs name their own.
run_with() { # NAME PLUGIN ARGS...
    local name=$1 plugin=$2
    shift 2
    hl_run_raw "$name" "$@" --plugin "$plugin" --api-base "$HL_API" --ca-file "$HL_CA"
}

# ---- the bytes that were hashed are the bytes that run ------------------------------------------
ZERO="cat >/dev/null; dd if=/dev/zero of='$P/cloudflare.so' bs=$SIZE count=1 conv=notrunc status=none"
run_with pinned-overwrite "$P/cloudflare.so" rotate --kind "$KU" --id "$CFEMU_TOKEN_PAGES_DEPLOY_ID" \
    "${MG[@]}" --secret-file "$F/pages.0" --out "$F/pages.1" --exec "$ZERO" --sha256 "$SUM" "${V[@]}"
hl_expect_rc 0 "a pinned rotation finishes after its provider file was overwritten with zeros"
hl_out_secrets "$F/pages.1" raw
hl_check "the --exec sink did overwrite the file (its hash changed)" \
    test "$(sha256sum "$P/cloudflare.so" | cut -c1-64)" != "$SUM"
hl_check "the steps after the sink ran (the old value was confirmed dead)" \
    grep -qi "old.*\(rejected\|dead\|invalid\)" "$HL_OUT"
run_with zeroed-refused "$P/cloudflare.so" info --sha256 "$SUM"
hl_expect_rc 10 "the zeroed file itself no longer matches the pin"
install -m 755 "$ROTP_PLUGIN" "$P/cloudflare.so"

# ---- files others could write -------------------------------------------------------------------
for mode in 666 664 775 757; do
    chmod "$mode" "$P/cloudflare.so"
    run_with "file-$mode" "$P/cloudflare.so" info
    hl_expect_rc 10 "a provider file with mode $mode is refused"
    hl_check "mode $mode: the message names the reason, the file and the fixes" \
        bash -c 'grep -q "writable by \(its group\|others\)" "$1" && grep -qF "$2" "$1" &&
                 grep -q "chmod go-w" "$1" && grep -q -- "--allow-unsafe-plugin" "$1"' _ \
        "$HL_ERR" "$P/cloudflare.so"
    hl_check "mode $mode: nothing on stdout" test ! -s "$HL_OUT"
done
chmod 666 "$P/cloudflare.so"
run_with file-override "$P/cloudflare.so" info --allow-unsafe-plugin --sha256 "$SUM"
hl_expect_rc 0 "--allow-unsafe-plugin accepts a world-writable provider (and the pin still holds)"
chmod 755 "$P/cloudflare.so"
run_with file-755 "$P/cloudflare.so" info --sha256 "$SUM"
hl_expect_rc 0 "mode 755 in a 0700 directory is accepted"
chmod 700 "$P/cloudflare.so"
run_with file-700 "$P/cloudflare.so" info
hl_expect_rc 0 "mode 700 is accepted"
chmod 755 "$P/cloudflare.so"

if [ "$(id -u)" = 0 ]; then
    cp -p "$P/cloudflare.so" "$P/other.so"
    chown 65534 "$P/other.so"
    run_with file-other-owner "$P/other.so" info
    hl_expect_rc 10 "a provider owned by another user (uid 65534) is refused"
    hl_check "the message says it is owned by another user" grep -q "owned by another user" "$HL_ERR"
    run_with file-other-owner-ok "$P/other.so" info --allow-unsafe-plugin
    hl_expect_rc 0 "--allow-unsafe-plugin accepts it"
else
    hl_say "note: not root: the other-owner case needs chown and is not run"
fi

# ---- directories on the path ---------------------------------------------------------------------
W=$HL_T/shared
mkdir -m 700 "$W"
chmod 777 "$W"
mkdir -m 755 "$W/lib"
install -m 755 "$ROTP_PLUGIN" "$W/lib/cloudflare.so"
run_with dir-777 "$W/lib/cloudflare.so" info
hl_expect_rc 10 "a provider below a world-writable, non-sticky directory is refused"
hl_check "the message names the directory and the reason" \
    bash -c 'grep -qF "directory $2 on its path is writable by others" "$1"' _ "$HL_ERR" "$W"
run_with dir-777-override "$W/lib/cloudflare.so" info --allow-unsafe-plugin
hl_expect_rc 0 "--allow-unsafe-plugin accepts it"
chmod 775 "$W"
run_with dir-775 "$W/lib/cloudflare.so" info
hl_expect_rc 10 "a group-writable directory on the path is refused"
hl_check "the message says group" grep -q "writable by its group" "$HL_ERR"
chmod 1777 "$W"
run_with dir-sticky "$W/lib/cloudflare.so" info
hl_expect_rc 0 "a sticky world-writable directory (like /tmp) on the path is accepted"
pushd "$W/lib" >/dev/null
run_with dir-relative ./cloudflare.so info
hl_expect_rc 0 "a relative path below a sticky directory is accepted"
chmod 777 "$W"
run_with dir-relative-777 ./cloudflare.so info
hl_expect_rc 10 "a relative path is checked from / down as well"
popd >/dev/null

# A symlink to a safe copy, placed in a directory others can write: they could point it elsewhere.
ln -s "$P/cloudflare.so" "$W/link.so"
run_with link-in-777 "$W/link.so" info
hl_expect_rc 10 "a symlink in a world-writable directory is refused, though its target is safe"
# A safe symlink to a provider that sits below a writable directory: the resolved path counts.
ln -s "$W/lib/cloudflare.so" "$P/via-link.so"
run_with link-to-777 "$P/via-link.so" info
hl_expect_rc 10 "a safe symlink to a provider below a writable directory is refused"
chmod 755 "$W"
run_with link-ok "$P/via-link.so" info
hl_expect_rc 0 "the same symlink once the directory is 0755"

hl_no_secrets "no secret in any captured stdout/stderr" "$HL_T"/cap/*
hl_done
