#!/bin/bash
# SPDX-License-Identifier: MIT
# test_deb.sh - the .deb as a user gets it: cpack builds it from this build tree, its control data
# names the package, the project version and the shared-library dependencies dpkg-shlibdeps found,
# then `dpkg-deb -x` unpacks it into a temporary root (no dpkg -i, nothing outside the root) and
# rotp-harness runs from there: --version agrees with the package, `info` finds the provider
# relative to itself, `demo` finds cfemu beside itself, pkg-config reads rotp.pc, and with the
# provider gone the error lists every place the harness looked.
# Env: ROTP_BUILD_DIR (the build tree), ROTP_CPACK (cpack), ROTP_VERSION (project version).
set -u
set -o pipefail

fails=0
check() { # check DESCRIPTION COMMAND...: one line per check, failures counted
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "FAIL: $what"
        fails=$((fails + 1))
    fi
}

for tool in dpkg-deb dpkg-shlibdeps pkg-config; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool not found (Debian's dpkg-dev, pkg-config)"
        [ "${CI:-}" = "true" ] && exit 1
        exit 77
    fi
done
: "${ROTP_BUILD_DIR:?}" "${ROTP_CPACK:?}" "${ROTP_VERSION:?}"

t=$(mktemp -d "${TMPDIR:-/tmp}/rotp-deb.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT

if ! "$ROTP_CPACK" -G DEB --config "$ROTP_BUILD_DIR/CPackConfig.cmake" -B "$t/pkg" \
    >"$t/cpack.log" 2>&1; then
    echo "FAIL: cpack -G DEB"
    cat "$t/cpack.log"
    exit 1
fi
deb=$(ls "$t"/pkg/*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "FAIL: cpack made no .deb"; cat "$t/cpack.log"; exit 1; }
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

field() { dpkg-deb -f "$deb" "$1"; }
check "Package is rotp-cloudflare" test "$(field Package)" = rotp-cloudflare
check "Version is the project version $ROTP_VERSION" test "$(field Version)" = "$ROTP_VERSION"
check "Maintainer is set" test -n "$(field Maintainer)"
check "Description is set" test -n "$(field Description)"
depends=$(field Depends)
echo "Depends: $depends"
for lib in libc6 libcurl4 libssl3 libmicrohttpd12 libgnutls30; do
    check "Depends names $lib" grep -Eq "(^|, )$lib( |,|$)" <<<"$depends"
done
check "the licence is in /usr/share/doc/rotp-cloudflare/copyright" \
    grep -q "usr/share/doc/rotp-cloudflare/copyright" < <(dpkg-deb -c "$deb")

root="$t/root"
dpkg-deb -x "$deb" "$root" || { echo "FAIL: dpkg-deb -x"; exit 1; }
harness="$root/usr/bin/rotp-harness"
check "rotp-harness, cfemu and cloudflare.so are unpacked" \
    test -x "$harness" -a -x "$root/usr/bin/cfemu" -a -f "$root/usr/lib/rotp/cloudflare.so"

version=$("$harness" --version 2>&1)
check "rotp-harness --version ($version) is $ROTP_VERSION" grep -qw -- "$ROTP_VERSION" <<<"$version"
for page in rotp-harness cfemu; do
    check "man page $page.1.gz (gzip, as Debian's policy asks) names version $ROTP_VERSION" \
        bash -c 'gzip -dc "$1" | grep -q "^\.TH .*\"rotp-cloudflare $2\""' _ \
        "$root/usr/share/man/man1/$page.1.gz" "$ROTP_VERSION"
done
pcver=$(PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" pkg-config --modversion rotp 2>&1)
check "pkg-config --modversion rotp ($pcver) is $ROTP_VERSION" test "$pcver" = "$ROTP_VERSION"

# From an unrelated directory: nothing may depend on the working directory.
cd "$t" || exit 1
"$harness" info >"$t/info.out" 2>"$t/info.err"
rc=$?
check "rotp-harness info exits 0 (got $rc)" test "$rc" -eq 0
check "info loaded the unpacked provider, found relative to the harness" \
    grep -qx "path: $root/usr/lib/rotp/cloudflare.so" "$t/info.out"
[ "$rc" -eq 0 ] || cat "$t/info.err"

timeout 120 "$harness" demo >"$t/demo.out" 2>"$t/demo.err"
rc=$?
check "rotp-harness demo exits 0 (got $rc)" test "$rc" -eq 0
check "demo reports PASS" grep -q "^demo: PASS" "$t/demo.out"
[ "$rc" -eq 0 ] || { tail -20 "$t/demo.out"; tail -20 "$t/demo.err"; }

mv "$root/usr/lib/rotp/cloudflare.so" "$t/moved.so"
"$harness" info >"$t/missing.out" 2>"$t/missing.err"
rc=$?
check "without the provider, info fails (rc $rc)" test "$rc" -ne 0
for place in "$root/usr/bin/cloudflare.so" "$root/usr/lib/rotp/cloudflare.so"; do
    check "the error lists $place" grep -qF "  $place" "$t/missing.err"
done
check "the error suggests --plugin" grep -qF -- "--plugin" "$t/missing.err"

echo "$fails failed"
[ "$fails" -eq 0 ]
