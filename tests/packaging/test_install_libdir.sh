#!/bin/bash
# SPDX-License-Identifier: MIT
# test_install_libdir.sh - an install with a libdir other than lib (Debian's multiarch style,
# lib/x86_64-linux-gnu), put under DESTDIR and then moved elsewhere: the harness finds
# ${libdir}/rotp/cloudflare.so relative to itself through the configured relative libdir, and
# rotp.pc and the CMake package land in that libdir. A separate small build of this source tree
# (provider and harness only, without sanitizers even in the sanitizer build: it checks the
# layout, and a plain build is several times quicker).
# Env: ROTP_SOURCE_DIR, ROTP_CMAKE.
set -u
set -o pipefail

fails=0
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "FAIL: $what"
        fails=$((fails + 1))
    fi
}
: "${ROTP_SOURCE_DIR:?}"
cmake=${ROTP_CMAKE:-cmake}
t=$(mktemp -d "${TMPDIR:-/tmp}/rotp-libdir.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT
libdir=lib/x86_64-odd-gnu

if ! "$cmake" -S "$ROTP_SOURCE_DIR" -B "$t/b" -DROTP_BUILD_TESTS=OFF -DROTP_BUILD_CFEMU=OFF \
    -DROTP_BUILD_STATIC_PROVIDER=OFF -DCMAKE_BUILD_TYPE=Debug -DCMAKE_INSTALL_PREFIX=/opt/rotp \
    -DCMAKE_INSTALL_LIBDIR="$libdir" >"$t/log" 2>&1 ||
    ! "$cmake" --build "$t/b" -j2 >>"$t/log" 2>&1 ||
    ! DESTDIR="$t/dest" "$cmake" --install "$t/b" >>"$t/log" 2>&1; then
    echo "FAIL: configure, build or install"
    tail -40 "$t/log"
    exit 1
fi
check "the provider is in \${libdir}/rotp" test -f "$t/dest/opt/rotp/$libdir/rotp/cloudflare.so"
check "rotp.pc is in \${libdir}/pkgconfig" test -f "$t/dest/opt/rotp/$libdir/pkgconfig/rotp.pc"
check "the CMake package is in \${libdir}/cmake/rotp" \
    test -f "$t/dest/opt/rotp/$libdir/cmake/rotp/rotpConfig.cmake"

# Moved away from both DESTDIR and the configured prefix: only the relative path can find it.
mv "$t/dest/opt/rotp" "$t/moved"
"$t/moved/bin/rotp-harness" info >"$t/info.out" 2>"$t/info.err"
rc=$?
check "rotp-harness info exits 0 from the moved tree (got $rc)" test "$rc" -eq 0
check "it loaded $libdir/rotp/cloudflare.so relative to itself" \
    grep -qx "path: $t/moved/$libdir/rotp/cloudflare.so" "$t/info.out"
[ "$rc" -eq 0 ] || cat "$t/info.err"
pcprov=$(PKG_CONFIG_PATH="$t/moved/$libdir/pkgconfig" pkg-config --variable=provider rotp)
check "rotp.pc's provider variable points into the moved tree" test -f "$pcprov"

echo "$fails failed"
[ "$fails" -eq 0 ]
